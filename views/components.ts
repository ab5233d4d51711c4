import { html } from "hono/html";
import { gallery, type ImageItem, imageCount } from "./images.ts";
import { type Html, inlineForm, plural, time, trusted } from "./layout.ts";

/** A post as the views need it (see src/posts/service.ts PostView). */
export interface PostItem {
  id: string;
  url: string | null;
  title: string | null;
  contentHtml: string;
  summary: string | null;
  publishedAt: string;
  updatedAt: string | null;
  deletedAt: string | null;
  removedAt: string | null;
  locked: boolean;
  pinnedAt: string | null;
  parentId: string | null;
  threadId: string;
  authorId: string;
  authorUsername: string;
  authorHost: string;
  authorLocal: boolean;
  authorName: string | null;
  authorUrl: string | null;
  authorDeletedAt: string | null;
  authorClinician: boolean;
  /** What an admin verified the author as ("Nurse"), with the clinician badge. */
  authorProfession?: string | null;
  /** A thread marked as a question, and whether it has a marked answer. */
  question?: boolean;
  answered?: boolean;
  /** The author's avatar: shown for local authors only (served by us), never hotlinked from another server. */
  authorAvatar?: string | null;
  likes: number;
  replies: number;
  likedByViewer: boolean;
  /** Who may read it: a visitor may report only public posts. */
  audience?: string;
  /** Its images, where the page shows them; blurred when `sensitive` (or behind a content warning). */
  images?: ImageItem[];
  sensitive?: boolean;
}

/** A removed post as its author and the moderators still see it: why, and (for its author) the statement. */
export interface RemovalView {
  reason: string | null;
  /** The statement of reasons (and the way to appeal), for the author. */
  statementHref: string | null;
}

export function authorLink(p: {
  authorUsername: string;
  authorHost: string;
  authorLocal: boolean;
  authorName: string | null;
  authorUrl: string | null;
  authorDeletedAt: string | null;
  authorClinician: boolean;
  authorProfession?: string | null;
}): Html {
  if (p.authorDeletedAt) return html`<span class="author deleted">[deleted]</span>`;
  const handle = p.authorLocal ? `@${p.authorUsername}` : `@${p.authorUsername}@${p.authorHost}`;
  const href = p.authorLocal ? `/${handle}` : (p.authorUrl ?? `/${handle}`);
  const name = p.authorName ?? p.authorUsername;
  const badge = p.authorClinician ? clinicianBadge(p.authorProfession) : "";
  return html`<a class="author" href="${href}">${name}</a> <span class="handle">${handle}</span>${badge}`;
}

const clinicianHint = "An admin of this instance verified this member as a clinician";
export const clinicianBadge = (profession?: string | null) =>
  html` <span class="badge" title="${clinicianHint}">Verified clinician${profession ? `: ${profession}` : ""}</span>`;

/** A question thread's state, in lists and on the thread: "Question" until an answer is marked. */
export const questionTag = (p: { question?: boolean; answered?: boolean }): Html | string =>
  p.question
    ? html` <span class="tag${p.answered ? " answered" : ""}">${p.answered ? "Answered" : "Question"}</span>`
    : "";

/**
 * Body of a post: content warnings collapse behind <details>. A removed post
 * is a placeholder, except for those given its removal (its author and the
 * moderators), who see it under a banner saying why.
 */
export function postBody(
  p: {
    summary: string | null;
    contentHtml: string;
    deletedAt: string | null;
    removedAt: string | null;
    images?: ImageItem[];
    sensitive?: boolean;
    /** The reader chose to see this post's warning category expanded. */
    expanded?: boolean;
  },
  removal?: RemovalView,
): Html {
  if (p.deletedAt) return html`<p class="placeholder">[deleted]</p>`;
  if (p.removedAt && !removal) return html`<p class="placeholder">[removed by a moderator]</p>`;
  const content = html`<div class="content">${trusted(p.contentHtml)}</div>`;
  const text = p.summary
    ? html`<details class="cw"${p.expanded ? " open" : ""}><summary>Content warning: ${p.summary}</summary>${
        content
      }</details>`
    : content;
  const blur = !p.expanded && (Boolean(p.sensitive) || p.summary !== null);
  const body = html`${text}${gallery(p.images, blur)}`;
  return removal && p.removedAt ? html`${removedBanner(removal)}${body}` : body;
}

function removedBanner(r: RemovalView): Html {
  const why = r.reason ? html`: ${r.reason}` : html` (no reason given)`;
  const who = r.statementHref ? "you and the moderators" : "its author and the moderators";
  const statement = r.statementHref ? html` <a href="${r.statementHref}">Why, and how to appeal</a>` : "";
  return html`<p class="removed-banner" role="note"><strong>Removed by the moderators</strong>${why}<br>
  Only ${who} see it.${statement}</p>`;
}

