import { html } from "hono/html";
import {
  choice,
  csrfField,
  describedBy,
  fieldError,
  formErrors,
  type Html,
  hint,
  inlineForm,
  layout,
  type PageContext,
  plural,
  richText,
  row,
  table,
  time,
} from "../layout.ts";
import type { FormState } from "./auth.ts";

export type RegistrationMode = "open" | "approval" | "invite" | "closed";

export interface SignUpView {
  mode: RegistrationMode;
  question: string;
  requireAgreement: boolean;
  hasRules: boolean;
  /** A usable invite in the link, or the code of one that is not usable. */
  invite: { code: string; usable: boolean } | null;
}

const intro =
  "Choose a pseudonym: your username is public and cannot be changed. " +
  "Your email is optional and never shown to anyone.";

export function signUpPage(page: PageContext, view: SignUpView, state: FormState = {}): Html {
  const v = state.values ?? {};
  const e = state.errors;
  const invited = view.invite?.usable === true;
  const badInvite = view.invite !== null && !view.invite.usable;
  const applying = !invited && view.mode === "approval";
  const accepting = invited || view.mode === "open" || view.mode === "approval";
  const closedWords =
    view.mode === "invite"
      ? "Sign-ups on this instance are by invitation: ask a member or an admin for an invite link."
      : "Sign-ups are closed on this instance.";
  const agreement = view.requireAgreement
    ? html`${choice(
        "checkbox",
        "agree",
        "1",
        html`I accept ${view.hasRules ? html`the <a href="/rules" target="_blank">rules</a> and ` : ""}the
          <a href="/privacy" target="_blank">privacy notice</a>`,
        { required: true, checked: v.agree === "1" },
      )}
  ${fieldError(e, "agree")}`
    : "";
  const form = html`<p>${intro}</p>
${applying ? html`<p>An admin reads every application before the account is created.</p>` : ""}
${formErrors(state.message)}
<form method="post" action="/signup" class="stack">
  ${csrfField(page.csrf)}
  ${invited ? html`<input type="hidden" name="invite" value="${view.invite?.code}">` : ""}
  <label for="username">Username</label>
  <input id="username" name="username" required maxlength="30" autocomplete="username"
    value="${v.username ?? ""}"${describedBy(e, "username")}>
  ${fieldError(e, "username")}
  <label for="password">Password ${hint("at least 8 characters")}</label>
  <input id="password" name="password" type="password" required minlength="8" maxlength="256"
    autocomplete="new-password"${describedBy(e, "password")}>
  ${fieldError(e, "password")}
  <label for="email">Email ${hint("optional")}</label>
  <input id="email" name="email" type="email" maxlength="254" autocomplete="email"
    value="${v.email ?? ""}"${describedBy(e, "email")}>
  ${fieldError(e, "email")}
  ${
    applying
      ? html`<label for="answer">${view.question} ${hint("the admins read this")}</label>
  <textarea id="answer" name="answer" rows="4" maxlength="1000" required${describedBy(e, "answer")}>${
    v.answer ?? ""
  }</textarea>
  ${fieldError(e, "answer")}`
      : ""
  }
  ${agreement}
  ${fieldError(e, "invite")}
  <button type="submit">${applying ? "Apply" : "Sign up"}</button>
</form>
<p>Already have an account? <a href="/login">Log in</a>.</p>`;
  return layout(
    page,
    "Sign up",
    html`<h1>Create an account</h1>
${
  badInvite ? html`<p class="notice" role="status">This invite link has expired, been used up or been revoked.</p>` : ""
}
${accepting ? form : html`<p>${closedWords}</p>`}`,
  );
}

export function appliedPage(page: PageContext, username: string): Html {
  return layout(
    page,
    "Application sent",
    html`<h1>Application sent</h1>
<p>Thank you, ${username}. An admin will read your application. Once it is approved you can log in with the
username and password you chose.</p>`,
  );
}

