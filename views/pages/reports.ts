import { html } from "hono/html";
import {
  choice,
  csrfField,
  describedBy,
  fieldError,
  formErrors,
  type Html,
  hint,
  layout,
  type PageContext,
  pager,
  time,
} from "../layout.ts";
import type { FormState } from "./auth.ts";

/** What a member or a visitor is reporting, and where the report goes. */
export interface ReportTarget {
  kind: "post" | "person";
  /** Where the form posts. */
  action: string;
  /** "“Salt loading” by @bob", "@bob@example.social". */
  label: string;
  href: string | null;
  excerpt: string | null;
  /** Who reviews it here: "the moderators of POTS", "the admins of this instance". */
  reviewers: string;
  /** Set when the post or its author lives on other servers (the "forward" choice). */
  forward: { servers: string[]; communityServer: string | null; reporterHandle: string | null } | null;
  /** A logged-out visitor: no name, an optional contact address instead. */
  visitor: boolean;
}

export interface Category {
  value: string;
  label: string;
}

const commentHint =
  "what the reviewers should know; only they read it, never the person you report, " +
  "and your name is never shown to them";
const contactHint =
  "optional; only the moderators and admins see it, to tell you the outcome or ask you about the report. " +
  "It is never shown to the person you report, and it is erased 30 days after the report is closed";

function forwardChoice(f: NonNullable<ReportTarget["forward"]>, checked: boolean): Html {
  const anonymous = f.servers.filter((s) => s !== f.communityServer);
  const unnamed =
    anonymous.length > 0
      ? html` To ${anonymous.join(" and ")}, the copy is sent by this instance, not by you: without your name.`
      : "";
  const named = f.communityServer
    ? html` The community lives on ${f.communityServer}: its moderators there receive the report under your name
  (${f.reporterHandle ?? "your handle"}), as Lemmy requires a named reporter.`
    : "";
  return html`${choice("checkbox", "forward", "1", `Also send to ${f.servers.join(" and ")}`, { checked })}
  <p class="hint">Our moderators can hide it here; only the other server can act on it everywhere.${unnamed}${named}
  </p>`;
}

const radio = (c: Category, checked: boolean) =>
  choice("radio", "category", c.value, c.label, { checked, required: true });

function contactField(value: string, e: Record<string, string> | undefined): Html {
  const attributes = html`type="email" maxlength="320" value="${value}"${describedBy(e, "contact")}`;
  return html`<label for="contact">Your email address ${hint(contactHint)}</label>
  <input id="contact" name="contact" ${attributes}>
  ${fieldError(e, "contact")}`;
}

export function reportPage(page: PageContext, t: ReportTarget, categories: Category[], state: FormState = {}): Html {
  const v = state.values ?? {};
  const e = state.errors;
  const what = t.href ? html`<a href="${t.href}">${t.label}</a>` : t.label;
  return layout(
    page,
    t.kind === "post" ? "Report a post" : "Report a person",
    html`<h1>${t.kind === "post" ? "Report a post" : "Report a person"}</h1>
<p>You are reporting ${what}.</p>
${t.excerpt ? html`<blockquote class="excerpt">${t.excerpt}</blockquote>` : ""}
<p>It goes to ${t.reviewers}, who decide whether it breaks the rules or the law.</p>
${formErrors(state.message)}
<form method="post" action="${t.action}" class="stack">
  ${csrfField(page.csrf)}
  <fieldset${describedBy(e, "category")}><legend>Why are you reporting it?</legend>
    ${categories.map((c) => radio(c, v.category === c.value))}
  </fieldset>
  ${fieldError(e, "category")}
  <label for="comment">Comment ${hint(commentHint)}</label>
  <textarea id="comment" name="comment" rows="5" maxlength="2000"${describedBy(e, "comment")}>${
    v.comment ?? ""
  }</textarea>
  ${fieldError(e, "comment")}
  ${t.visitor ? contactField(v.contact ?? "", e) : ""}
  ${t.forward ? forwardChoice(t.forward, v.forward === "1") : ""}
  <button type="submit">Send report</button>
</form>`,
  );
}

export function reportSentPage(
  page: PageContext,
  d: { reviewers: string; forwardedTo: string[]; back: string; visitor: boolean },
): Html {
  const outcome = d.visitor
    ? "If you left an email address, they may write to you about it."
    : html`You will find the outcome in your <a href="/notifications">notifications</a>.`;
  return layout(
    page,
    "Report sent",
    html`<h1>Thank you: your report was sent</h1>
<div class="notice" role="status"><p>${d.reviewers[0]?.toUpperCase()}${d.reviewers.slice(1)} will review it.
${outcome}</p></div>
${
  d.forwardedTo.length > 0
    ? html`<p>A copy goes to ${d.forwardedTo.join(" and ")}, sent by this instance without your name.</p>`
    : ""
}
<p><a href="${d.back}">Back</a></p>`,
  );
}

