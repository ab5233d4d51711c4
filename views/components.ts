import { html } from "hono/html";
import { csrfField, type Html, time, trusted } from "./layout.ts";

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
  likes: number;
  replies: number;
  likedByViewer: boolean;
}

export function authorLink(p: {
  authorUsername: string;
  authorHost: string;
  authorLocal: boolean;
  authorName: string | null;
  authorUrl: string | null;
  authorDeletedAt: string | null;
  authorClinician: boolean;
}): Html {
  if (p.authorDeletedAt) return html`<span class="author deleted">[deleted]</span>`;
  const handle = p.authorLocal ? `@${p.authorUsername}` : `@${p.authorUsername}@${p.authorHost}`;
  const href = p.authorLocal ? `/${handle}` : (p.authorUrl ?? `/${handle}`);
  return html`<a class="author" href="${href}">${p.authorName ?? p.authorUsername}</a> <span class="handle">${handle}</span>${p.authorClinician ? clinicianBadge() : ""}`;
}

export const clinicianBadge = () =>
  html` <span class="badge" title="An admin of this instance verified this member as a clinician">Verified clinician</span>`;

/** Body of a post: content warnings collapse behind <details>. */
export function postBody(p: {
  summary: string | null;
  contentHtml: string;
  deletedAt: string | null;
  removedAt: string | null;
}): Html {
  if (p.deletedAt) return html`<p class="placeholder">[deleted]</p>`;
  if (p.removedAt) return html`<p class="placeholder">[removed by a moderator]</p>`;
  const content = html`<div class="content">${trusted(p.contentHtml)}</div>`;
  return p.summary
    ? html`<details class="cw"><summary>Content warning: ${p.summary}</summary>${content}</details>`
    : content;
}

export function threadSummary(p: PostItem, options: { communitySlug?: string } = {}): Html {
  return html`<article class="thread-summary${p.pinnedAt ? " pinned" : ""}">
  <h3><a href="/posts/${p.id}">${p.title ?? "(untitled)"}</a>${p.pinnedAt ? html` <span class="tag">Pinned</span>` : ""}${p.locked ? html` <span class="tag">Locked</span>` : ""}</h3>
  <p class="meta">${authorLink(p)} · ${time(p.publishedAt)}${options.communitySlug ? html` · in <a href="/@${options.communitySlug}">${options.communitySlug}</a>` : ""} · ${p.replies} ${p.replies === 1 ? "reply" : "replies"} · ${p.likes} ${p.likes === 1 ? "like" : "likes"}</p>
  ${p.summary ? html`<p class="cw-note">Content warning: ${p.summary}</p>` : ""}
</article>`;
}

export function likeButton(p: PostItem, csrf: string, canAct: boolean): Html | string {
  if (!canAct || p.deletedAt) return html`<span class="likes">${p.likes} ${p.likes === 1 ? "like" : "likes"}</span>`;
  return html`<form method="post" action="/posts/${p.id}/${p.likedByViewer ? "unlike" : "like"}" class="inline">${csrfField(csrf)}<button class="link" aria-pressed="${p.likedByViewer ? "true" : "false"}">${p.likedByViewer ? "Unlike" : "Like"}</button> <span class="likes">${p.likes}</span></form>`;
}

export function edited(p: { updatedAt: string | null; deletedAt: string | null }): Html | string {
  return p.updatedAt && !p.deletedAt ? html` · <span class="edited">edited ${time(p.updatedAt)}</span>` : "";
}
