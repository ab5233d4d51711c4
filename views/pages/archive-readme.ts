import { html } from "hono/html";

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
};

/** The human-readable index of an export archive: a standalone page, no external resources. */
export function readmeHtml(d: ArchiveReadme): string {
  const file = (name: string) =>
    html`<tr><td><code>${name}</code></td><td>${described[name] ?? (name.startsWith("avatar") ? "Your profile picture." : "")}</td></tr>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your Kindred data: ${d.handle}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}td{padding:.25rem .75rem .25rem 0;vertical-align:top}</style></head>
<body><h1>Your data: ${d.handle}</h1>
<p>Made on ${d.generatedAt}. It holds ${d.counts.posts} posts, ${d.counts.messages} direct messages, ${d.counts.likes} likes, ${d.counts.following} follows (${d.counts.communities} communities) and ${d.counts.deliveries} delivery records.</p>
<table><thead><tr><th>File</th><th>What it holds</th></tr></thead><tbody>${d.files.map(file)}</tbody></table>
<p>The JSON files are ActivityPub documents or plain JSON; the CSV files import into Mastodon and Kindred.</p>
</body></html>
`.toString();
}
