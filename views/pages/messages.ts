import { html } from "hono/html";
import { postBody } from "../components.ts";
import { type ImageItem, imageFields } from "../images.ts";
import { csrfField, fieldError, formErrors, type Html, hint, layout, type PageContext, time } from "../layout.ts";

export interface ConversationItem {
  handle: string;
  name: string | null;
  lastAt: string;
}

const inboxHint =
  "Direct messages are seen only by you and the person you write to (and the admins of the servers involved). " +
  "To start one, open a profile and choose “Message”.";

function conversationItem(i: ConversationItem): Html {
  const meta = html`<span class="meta">@${i.handle} · ${time(i.lastAt)}</span>`;
  return html`<li><a href="/messages/${i.handle}">${i.name ?? i.handle}</a> ${meta}</li>`;
}

export function inboxPage(page: PageContext, items: ConversationItem[]): Html {
  return layout(
    page,
    "Messages",
    html`<h1>Messages</h1>
<p class="hint">${inboxHint}</p>
${
  items.length === 0 ? html`<p>No conversations yet.</p>` : html`<ul class="plain">${items.map(conversationItem)}</ul>`
}`,
  );
}

export interface MessageItem {
  id: string;
  contentHtml: string;
  summary: string | null;
  publishedAt: string;
  deletedAt: string | null;
  mine: boolean;
  authorName: string;
  images?: ImageItem[];
  sensitive?: boolean;
}

function messageItem(m: MessageItem): Html {
  const meta = html`<p class="meta">${m.authorName} · ${time(m.publishedAt)}</p>`;
  const body = postBody({ ...m, removedAt: null });
  return html`<li class="message${m.mine ? " mine" : ""}" id="post-${m.id}">${meta}${body}</li>`;
}

const deleteNote = "Your messages are deleted everywhere they were sent; theirs are hidden from you.";

export function conversationPage(
  page: PageContext,
  other: { handle: string; name: string | null },
  messages: MessageItem[],
  state: { values?: Record<string, string>; errors?: Record<string, string>; message?: string } = {},
): Html {
  const deletion = html`<p><a class="danger" href="/messages/${other.handle}/delete">Delete this conversation</a>
  <span class="hint">${deleteNote}</span></p>`;
  const cwInput = html`<input id="cw" name="cw" maxlength="500" value="${state.values?.cw ?? ""}">`;
  return layout(
    page,
    `Messages with ${other.name ?? other.handle}`,
    html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/messages">Messages</a></nav>
<h1>With <a href="/@${other.handle}">${other.name ?? other.handle}</a></h1>
<ol class="messages">${messages.map(messageItem)}</ol>
${formErrors(state.message)}
<form method="post" action="/messages/${other.handle}" class="stack" enctype="multipart/form-data">
  ${csrfField(page.csrf)}
  <label for="body">Message ${hint("Markdown")}</label>
  <textarea id="body" name="body" rows="4" required maxlength="50000">${state.values?.body ?? ""}</textarea>
  ${fieldError(state.errors, "body")}
  <details><summary>Add a content warning</summary><label for="cw">Content warning</label>${cwInput}</details>
  ${imageFields("message", 4, state, state.values?.sensitive === "1")}
  <button type="submit">Send</button>
</form>
${messages.length > 0 ? deletion : ""}`,
  );
}

/** Asks before deleting a conversation, saying which server the deletion goes to. */
export function deleteConversationPage(
  page: PageContext,
  other: { handle: string; name: string | null; host: string | null },
  counts: { sent: number; received: number },
): Html {
  const who = other.name ?? `@${other.handle}`;
  const sent = counts.sent === 1 ? "The message you sent is" : `The ${counts.sent} messages you sent are`;
  const where = other.host
    ? html`${sent} deleted here, and a deletion request goes to <strong>${other.host}</strong>, where @${other.handle}
  lives, so their copies are deleted too.`
    : html`${sent} deleted on this instance, where @${other.handle} also lives.`;
  const theirs = counts.received === 1 ? "Their message is" : `Their ${counts.received} messages are`;
  return layout(
    page,
    `Delete the conversation with ${who}`,
    html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/messages">Messages</a></nav>
<h1>Delete the conversation with ${who}?</h1>
<p>${where} ${theirs} hidden from you only. This cannot be undone.</p>
<form method="post" action="/messages/${other.handle}/delete" class="stack">
  ${csrfField(page.csrf)}
  <p><button type="submit" class="danger">Delete the conversation</button>
  <a href="/messages/${other.handle}">Cancel</a></p>
</form>`,
  );
}