/** A report as its reviewers see it. */
export interface ReportCard {
  id: string;
  category: string;
  comment: string;
  /** "@alice", "a visitor", "the server example.social". */
  reporter: string;
  /** A visitor's address: only reviewers see this page. */
  contact: string | null;
  remote: boolean;
  forward: boolean;
  createdAt: string;
  status: "open" | "resolved" | "dismissed";
  note: string | null;
  resolvedAt: string | null;
  community: { slug: string; href: string } | null;
  person: { handle: string; href: string; banHref: string | null } | null;
  posts: {
    label: string;
    excerpt: string;
    href: string | null;
    state: "removed" | "deleted" | null;
    removeHref: string | null;
  }[];
  closeAction: string;
}

export interface ReportQueue {
  title: string;
  /** The queue's own address, for the status tabs. */
  base: string;
  status: "open" | "resolved" | "dismissed";
  items: ReportCard[];
  nextHref: string | null;
  /** Links to the other queues of the same reviewers. */
  related: { href: string; label: string }[];
}

const TABS = [
  ["open", "Open"],
  ["resolved", "Resolved"],
  ["dismissed", "Dismissed"],
] as const;

function reportedPost(p: ReportCard["posts"][number]): Html {
  const label = p.href ? html`<a href="${p.href}">${p.label}</a>` : p.label;
  const state = p.state ? html` <span class="tag">${p.state}</span>` : "";
  const remove = p.removeHref ? html` · <a href="${p.removeHref}">Remove…</a>` : "";
  const excerpt = p.excerpt ? html`<br><span class="excerpt">${p.excerpt}</span>` : "";
  return html`<li>Post: ${label}${state}${remove}${excerpt}</li>`;
}

const noteHint = "optional; the reporter reads it, the reported person does not";
const contact = (address: string) =>
  html`<p class="meta">Contact address (reviewers only): <span class="contact">${address}</span></p>`;
const noComment = html`<p class="placeholder">No comment.</p>`;

function closeForm(page: PageContext, r: ReportCard): Html {
  return html`<form method="post" action="${r.closeAction}" class="stack">
  ${csrfField(page.csrf)}
  <label for="note-${r.id}">Note to the reporter ${hint(noteHint)}</label>
  <textarea id="note-${r.id}" name="note" rows="2" maxlength="2000"></textarea>
  <div class="actions"><button name="outcome" value="resolved">Resolve</button>
  <button name="outcome" value="dismissed" class="secondary">Dismiss</button></div>
</form>`;
}

function reportCard(page: PageContext, r: ReportCard): Html {
  const from = r.remote ? html` · <span class="tag">from another server</span>` : "";
  const forward = r.forward ? html` · <span class="tag">copy to other servers asked</span>` : "";
  const where = r.community ? html` · in <a href="${r.community.href}">${r.community.slug}</a>` : "";
  const person = r.person
    ? html`<li>Person: <a href="${r.person.href}">${r.person.handle}</a>${
        r.person.banHref ? html` · <a href="${r.person.banHref}">Ban from the community…</a>` : ""
      }</li>`
    : "";
  const closed =
    r.status === "open"
      ? closeForm(page, r)
      : html`<p class="outcome"><strong>${r.status === "resolved" ? "Resolved" : "Dismissed"}</strong>
  ${r.resolvedAt ? time(r.resolvedAt) : ""}${r.note ? html`: ${r.note}` : ""}</p>`;
  return html`<article class="card report" id="report-${r.id}">
  <p class="meta"><span class="tag">${r.category}</span> · reported by <span class="reporter">${r.reporter}</span>
  · ${time(r.createdAt)}${where}${from}${forward}</p>
  ${r.contact ? contact(r.contact) : ""}
  ${r.comment ? html`<blockquote class="comment">${r.comment}</blockquote>` : noComment}
  <ul class="reported">${person}${r.posts.map(reportedPost)}</ul>
  ${closed}
</article>`;
}

export function reportQueuePage(page: PageContext, q: ReportQueue): Html {
  const tabs = TABS.map(([value, label]) =>
    value === q.status
      ? html`<li><a href="${q.base}?status=${value}" aria-current="page"><strong>${label}</strong></a></li>`
      : html`<li><a href="${q.base}?status=${value}">${label}</a></li>`,
  );
  const links = q.related.map((r, i) => html`${i > 0 ? " · " : ""}<a href="${r.href}">${r.label}</a>`);
  const related = q.related.length > 0 ? html`<p>${links}</p>` : "";
  return layout(
    page,
    q.title,
    html`<h1>${q.title}</h1>
${related}
<nav aria-label="Report status"><ul class="tabs">${tabs}</ul></nav>
${
  q.items.length === 0
    ? html`<p>No ${q.status} reports.</p>`
    : html`<div class="reports">${q.items.map((r) => reportCard(page, r))}</div>`
}
${pager(q.nextHref)}`,
  );
}
