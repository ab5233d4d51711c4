import { html } from "hono/html";
import {
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

/** A statement of reasons (DSA Art. 17), as the person concerned and the reviewers read it. */
export interface Statement {
  id: string;
  /** "Removed a post". */
  label: string;
  /** "“Salt loading” by @bob". */
  target: string;
  targetHref: string | null;
  reason: string | null;
  /** "@mod", "a moderator", "an admin", "the community". */
  moderator: string;
  /** Null for a decision on a whole account, taken by the instance's admins. */
  community: string | null;
  at: string;
  expiresAt: string | null;
  reversed: boolean;
  /** The reader is the person the action is about. */
  mine: boolean;
  appealable: boolean;
  /** Whether this kind of action can be appealed at all. */
  appealableKind: boolean;
  /** The community's server, when it is not this one: appeals go there. */
  decidedOn: string | null;
  appeal: { status: string | null; moderatorNote: string | null; adminNote: string | null } | null;
}

const APPEAL_STATUS: Record<string, string> = {
  open: "The community's moderators are reviewing the appeal.",
  escalated: "The moderators upheld the decision; the instance's admins are now reviewing the appeal.",
  granted: "The appeal was granted: the decision was reversed.",
  denied: "The appeal was denied: the decision stands.",
};

function appealSection(page: PageContext, s: Statement, state: FormState): Html | string {
  if (s.appeal) {
    const notes = [
      s.appeal.moderatorNote ? html`<p>Note from the moderators: ${s.appeal.moderatorNote}</p>` : "",
      s.appeal.adminNote ? html`<p>Note from the admins: ${s.appeal.adminNote}</p>` : "",
    ];
    const status =
      s.community === null && s.appeal.status === "escalated"
        ? "The instance's admins are reviewing the appeal."
        : (APPEAL_STATUS[s.appeal.status ?? "open"] ?? s.appeal.status);
    return html`<h2>Appeal</h2><p class="appeal-status"><strong>${status}</strong></p>
${notes}`;
  }
  if (s.reversed) return html`<h2>Appeal</h2><p>This decision was reversed; there is nothing to appeal.</p>`;
  if (!s.appealableKind) return html`<h2>Appeal</h2><p>This kind of decision cannot be appealed.</p>`;
  if (s.decidedOn)
    return html`<h2>Appeal</h2><p>This was decided by the community on its own server, ${s.decidedOn}. To appeal,
contact its moderators there: servers do not pass appeals on to each other.</p>`;
  const how =
    s.community === null
      ? html`<p>You may appeal this decision once. The admins of this instance review it; you are told of their
decision in your notifications.</p>`
      : html`<p>You may appeal this decision once. The moderators of ${s.community} review it first; if they
uphold it, the admins of this instance decide. You are told of each decision in your notifications.</p>`;
  if (!s.mine) return html`<h2>Appeal</h2><p>The person concerned may appeal; they have not.</p>`;
  const e = state.errors;
  return html`<h2>Appeal</h2>${how}
${formErrors(state.message)}
<form method="post" action="/moderation/actions/${s.id}/appeal" class="stack">
  ${csrfField(page.csrf)}
  <label for="text">Why should it be reversed? ${hint("at most 2000 characters")}</label>
  <textarea id="text" name="text" rows="5" maxlength="2000" required${describedBy(e, "text")}>${
    state.values?.text ?? ""
  }</textarea>
  ${fieldError(e, "text")}
  <button type="submit">Send appeal</button>
</form>`;
}

/** The decision, why, and the appeal; `lead` opens the page (the suspended account's notice). */
export function statementPage(page: PageContext, s: Statement, state: FormState = {}, lead: Html | string = ""): Html {
  const target = s.targetHref ? html`<a href="${s.targetHref}">${s.target}</a>` : s.target;
  const where =
    s.community === null
      ? html`<dt>Where</dt><dd>This instance (the whole account)</dd>
  <dt>On what grounds</dt><dd>This instance's <a href="/about">rules and terms</a>.</dd>`
      : html`<dt>Where</dt><dd><a href="/@${s.community}">${s.community}</a></dd>
  <dt>On what grounds</dt><dd>The <a href="/@${s.community}">community's rules</a> and this instance's
  <a href="/about">terms</a>.</dd>`;
  return layout(
    page,
    "Moderation decision",
    html`${lead}<h1>Moderation decision</h1>
<dl class="statement">
  <dt>What was done</dt><dd>${s.label}${s.reversed ? html` <span class="tag">reversed</span>` : ""}</dd>
  <dt>To what</dt><dd>${target || "—"}</dd>
  <dt>Why</dt><dd class="reason">${s.reason ?? "No reason was given."}</dd>
  <dt>By whom</dt><dd>${s.moderator}</dd>
  <dt>When</dt><dd>${time(s.at)}${s.expiresAt ? html` (until ${time(s.expiresAt)})` : ""}</dd>
  ${where}
  <dt>How it was decided</dt><dd>By a person, not by an automated system.</dd>
</dl>
${appealSection(page, s, state)}
<p class="hint">Besides appealing here, you may turn to a certified out-of-court dispute settlement body or to
a court (EU Digital Services Act, Articles 20 and 21).</p>`,
  );
}

/** An appeal as its reviewers see it. */
export interface AppealCard {
  id: string;
  text: string;
  appellant: string;
  label: string;
  reason: string | null;
  actedAt: string;
  createdAt: string;
  statementHref: string;
  post: { label: string; href: string } | null;
  community: string | null;
  moderatorNote: string | null;
  decideAction: string;
}

function decideForm(page: PageContext, a: AppealCard, admin: boolean): Html {
  const second = admin
    ? html`<button name="decision" value="deny" class="secondary">Deny (the decision stands)</button>`
    : html`<button name="decision" value="uphold" class="secondary">Uphold (send to the admins)</button>`;
  return html`<form method="post" action="${a.decideAction}" class="stack">
  ${csrfField(page.csrf)}
  <label for="note-${a.id}">Note to the appellant ${hint("optional")}</label>
  <textarea id="note-${a.id}" name="note" rows="2" maxlength="2000"></textarea>
  <div class="actions"><button name="decision" value="grant">Grant (reverse the decision)</button> ${second}</div>
</form>`;
}

function appealCard(page: PageContext, a: AppealCard, admin: boolean): Html {
  const post = a.post ? html` · <a href="${a.post.href}">${a.post.label}</a>` : "";
  const where = a.community ? html` in <a href="/@${a.community}">${a.community}</a>` : "";
  return html`<article class="card appeal" id="appeal-${a.id}">
  <p class="meta"><a href="${a.statementHref}">${a.label}</a>${where} · ${time(a.actedAt)}${post}</p>
  <p class="meta">Reason given: ${a.reason ?? "none"}</p>
  <p class="meta">Appeal by <span class="appellant">${a.appellant}</span> · ${time(a.createdAt)}</p>
  <blockquote class="comment">${a.text}</blockquote>
  ${a.moderatorNote ? html`<p class="meta">The moderators upheld it: ${a.moderatorNote}</p>` : ""}
  ${decideForm(page, a, admin)}
</article>`;
}

export function appealQueuePage(
  page: PageContext,
  q: { title: string; admin: boolean; items: AppealCard[]; nextHref: string | null; reportsHref: string },
): Html {
  const intro = q.admin
    ? "Appeals the moderators upheld. Granting one reverses the decision everywhere it was sent; denying it is final."
    : "Granting an appeal reverses the decision everywhere it was sent; " +
      "upholding it sends it to the instance's admins.";
  return layout(
    page,
    q.title,
    html`<h1>${q.title}</h1>
<p><a href="${q.reportsHref}">Reports</a></p>
<p class="hint">${intro}</p>
${
  q.items.length === 0
    ? html`<p>No appeals waiting.</p>`
    : html`<div class="appeals">${q.items.map((a) => appealCard(page, a, q.admin))}</div>`
}
${pager(q.nextHref)}`,
  );
}
