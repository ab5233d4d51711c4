import { html } from "hono/html";
import {
  type AnswersView,
  answerActions,
  answerLabels,
  markedAnswers,
  questionField,
  questionSwitch,
} from "../answers.ts";
import {
  authorLink,
  avatar,
  edited,
  likeButton,
  metaTag,
  type PostItem,
  postBody,
  type RemovalView,
  threadSummary,
} from "../components.ts";
import { existingImageFields, type ImageItem, imageFields } from "../images.ts";
import {
  csrfField,
  describedBy,
  fieldError,
  flag,
  formErrors,
  type Html,
  hint,
  inlineForm,
  layout,
  type PageContext,
  pager,
  plural,
  time,
} from "../layout.ts";
import { type WarningOptions, warningField } from "../warning-field.ts";
import type { FormState } from "./auth.ts";
import { crisisBox } from "./crisis.ts";

export interface ThreadPageData {
  /** Null for posts outside any community (a followed person's status). */
  community: { slug: string; name: string | null } | null;
  root: PostItem;
  replies: PostItem[];
  nextHref: string | null;
  viewerId: string | undefined;
  viewerAuthorOf: (p: PostItem) => boolean;
  /** The reader moderates the community: one of its moderators, or an admin. */
  isModerator: boolean;
  canReply: boolean;
  /** Removed posts the reader still sees (their own; all of them for moderators), with why. */
  removals: Map<string, RemovalView>;
  /** Whose posts offer "Ban from community" to a moderator. */
  bannable?: (p: PostItem) => boolean;
  replyTo?: string;
  state?: FormState;
  /** The community's warning categories, for the reply forms. */
  warnings?: WarningOptions;
  /** The crisis resources, when the thread's category asks for them. */
  crisis?: { noticeHtml: string; additionHtml: string } | null;
  /** A question's marked answers and who may mark them (src/answers). */
  answers?: AnswersView;
}

export function threadPage(page: PageContext, d: ThreadPageData): Html {
  const r = d.root;
  const children = new Map<string, PostItem[]>();
  const ids = new Set([r.id, ...d.replies.map((p) => p.id)]);
  for (const p of d.replies) {
    // Replies whose parent is on an earlier page hang under the root.
    const parent = p.parentId && ids.has(p.parentId) ? p.parentId : r.id;
    const list = children.get(parent) ?? [];
    list.push(p);
    children.set(parent, list);
  }
  const tree = (parentId: string, depth: number): Html | string => {
    const kids = children.get(parentId);
    if (!kids) return "";
    const items = kids.map((p) => html`<li id="post-${p.id}">${replyArticle(page, d, p)}${tree(p.id, depth + 1)}</li>`);
    return html`<ol class="replies${depth > 6 ? " flat" : ""}">${items}</ol>`;
  };
  const rootActions = html`${postActions(page, d, r)}${questionSwitch(page, d.answers, r)}`;
  const c = d.community;
  const crumbs = c
    ? html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/@${c.slug}">${c.name ?? c.slug}</a></nav>`
    : "";
  return layout(
    page,
    r.title ?? "Thread",
    html`${crumbs}
${d.crisis ? crisisBox(d.crisis.noticeHtml, d.crisis.additionHtml) : ""}
<article class="thread" id="post-${r.id}">
  <h1>${heading(d)}</h1>
  <p class="meta">${avatar(r)}${authorLink(r)} · ${time(r.publishedAt)}${edited(r)}${
    r.locked ? metaTag("Locked") : ""
  }${r.pinnedAt ? metaTag("Pinned") : ""}${questionState(d.answers)}</p>
  ${postBody(r, d.removals.get(r.id))}
  <footer class="post-actions">${likeButton(r, page.csrf, d.viewerId !== undefined)}${rootActions}</footer>
</article>
${markedAnswers(d.answers, (p) => replyArticle(page, { ...d, canReply: false }, p))}
${threadTools(page, d)}
<section class="discussion" aria-labelledby="replies-h">
  <h2 id="replies-h">${plural(r.replies, "reply", "replies")}</h2>
  ${rootReply(page, d)}
  ${tree(r.id, 0)}
  ${repliesPager(d.nextHref)}
</section>`,
  );
}

/** "Question", or "Answered" once a reply is marked. */
const questionState = (a: AnswersView | undefined) =>
  a?.question ? metaTag(a.answers.length > 0 ? "Answered" : "Question") : "";

/** Replies read oldest first, so the next page holds later ones: the generic "Older" would point backwards. */
function repliesPager(nextHref: string | null): Html | string {
  return nextHref
    ? html`<nav class="pager" aria-label="Replies"><a href="${nextHref}" rel="next">Later replies →</a></nav>`
    : "";
}