/** The rules or the privacy notice. */
export function documentPage(page: PageContext, title: string, bodyHtml: string, empty: string): Html {
  return layout(page, title, html`<h1>${title}</h1>${bodyHtml ? richText(bodyHtml) : html`<p>${empty}</p>`}`);
}

export interface ApplicationView {
  username: string;
  answer: string;
  hasEmail: boolean;
  agreed: boolean;
  createdAt: string;
}

export function applicationsPage(page: PageContext, apps: ApplicationView[], done?: string): Html {
  const item = (a: ApplicationView) => {
    const at = `/admin/registrations/${encodeURIComponent(a.username)}`;
    return html`<li class="card">
  <p><strong>${a.username}</strong> · applied ${time(a.createdAt)}${a.hasEmail ? " · gave an email address" : ""}
    ${a.agreed ? " · accepted the rules" : ""}</p>
  <blockquote>${a.answer}</blockquote>
  <p>${inlineForm(page.csrf, `${at}/approve`, html`<button type="submit">Approve</button>`)}
    ${inlineForm(page.csrf, `${at}/reject`, html`<button type="submit" class="secondary">Reject</button>`)}</p>
</li>`;
  };
  return layout(
    page,
    "Sign-ups to review",
    html`<h1>Sign-ups to review</h1>
<p><a href="/admin">Instance settings</a> · <a href="/admin/invites">Invite links</a></p>
${done ? html`<div class="notice" role="status">${done}</div>` : ""}
${
  apps.length === 0
    ? html`<p>No application is waiting.</p>`
    : html`<p>${plural(apps.length, "application")} waiting, oldest first.</p><ul class="cards">${apps.map(item)}</ul>`
}`,
  );
}

export interface InviteView {
  code: string;
  link: string;
  uses: number;
  maxUses: number | null;
  expiresAt: string | null;
  usable: boolean;
}

export function invitesPage(page: PageContext, invites: InviteView[], state: FormState & { made?: string } = {}): Html {
  const expiries: [string, string][] = [
    ["30m", "30 minutes"],
    ["1h", "1 hour"],
    ["6h", "6 hours"],
    ["12h", "12 hours"],
    ["1d", "1 day"],
    ["7d", "1 week"],
    ["never", "Never"],
  ];
  const uses: [string, string][] = [
    ["", "No limit"],
    ["1", "1 use"],
    ["5", "5 uses"],
    ["10", "10 uses"],
    ["25", "25 uses"],
    ["100", "100 uses"],
  ];
  const rows = invites.map((i) =>
    row(
      html`<code>${i.link}</code>`,
      i.maxUses === null ? `${i.uses}` : `${i.uses} of ${i.maxUses}`,
      i.expiresAt ? time(i.expiresAt) : "never",
      i.usable
        ? inlineForm(
            page.csrf,
            `/admin/invites/${i.code}/revoke`,
            html`<button type="submit" class="secondary">Revoke</button>`,
          )
        : "expired or revoked",
    ),
  );
  return layout(
    page,
    "Invite links",
    html`<h1>Invite links</h1>
<p><a href="/admin">Instance settings</a> · <a href="/admin/registrations">Sign-ups to review</a></p>
<p>An invite link signs someone up without review, even when sign-ups are closed.</p>
${state.made ? html`<div class="notice" role="status">New invite link: <code>${state.made}</code></div>` : ""}
${formErrors(state.message)}
<form method="post" action="/admin/invites" class="stack">
  ${csrfField(page.csrf)}
  <label for="uses">Uses</label>
  <select id="uses" name="uses">${uses.map(([v, l]) => html`<option value="${v}">${l}</option>`)}</select>
  <label for="expires">Expires after</label>
  <select id="expires" name="expires">${expiries.map(
    ([v, l]) => html`<option value="${v}"${v === "7d" ? " selected" : ""}>${l}</option>`,
  )}</select>
  <button type="submit">Make an invite link</button>
</form>
${rows.length > 0 ? table(["Link", "Used", "Expires", ""], rows) : html`<p>No invite link yet.</p>`}`,
  );
}
