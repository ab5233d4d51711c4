import { html } from "hono/html";
import { choice, csrfField, fieldError, formErrors, type Html, hint, layout, type PageContext } from "../layout.ts";

export interface AdminSettingsValues {
  description: string;
  communityCreation: "admins" | "members";
  registrations: "open" | "closed";
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
<p><a href="/admin/reports">Reports</a> · <a href="/admin/appeals">Appeals</a></p>
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
    ${radio("registrations", "closed", "Closed (admins create accounts with the CLI)", v.registrations)}
  </fieldset>
  <button type="submit">Save</button>
</form>`,
  );
}
