import { html, raw } from "hono/html";
import { table } from "../layout.ts";

export interface ArchiveReadme {
  handle: string;
  generatedAt: string;
  counts: Record<"posts" | "messages" | "likes" | "following" | "communities" | "deliveries", number>;
  files: string[];
}

const described: Record<string, string> = {
  "README.html": "This page.",
  "actor.json": "Your profile as an ActivityPub Person (as in a Mastodon archive).",
  "outbox.json": "Every thread and reply you wrote, as ActivityPub Create activities (as in a Mastodon archive).",
  "likes.json": "The posts you liked.",
  "following_accounts.csv": "Who and which communities you follow, in Mastodon's import format.",
  "muted_accounts.csv": "People you muted, in Mastodon's import format.",
  "blocked_accounts.csv": "People you blocked, in Mastodon's import format.",
  "blocked_domains.csv": "Servers you blocked, in Mastodon's import format.",
  "direct_messages.json": "Your direct messages, sent and received.",
  "communities.json": "Your community memberships and moderator roles.",
  "account.json": "Your account: username, email, sign-up date, roles, settings and active sessions.",
  "moderation.json": "Reports you filed and moderation actions taken on your content.",
  "deliveries.json": "Which servers received which of your posts, and when.",
  "media_attachments.json": "Each image's file, address, post and description.",
};

const style = raw(
  "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}" +
    "td{padding:.25rem .75rem .25rem 0;vertical-align:top}",
);

/** The human-readable index of an export archive: a standalone page, no external resources. */
export function readmeHtml(d: ArchiveReadme): string {
  const file = (name: string) => {
    const what =
      described[name] ??
      (name.startsWith("avatar")
        ? "Your profile picture."
        : name.startsWith("media_attachments/")
          ? "An image you attached to a post or message (as in a Mastodon archive)."
          : "");
    return html`<tr><td><code>${name}</code></td><td>${what}</td></tr>`;
  };
  const c = d.counts;
  const contents =
    `${c.posts} posts, ${c.messages} direct messages, ${c.likes} likes, ` +
    `${c.following} follows (${c.communities} communities) and ${c.deliveries} delivery records`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your Kindred data: ${d.handle}</title>
<style>${style}</style></head>
<body><h1>Your data: ${d.handle}</h1>
<p>Made on ${d.generatedAt}. It holds ${contents}.</p>
${table(["File", "What it holds"], d.files.map(file))}
<p>The JSON files are ActivityPub documents or plain JSON; the CSV files import into Mastodon and Kindred.</p>
</body></html>
`.toString();
}
