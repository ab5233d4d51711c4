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

const codesInstead = html`<p>You can also <a href="/recover">use one of your recovery codes</a>.</p>`;

/** "Forgot your password?": asks for a username or address; `sent` after asking (the same answer either way). */
export function forgotPasswordPage(
  page: PageContext,
  d: { enabled: boolean; sent?: boolean; state?: FormState },
): Html {
  const body = !d.enabled
    ? html`<p>This instance does not send email, so passwords cannot be reset by email here.</p>${codesInstead}`
    : d.sent
      ? html`<p class="notice" role="status">If an account with an email address matches what you entered, we have
sent a link to that address. It works once, for an hour. Check your spam folder if it does not arrive.</p>`
      : html`<p>Enter your username or the email address on your account. If the account has an address, we send a
link to set a new password.</p>
${formErrors(d.state?.message)}
<form method="post" action="/forgot-password" class="stack">
  ${csrfField(page.csrf)}
  <label for="identifier">Username or email address</label>
  <input id="identifier" name="identifier" required maxlength="320" autocomplete="username"
    value="${d.state?.values?.identifier ?? ""}"${describedBy(d.state?.errors, "identifier")}>
  ${fieldError(d.state?.errors, "identifier")}
  <button type="submit">Send me a link</button>
</form>
${codesInstead}`;
  return layout(page, "Reset your password", html`<h1>Reset your password</h1>${body}`);
}

/** The emailed link's page: a new password, or why the link no longer works. */
export function resetPasswordPage(page: PageContext, d: { token: string; valid: boolean; state?: FormState }): Html {
  const e = d.state?.errors;
  const body = !d.valid
    ? html`<p>This link is invalid, already used or expired. <a href="/forgot-password">Ask for a new one</a>.</p>`
    : html`${formErrors(d.state?.message)}
<form method="post" action="/reset-password/${d.token}" class="stack">
  ${csrfField(page.csrf)}
  <label for="password">New password ${hint("at least 8 characters")}</label>
  <input id="password" name="password" type="password" required minlength="8" maxlength="256"
    autocomplete="new-password"${describedBy(e, "password")}>
  ${fieldError(e, "password")}
  <button type="submit">Set the new password</button>
</form>
<p class="hint">Setting it logs you out everywhere.</p>`;
  return layout(page, "Choose a new password", html`<h1>Choose a new password</h1>${body}`);
}
