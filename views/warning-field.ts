// The composer's content warning: the community's categories (one may be
// required), then the author's own words, sent together as one warning.
import { html } from "hono/html";
import { describedBy, fieldError, type Html, hint } from "./layout.ts";

export interface WarningOptions {
  categories: { id: string; label: string; description: string }[];
  /** Whether this form must carry a category. */
  required: boolean;
}

export function warningField(
  idPrefix: string,
  options: WarningOptions | undefined,
  state: { values?: Record<string, string>; errors?: Record<string, string> } | undefined,
  open = false,
): Html {
  const v = state?.values ?? {};
  const e = state?.errors;
  // The new-thread form's fields keep their plain ids (`cw`, `warning`); reply forms prefix theirs.
  const id = (name: string) => (idPrefix ? `${idPrefix}-${name}` : name);
  const cats = options?.categories ?? [];
  const select =
    cats.length === 0
      ? ""
      : html`<label for="${id("warning")}">Category ${hint(options?.required ? "required here" : "optional")}</label>
  <select id="${id("warning")}" name="warning"${options?.required ? " required" : ""}${describedBy(e, "warning")}>
    <option value="">${options?.required ? "Choose a category…" : "No category"}</option>
    ${cats.map(
      (c) =>
        html`<option value="${c.id}"${v.warning === c.id ? " selected" : ""}>${c.label}${
          c.description ? ` (${c.description})` : ""
        }</option>`,
    )}
  </select>
  ${fieldError(e, "warning")}`;
  const words = html`<label for="${id("cw")}">${cats.length > 0 ? "Your own words" : "Content warning"}
    ${hint("optional: readers must click to see the post")}</label>
  <input id="${id("cw")}" name="cw" maxlength="500" value="${v.cw ?? ""}"${describedBy(e, "cw")}>
  ${fieldError(e, "cw")}`;
  const required = options?.required === true;
  const expanded = open || required || Boolean(v.cw) || Boolean(v.warning) || Boolean(e?.warning);
  return html`<details class="warning-field"${expanded ? " open" : ""}><summary>Content warning${
    required ? " (required in this community)" : ""
  }</summary>
  ${select}
  ${words}
</details>`;
}
