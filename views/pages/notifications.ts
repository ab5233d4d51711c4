import { html } from "hono/html";
import { type Html, inlineForm, layout, type PageContext, pager, time } from "../layout.ts";

/** One notification as the list shows it: a sentence, what it is about, and where to go. */
export interface NotificationCard {
  id: string;
  /** Every notification the card stands for (likes of one post are one card); marking read marks them all. */
  ids?: string[];
  unread: boolean;
  sentence: string;
  detail: string | null;
  /** A closed report's outcome, shown here: the reporter has no other page for it. */
  outcome: { status: string; note: string | null } | null;
  href: string | null;
  createdAt: string;
}

const OUTCOMES: Record<string, string> = {
  open: "Still open",
  resolved: "Resolved: the moderators acted on it",
  dismissed: "Dismissed: the moderators found nothing to act on",
};

function card(page: PageContext, n: NotificationCard): Html {
  const headline = n.href ? html`<a href="${n.href}">${n.sentence}</a>` : n.sentence;
  const outcome = n.outcome
    ? html`<p class="outcome"><strong>${OUTCOMES[n.outcome.status] ?? n.outcome.status}</strong>${
        n.outcome.note ? html`. Note from the moderators: ${n.outcome.note}` : ""
      }</p>`
    : "";
  const read = n.unread
    ? inlineForm(
        page.csrf,
        "/notifications/read",
        html`<input type="hidden" name="ids" value="${(n.ids ?? [n.id]).join(",")}">
<button class="link">Mark read</button>`,
      )
    : "";
  const state = n.unread ? html`<span class="tag">New</span> ` : "";
  return html`<li class="notification${n.unread ? " unread" : ""}" id="n-${n.id}">
  <p>${state}${headline}</p>
  ${n.detail ? html`<p class="meta">${n.detail}</p>` : ""}
  ${outcome}
  <p class="meta">${time(n.createdAt)} ${read}</p>
</li>`;
}

export function notificationsPage(page: PageContext, items: NotificationCard[], nextHref: string | null): Html {
  const anyUnread = items.some((n) => n.unread) || (page.unread ?? 0) > 0;
  const all = anyUnread
    ? inlineForm(page.csrf, "/notifications/read", html`<button class="secondary">Mark all as read</button>`)
    : "";
  return layout(
    page,
    "Notifications",
    html`<div class="row"><h1>Notifications</h1>${all}</div>
<p><a href="/settings/notifications">Choose what you are told about</a></p>
${
  items.length === 0
    ? html`<p>Nothing yet. Replies, mentions, messages, likes and follows appear here, and so do moderators'
      decisions about your posts and what happened to your reports.</p>`
    : html`<ol class="notifications">${items.map((n) => card(page, n))}</ol>`
}
${pager(nextHref)}`,
  );
}
