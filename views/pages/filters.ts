import { html } from "hono/html";
import { csrfField, formErrors, type Html, inlineForm, layout, type PageContext } from "../layout.ts";

export interface FilterRow {
  kind: "mute" | "block" | "block_domain";
  label: string;
  handle: string;
}

const kindLabel = { mute: "Muted", block: "Blocked", block_domain: "Blocked server" } as const;

const explanation = [
  html`Muted people's posts are hidden from you. `,
  html`Blocked people's posts are hidden too, and their direct messages to you are refused. `,
  html`A blocked server is hidden entirely, and your follows with it end. Nobody is told.`,
];

function filterItem(csrf: string, r: FilterRow): Html {
  const action =
    r.kind === "block_domain"
      ? `/settings/filters/servers/${encodeURIComponent(r.handle)}/remove`
      : `/@${r.handle}/unfilter`;
  const button = html`<button class="link">${r.kind === "mute" ? "Unmute" : "Unblock"}</button>`;
  return html`<li><span class="tag">${kindLabel[r.kind]}</span> ${r.label}
  ${inlineForm(csrf, action, button)}</li>`;
}

export function filtersPage(
  page: PageContext,
  rows: FilterRow[],
  state: { message?: string; notice?: string } = {},
): Html {
  return layout(
    page,
    "Muted and blocked",
    html`<h1>Muted and blocked</h1>
${state.notice ? html`<div class="notice" role="status">${state.notice}</div>` : ""}
${formErrors(state.message)}
<p class="hint">${explanation}</p>
${
  rows.length === 0
    ? html`<p>Nothing muted or blocked.</p>`
    : html`<ul class="plain">${rows.map((r) => filterItem(page.csrf, r))}</ul>`
}
<h2>Block a server</h2>
<form method="post" action="/settings/filters/servers" class="stack">
  ${csrfField(page.csrf)}
  <label for="domain">Domain</label>
  <input id="domain" name="domain" required maxlength="253" placeholder="example.social">
  <button type="submit" class="secondary">Block server</button>
</form>`,
  );
}