export function threadSummary(p: PostItem, options: { communitySlug?: string } = {}): Html {
  const pinned = p.pinnedAt ? html` <span class="tag">Pinned</span>` : "";
  const locked = p.locked ? html` <span class="tag">Locked</span>` : "";
  const removed = p.removedAt ? html` <span class="tag removed">Removed</span>` : "";
  const question = questionTag(p);
  const slug = options.communitySlug;
  const where = slug ? html` · in <a href="/@${slug}">${slug}</a>` : "";
  const counts = `${plural(p.replies, "reply", "replies")} · ${plural(p.likes, "like")}`;
  return html`<article class="thread-summary${p.pinnedAt ? " pinned" : ""}">
  <h3><a href="/posts/${p.id}">${p.title ?? "(untitled)"}</a>${question}${pinned}${locked}${removed}</h3>
  <p class="meta">${avatar(p)}${authorLink(p)} · ${time(p.publishedAt)}${where} · ${counts}${imageCount(
    p.images?.length,
  )}</p>
  ${p.summary ? html`<p class="cw-note">Content warning: ${p.summary}</p>` : excerptOf(p)}
</article>`;
}

/** About two lines of a thread's text under its title, so the list can be read without opening each one. */
export const EXCERPT_LENGTH = 200;

/** The opening words of a post as plain text (its mentions of people and the community left out). */
function excerptOf(p: PostItem): Html | string {
  if (p.deletedAt || p.removedAt) return "";
  const text = plainText(
    p.contentHtml.replace(/<a\b[^>]*class="[^"]*\bmention\b(?![^"]*\bhashtag\b)[^"]*"[^>]*>.*?<\/a>/gis, " "),
  );
  if (!text) return "";
  const chars = [...text];
  if (chars.length <= EXCERPT_LENGTH) return html`<p class="excerpt">${text}</p>`;
  const head = chars.slice(0, EXCERPT_LENGTH).join("");
  const cut = head.replace(/\s+\S*$/u, "");
  return html`<p class="excerpt">${cut.length > EXCERPT_LENGTH / 2 ? cut : head}…</p>`;
}

/** Text of our sanitized HTML (entities decoded once: the template escapes it again). */
function plainText(contentHtml: string): string {
  const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };
  return contentHtml
    .replace(/<br\s*\/?>|<\/(?:p|h[1-6]|li|blockquote|pre|div)>/gi, " ")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] !== "#") return entities[e.toLowerCase()] ?? m;
      const code = e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    })
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * A small picture of the author beside a post: a local author's avatar (we
 * serve it), otherwise their initial. Another server's avatar is never
 * linked: the reader's browser would tell that server who reads what.
 */
export function avatar(
  p: Pick<PostItem, "authorLocal" | "authorAvatar" | "authorUsername" | "authorName" | "authorDeletedAt">,
): Html {
  if (p.authorLocal && p.authorAvatar && !p.authorDeletedAt)
    return html`<img class="avatar small" src="${p.authorAvatar}" alt="" width="24" height="24" loading="lazy"> `;
  const initial = p.authorDeletedAt ? "?" : ([...(p.authorName?.trim() || p.authorUsername)][0] ?? "?").toUpperCase();
  return html`<span class="avatar small initial" aria-hidden="true">${initial}</span> `;
}

export function likeButton(p: PostItem, csrf: string, canAct: boolean): Html | string {
  if (!canAct || p.deletedAt) return html`<span class="likes">${plural(p.likes, "like")}</span>`;
  const liked = p.likedByViewer;
  const action = `/posts/${p.id}/${liked ? "unlike" : "like"}`;
  const button = html`<button class="link" aria-pressed="${String(liked)}">${liked ? "Unlike" : "Like"}</button>`;
  return inlineForm(csrf, action, html`${button} <span class="likes">${p.likes}</span>`);
}

export function edited(p: { updatedAt: string | null; deletedAt: string | null }): Html | string {
  return p.updatedAt && !p.deletedAt ? html` · <span class="edited">edited ${time(p.updatedAt)}</span>` : "";
}

/** A tag in a line of meta data, after a middle dot. */
export const metaTag = (label: string) => html` · <span class="tag">${label}</span>`;

/** A link to another server, which search engines should not credit. */
export const externalLink = (href: string, text: string) => html`<a href="${href}" rel="nofollow noopener">${text}</a>`;
