import { html } from "hono/html";
import {
  csrfField,
  describedBy,
  type FormState,
  fieldError,
  formErrors,
  type Html,
  hint,
  layout,
  type PageContext,
} from "../layout.ts";

/** The codes, shown once: at sign-up and when the member makes new ones. */
export function recoveryCodesPage(page: PageContext, codes: string[], next: string): Html {
  return layout(
    page,
    "Your recovery codes",
    html`<h1>Your recovery codes</h1>
<p>If you forget your password, one of these codes lets you set a new one. Each works once. Keep them somewhere
safe, away from this device (write them down, or keep them in a password manager): they are shown only now.</p>
<ol class="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<p><a class="button" href="${next}">I have saved them: continue</a></p>`,
  );
}

export function recoverPage(page: PageContext, state: FormState = {}): Html {
  const v = state.values ?? {};
  const e = state.errors;
  return layout(
    page,
    "Recover your account",
    html`<h1>Recover your account</h1>
<p>Use one of the recovery codes you saved when you signed up to set a new password.</p>
${formErrors(state.message)}
<form method="post" action="/recover" class="stack">
  ${csrfField(page.csrf)}
  <label for="username">Username</label>
  <input id="username" name="username" required maxlength="30" autocomplete="username" value="${v.username ?? ""}">
  <label for="code">Recovery code ${hint("like ABCD-EFGH-JKMN-PQRS")}</label>
  <input id="code" name="code" required maxlength="40" autocomplete="one-time-code"${describedBy(e, "code")}>
  ${fieldError(e, "code")}
  <label for="password">New password ${hint("at least 8 characters")}</label>
  <input id="password" name="password" type="password" required minlength="8" maxlength="256"
    autocomplete="new-password"${describedBy(e, "password")}>
  ${fieldError(e, "password")}
  <button type="submit">Set the new password</button>
</form>
<p>No codes left? An admin of this instance can help.</p>`,
  );
}

/** The settings section: how many codes are left, and making new ones. */
export function recoverySection(csrf: string, left: number, state: FormState = {}): Html {
  return html`<section aria-labelledby="recovery-h">
<h2 id="recovery-h">Recovery codes</h2>
<p>${
    left === 0
      ? html`<strong>You have no recovery codes.</strong> Without them, or an email address, a forgotten password
  can't be reset.`
      : `You have ${left} unused recovery code${left === 1 ? "" : "s"}.`
  } Making new ones replaces the old.</p>
${formErrors(state.message)}
<form method="post" action="/settings/recovery-codes" class="stack">
  ${csrfField(csrf)}
  <label for="recovery-current">Your password</label>
  <input id="recovery-current" name="current" type="password" required autocomplete="current-password"
    ${describedBy(state.errors, "current")}>
  ${fieldError(state.errors, "current")}
  <button type="submit">Make new recovery codes</button>
</form>
</section>`;
}
