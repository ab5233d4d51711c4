import { html } from "hono/html";
import { choice, csrfField, fieldError, formErrors, type Html, hint, layout, type PageContext } from "../layout.ts";

export interface AdminSettingsValues {
  description: string;
  communityCreation: "admins" | "members";
  registrations: "open" | "approval" | "invite" | "closed";
  applicationQuestion: string;
  rules: string;
  privacyNotice: string;
  requireAgreement: boolean;
}

export function adminPage(
  page: PageContext,
  v: AdminSettingsValues,
  state: { saved?: boolean; errors?: Record<string, string>; message?: string } = {},
): Html {
  const radio = (name: string, value: string, label: string, current: string) =>
    choice("radio", name, value, label, { checked: current === value });
  return layout(
    page,
    "Instance settings",
    html`<h1>Instance settings</h1>
<p><a href="/admin/federation">Federation: blocked and allowed servers</a></p>
<p><a href="/admin/reports">Reports</a> · <a href="/admin/appeals">Appeals</a> ·
  <a href="/admin/registrations">Sign-ups to review</a> · <a href="/admin/invites">Invite links</a> ·
  <a href="/admin/crisis">Crisis resources</a></p>
${state.saved ? html`<div class="notice" role="status">Saved.</div>` : ""}
${formErrors(state.message)}
<form method="post" action="/admin" class="stack">
  ${csrfField(page.csrf)}
  <label for="description">Instance description ${hint("Markdown, shown on the home and about pages")}</label>
  <textarea id="description" name="description" rows="5" maxlength="5000">${v.description}</textarea>
  ${fieldError(state.errors, "description")}
  <fieldset><legend>Who may create communities</legend>
    ${radio("communityCreation", "admins", "Admins only", v.communityCreation)}
    ${radio("communityCreation", "members", "Any member", v.communityCreation)}
  </fieldset>
  <fieldset><legend>Sign-ups</legend>
    ${radio("registrations", "open", "Open to anyone", v.registrations)}
    ${radio("registrations", "approval", "Approval required: an admin reviews each application", v.registrations)}
    ${radio("registrations", "invite", "By invite link only", v.registrations)}
    ${radio("registrations", "closed", "Closed (invite links and the CLI still create accounts)", v.registrations)}
  </fieldset>
  <label for="applicationQuestion">Question for applicants ${hint("when approval is required")}</label>
  <input id="applicationQuestion" name="applicationQuestion" maxlength="500" value="${v.applicationQuestion}">
  ${fieldError(state.errors, "applicationQuestion")}
  <label for="rules">Instance rules ${hint("Markdown, shown on /rules and at sign-up")}</label>
  <textarea id="rules" name="rules" rows="6" maxlength="10000">${v.rules}</textarea>
  ${fieldError(state.errors, "rules")}
  <label for="privacyNotice">Privacy notice
    ${hint("Markdown, shown on /privacy: say how long backups are kept")}</label>
  <textarea id="privacyNotice" name="privacyNotice" rows="10" maxlength="20000">${v.privacyNotice}</textarea>
  ${fieldError(state.errors, "privacyNotice")}
  ${choice("checkbox", "requireAgreement", "1", "New accounts must accept the rules and the privacy notice", {
    checked: v.requireAgreement,
  })}
  <button type="submit">Save</button>
</form>`,
  );
}
