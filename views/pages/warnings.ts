import { html } from "hono/html";
import {
  choice,
  csrfField,
  fieldError,
  formErrors,
  type Html,
  hint,
  inlineForm,
  layout,
  type PageContext,
} from "../layout.ts";

/** As db/warnings-schema.ts has them (views don't import the database's types). */
type WarningChoice = "expand" | "collapse" | "hide";
type WarningRequirement = "never" | "threads" | "all";

export interface CategoryView {
  id: string;
  label: string;
  description: string;
  crisis: boolean;
}

export function communityWarningsPage(
  page: PageContext,
  v: {
    slug: string;
    name: string;
    categories: CategoryView[];
    required: WarningRequirement;
    crisis: { addition: string; alert: boolean };
  },
  state: { errors?: Record<string, string>; message?: string; values?: Record<string, string> } = {},
): Html {
  const base = `/@${v.slug}/warnings`;
  const radio = (value: WarningRequirement, label: string) =>
    choice("radio", "required", value, label, { checked: v.required === value });
  const item = (c: CategoryView) => html`<li>
  <strong>${c.label}</strong>${c.crisis ? " · shows the crisis resources" : ""}
  ${c.description ? html`<br><span class="hint">${c.description}</span>` : ""}
  ${inlineForm(page.csrf, `${base}/${c.id}/delete`, html`<button type="submit" class="secondary">Remove</button>`)}
</li>`;
  return layout(
    page,
    `Content warnings · ${v.name}`,
    html`<h1>Content warnings in ${v.name}</h1>
<p><a href="/@${v.slug}/moderation">Back to moderation</a></p>
<p>Categories members choose from when they post. A post's warning is shown on every server as a content warning
(the category's name, then the author's own words), and members can choose to expand, collapse or hide each
category.</p>
${formErrors(state.message)}
${v.categories.length > 0 ? html`<ul class="cards">${v.categories.map(item)}</ul>` : html`<p>No category yet.</p>`}
<h2>Add a category</h2>
<form method="post" action="${base}" class="stack">
  ${csrfField(page.csrf)}
  <label for="label">Name ${hint("e.g. self-harm, pregnancy loss, graphic medical images")}</label>
  <input id="label" name="label" required maxlength="60" value="${state.values?.label ?? ""}">
  ${fieldError(state.errors, "label")}
  <label for="description">What it covers ${hint("optional, shown to authors")}</label>
  <input id="description" name="description" maxlength="300" value="${state.values?.description ?? ""}">
  ${choice("checkbox", "crisis", "1", "Show the crisis resources on threads carrying it")}
  <button type="submit">Add</button>
</form>
<h2>Required?</h2>
<form method="post" action="${base}/requirement" class="stack">
  ${csrfField(page.csrf)}
  <fieldset><legend>Every post must carry one of these categories</legend>
    ${radio("never", "No: a warning is the author's choice")}
    ${radio("threads", "On every new thread")}
    ${radio("all", "On every thread and every reply")}
  </fieldset>
  <button type="submit">Save</button>
</form>
<h2>Crisis resources</h2>
<form method="post" action="${base}/crisis" class="stack">
  ${csrfField(page.csrf)}
  <label for="addition">Added under the instance's crisis notice
    ${hint("Markdown: e.g. a helpline for this condition")}</label>
  <textarea id="addition" name="addition" rows="3" maxlength="2000">${v.crisis.addition}</textarea>
  ${fieldError(state.errors, "addition")}
  ${choice(
    "checkbox",
    "alert",
    "1",
    "Tell the moderators when a post here holds a crisis keyword (a report, category “Risk of self-harm”)",
    { checked: v.crisis.alert },
  )}
  <button type="submit">Save</button>
</form>`,
  );
}

export interface MemberCategoryView {
  id: string;
  label: string;
  description: string;
  community: string;
  communityName: string | null;
  choice: WarningChoice;
}

export function warningSettingsPage(page: PageContext, categories: MemberCategoryView[], saved: boolean): Html {
  const options: [WarningChoice, string][] = [
    ["expand", "Always show"],
    ["collapse", "Behind the warning"],
    ["hide", "Hide such posts"],
  ];
  const row = (c: MemberCategoryView) => html`<fieldset>
  <legend>${c.label} <span class="hint">in ${c.communityName ?? c.community}</span></legend>
  ${c.description ? html`<p class="hint">${c.description}</p>` : ""}
  ${options.map(([value, label]) => choice("radio", `choice:${c.id}`, value, label, { checked: c.choice === value }))}
</fieldset>`;
  return layout(
    page,
    "Content warnings",
    html`<h1>Content warnings</h1>
<p><a href="/settings">Settings</a></p>
${saved ? html`<div class="notice" role="status">Saved.</div>` : ""}
${
  categories.length === 0
    ? html`<p>None of your communities has warning categories.</p>`
    : html`<form method="post" action="/settings/warnings" class="stack">
  ${csrfField(page.csrf)}
  ${categories.map(row)}
  <button type="submit">Save</button>
</form>`
}`,
  );
}