/** Under the thread: the reply form, or why there is none. */
function rootReply(page: PageContext, d: ThreadPageData): Html | string {
  const r = d.root;
  if (d.canReply) {
    const state = d.replyTo === r.id || d.replyTo === undefined ? d.state : undefined;
    return replyForm(page, r.id, "reply-root", state, d.warnings);
  }
  if (d.viewerId) return r.locked ? html`<p class="notice">This thread is locked.</p>` : "";
  return html`<p><a href="/login?next=/posts/${r.id}">Log in</a> to reply.</p>`;
}

function replyArticle(page: PageContext, d: ThreadPageData, p: PostItem): Html {
  const actions = html`${postActions(page, d, p)}${answerActions(page, d.answers, p)}`;
  const permalink = html`<a href="/posts/${p.id}" class="permalink">${time(p.publishedAt)}</a>`;
  return html`<article class="reply">
  <p class="meta">${avatar(p)}${authorLink(p)} · ${permalink}${edited(p)}${answerLabels(d.answers, p)}</p>
  ${postBody(p, d.removals.get(p.id))}
  <footer class="post-actions">${likeButton(p, page.csrf, d.viewerId !== undefined)}${actions}
  ${d.canReply && !p.deletedAt && !p.removedAt ? foldedReplyForm(page, d, p) : ""}</footer>
</article>`;
}

/** The form to answer a reply, folded under it unless it is the reply being answered. */
function foldedReplyForm(page: PageContext, d: ThreadPageData, p: PostItem): Html {
  const open = d.replyTo === p.id;
  const form = replyForm(page, p.id, `reply-${p.id}`, open ? d.state : undefined, d.warnings);
  return html`<details class="reply-box"${flag("open", open)}><summary>Reply</summary>${form}</details>`;
}

function heading(d: ThreadPageData): string {
  const r = d.root;
  if (r.deletedAt) return "[deleted]";
  if (r.removedAt && !d.removals.has(r.id)) return "[removed by a moderator]";
  return r.title ?? (d.community ? "(untitled)" : "Post");
}

/** Under a post: its author's Edit and Delete, Report for others, and a moderator's Remove or Restore and Ban. */
function postActions(page: PageContext, d: ThreadPageData, p: PostItem): Html | string {
  if (p.deletedAt) return "";
  const mine = d.viewerAuthorOf(p);
  // A removed post can be deleted by its author, not edited (an edit would undo the removal elsewhere).
  const edit = p.removedAt ? "" : html` <a href="/posts/${p.id}/edit">Edit</a>`;
  const own = mine ? html`${edit} <a href="/posts/${p.id}/delete">Delete</a>` : "";
  const mayReport = !mine && !p.removedAt && (d.viewerId !== undefined || p.audience === "public");
  const report = mayReport ? html` <a href="/posts/${p.id}/report">Report</a>` : "";
  return html`${own}${report}${moderatorActions(page, d, p)}`;
}

function moderatorActions(page: PageContext, d: ThreadPageData, p: PostItem): Html | string {
  if (!d.isModerator || !d.community) return "";
  const restore = html`<button class="link">Restore</button>`;
  const removal = p.removedAt
    ? html` ${inlineForm(page.csrf, `/posts/${p.id}/restore`, restore)}`
    : html` <a class="danger" href="/posts/${p.id}/remove">Remove</a>`;
  const ban = d.bannable?.(p)
    ? html` <a class="danger" href="/@${d.community.slug}/ban/${p.authorId}">Ban from community</a>`
    : "";
  return html`${removal}${ban}`;
}

/** A moderator's tools for the whole thread: lock (with an optional reason) and pin. */
function threadTools(page: PageContext, d: ThreadPageData): Html | string {
  const r = d.root;
  if (!d.isModerator || !d.community || r.deletedAt) return "";
  const lock = r.locked
    ? inlineForm(page.csrf, `/posts/${r.id}/unlock`, html`<button class="secondary">Unlock</button>`)
    : inlineForm(
        page.csrf,
        `/posts/${r.id}/lock`,
        html`<label for="lock-reason" class="visually-hidden">Reason for locking (optional)</label>
  <input id="lock-reason" name="reason" maxlength="1000" placeholder="Reason (optional)">
  <button class="secondary">Lock</button>`,
      );
  const pin = inlineForm(
    page.csrf,
    `/posts/${r.id}/${r.pinnedAt ? "unpin" : "pin"}`,
    html`<button class="secondary">${r.pinnedAt ? "Unpin" : "Pin"}</button>`,
  );
  return html`<section class="mod-tools" aria-label="Moderate this thread">${lock} ${pin}</section>`;
}

