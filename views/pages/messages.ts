import { html } from "hono/html";
import { postBody } from "../components.ts";
import { csrfField, fieldError, formErrors, type Html, layout, type PageContext, time } from "../layout.ts";

export interface ConversationItem {
  handle: string;
  name: string | null;
  lastAt: string;
}

export function inboxPage(page: PageContext, items: ConversationItem[]): Html {
  return layout(
    page,
    "Messages",
    html`<h1>Messages</h1>
<p class="hint">Direct messages are seen only by you and the person you write to (and the admins of the servers involved). To start one, open a profile and choose “Message”.</p>
${items.length === 0 ? html`<p>No conversations yet.</p>` : html`<ul class="plain">${items.map((i) => html`<li><a href="/messages/${i.handle}">${i.name ?? i.handle}</a> <span class="meta">@${i.handle} · ${time(i.lastAt)}</span></li>`)}</ul>`}`,
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
}

export function conversationPage(
  page: PageContext,
  other: { handle: string; name: string | null },
  messages: MessageItem[],
  state: { values?: Record<string, string>; errors?: Record<string, string>; message?: string } = {},
): Html {
  return layout(
    page,
    `Messages with ${other.name ?? other.handle}`,
    html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/messages">Messages</a></nav>
<h1>With <a href="/@${other.handle}">${other.name ?? other.handle}</a></h1>
<ol class="messages">${messages.map((m) => html`<li class="message${m.mine ? " mine" : ""}" id="post-${m.id}"><p class="meta">${m.authorName} · ${time(m.publishedAt)}</p>${postBody({ summary: m.summary, contentHtml: m.contentHtml, deletedAt: m.deletedAt, removedAt: null })}</li>`)}</ol>
${formErrors(state.message)}
<form method="post" action="/messages/${other.handle}" class="stack">
  ${csrfField(page.csrf)}
  <label for="body">Message <span class="hint">(Markdown)</span></label>
  <textarea id="body" name="body" rows="4" required maxlength="50000">${state.values?.body ?? ""}</textarea>
  ${fieldError(state.errors, "body")}
  <details><summary>Add a content warning</summary><label for="cw">Content warning</label><input id="cw" name="cw" maxlength="500" value="${state.values?.cw ?? ""}"></details>
  <button type="submit">Send</button>
</form>
${messages.length > 0 ? html`<form method="post" action="/messages/${other.handle}/delete" class="inline">${csrfField(page.csrf)}<button class="link danger">Delete this conversation</button> <span class="hint">Your messages are deleted everywhere they were sent; theirs are hidden from you.</span></form>` : ""}`,
  );
}