function replyForm(
  page: PageContext,
  parentId: string,
  idPrefix: string,
  state: FormState | undefined,
  warnings: WarningOptions | undefined,
): Html {
  const e = state?.errors;
  return html`<form method="post" action="/posts/${parentId}/replies" class="stack reply-form"
  enctype="multipart/form-data">
  ${csrfField(page.csrf)}
  ${formErrors(state?.message)}
  <label for="${idPrefix}-body">Your reply ${hint("Markdown")}</label>
  <textarea id="${idPrefix}-body" name="body" rows="4" required
    maxlength="50000">${state?.values?.body ?? ""}</textarea>
  ${fieldError(e, "body")}
  ${warningField(idPrefix, warnings, state)}
  ${imageFields(idPrefix, 4, state, state?.values?.sensitive === "1")}
  <button type="submit">Reply</button>
</form>`;
}

export function composePage(
  page: PageContext,
  community: { slug: string; name: string | null },
  state: FormState = {},
  warnings?: WarningOptions,
): Html {
  const v = state.values ?? {};
  const e = state.errors;
  return layout(
    page,
    `New thread · ${community.name ?? community.slug}`,
    html`<h1>New thread in <a href="/@${community.slug}">${community.name ?? community.slug}</a></h1>
${formErrors(state.message)}
<form method="post" action="/@${community.slug}/submit" class="stack" enctype="multipart/form-data">
  ${csrfField(page.csrf)}
  <label for="title">Title</label>
  <input id="title" name="title" required maxlength="200" value="${v.title ?? ""}"${describedBy(e, "title")}>
  ${fieldError(e, "title")}
  <label for="body">Body ${hint("Markdown; #hashtags work")}</label>
  <textarea id="body" name="body" rows="10" maxlength="50000"${describedBy(e, "body")}>${v.body ?? ""}</textarea>
  ${fieldError(e, "body")}
  ${warningField("", warnings, state, true)}
  ${imageFields("new", 4, state, v.sensitive === "1")}
  ${questionField(v.question === "1")}
  <button type="submit">Post thread</button>
</form>`,
  );
}

export function editPage(
  page: PageContext,
  post: { id: string; isThread: boolean; images: ImageItem[] },
  state: FormState = {},
): Html {
  const v = state.values ?? {};
  const e = state.errors;
  return layout(
    page,
    "Edit post",
    html`<h1>Edit ${post.isThread ? "thread" : "reply"}</h1>
${formErrors(state.message)}
<form method="post" action="/posts/${post.id}/edit" class="stack" enctype="multipart/form-data">
  ${csrfField(page.csrf)}
  ${
    post.isThread
      ? html`<label for="title">Title</label>
  <input id="title" name="title" required maxlength="200" value="${v.title ?? ""}"${describedBy(e, "title")}>
  ${fieldError(e, "title")}`
      : ""
  }
  <label for="body">Body ${hint("Markdown")}</label>
  <textarea id="body" name="body" rows="10" maxlength="50000"${describedBy(e, "body")}>${v.body ?? ""}</textarea>
  ${fieldError(e, "body")}
  <label for="cw">Content warning</label>
  <input id="cw" name="cw" maxlength="500" value="${v.cw ?? ""}">
  ${existingImageFields(post.images, e)}
  ${imageFields("edit", 4 - post.images.length, state, v.sensitive === "1")}
  <button type="submit">Save</button> <a href="/posts/${post.id}">Cancel</a>
</form>`,
  );
}

/** A reply or an untitled post in a list: who, when, and the post itself. */
function postSummary(p: PostItem): Html {
  const when = html`<a href="/posts/${p.id}">${time(p.publishedAt)}</a>`;
  const meta = html`<p class="meta">${avatar(p)}${authorLink(p)} · ${when}</p>`;
  return html`<article class="thread-summary">${meta}${postBody(p)}</article>`;
}

/**
 * A list's heading, for screen readers' outline: the entries' titles are h3
 * (as under a community page's h2), so the page goes h1 → h2 → h3 without a jump.
 */
const listHeading = (text: string) => html`<h2 class="visually-hidden">${text}</h2>`;

export function tagPage(page: PageContext, tag: string, posts: PostItem[], nextHref: string | null): Html {
  return layout(
    page,
    `#${tag}`,
    html`<h1>#${tag}</h1>
${listHeading("Posts with this tag")}
${
  posts.length === 0
    ? html`<p>No public posts with this tag.</p>`
    : posts.map((p) => (p.parentId ? postSummary(p) : threadSummary(p)))
}
${pager(nextHref)}`,
  );
}

const feedHint =
  "New threads in the communities you joined, here and on other servers, and posts by people you follow.";

export function feedPage(page: PageContext, posts: PostItem[], nextHref: string | null): Html {
  return layout(
    page,
    "Your feed",
    html`<h1>Your feed</h1>
<p class="hint">${feedHint}</p>
${listHeading("New posts")}
${
  posts.length === 0
    ? html`<p>Nothing yet. Join a community or follow someone to fill your feed.</p>`
    : posts.map((p) => (p.parentId || !p.title ? postSummary(p) : threadSummary(p)))
}
${pager(nextHref)}`,
  );
}
