import { html } from "hono/html";
import {
  choice,
  csrfField,
  fieldError,
  flag,
  formErrors,
  type Html,
  hint,
  inlineForm,
  layout,
  type PageContext,
  plural,
  row,
  table,
} from "../layout.ts";

export interface BlockRow {
  domain: string;
  severity: "suspend" | "silence" | "noop";
  reject_media: number;
  reject_reports: number;
  public_comment: string | null;
  private_comment: string | null;
  obfuscate: number;
}

const severityLabel = { suspend: "Suspend", silence: "Limit", noop: "No action" } as const;

const removeButton = html`<button class="link danger">Remove</button>`;

function blockRow(csrf: string, b: BlockRow): Html {
  const flags = [
    b.reject_media ? "reject media" : "",
    b.reject_reports ? "reject reports" : "",
    b.obfuscate ? "obfuscated" : "",
  ];
  const privately = b.private_comment ? html`<br><span class="hint">Private: ${b.private_comment}</span>` : "";
  const remove = inlineForm(csrf, `/admin/federation/blocks/${encodeURIComponent(b.domain)}/remove`, removeButton);
  return html`<tr>
  <td>${b.domain}</td><td>${severityLabel[b.severity]}</td>
  <td>${flags.filter(Boolean).join(", ") || "—"}</td>
  <td>${b.public_comment ?? ""}${privately}</td>
  <td>${remove}</td>
</tr>`;
}

function allowItem(csrf: string, domain: string): Html {
  const remove = inlineForm(csrf, `/admin/federation/allows/${encodeURIComponent(domain)}/remove`, removeButton);
  return html`<li>${domain} ${remove}</li>`;
}

export function federationAdminPage(
  page: PageContext,
  d: {
    mode: "open" | "allowlist";
    blocks: BlockRow[];
    allows: string[];
    errors?: Record<string, string>;
    message?: string;
    notice?: string;
  },
): Html {
  const mode = (value: "open" | "allowlist", label: string) =>
    choice("radio", "mode", value, label, { checked: d.mode === value });
  const severity = (value: BlockRow["severity"], label: string, checked = false) =>
    choice("radio", "severity", value, label, { checked });
  return layout(
    page,
    "Federation",
    html`<h1>Federation</h1>
${d.notice ? html`<div class="notice" role="status">${d.notice}</div>` : ""}
${formErrors(d.message)}
<section aria-labelledby="mode-h">
<h2 id="mode-h">Mode</h2>
<form method="post" action="/admin/federation/mode" class="stack">
  ${csrfField(page.csrf)}
  ${mode("open", "Open: federate with every server that is not blocked")}
  ${mode("allowlist", "Limited: federate only with the servers on the allow list")}
  <button type="submit">Save mode</button>
</form>
</section>
<section aria-labelledby="blocks-h">
<h2 id="blocks-h">Blocked servers (${d.blocks.length})</h2>
<p><a href="/admin/federation/blocks.csv" download>Export as CSV</a> (Mastodon's format)</p>
${
  d.blocks.length === 0
    ? html`<p>No blocks.</p>`
    : table(
        ["Domain", "Severity", "Flags", "Comments", ""],
        d.blocks.map((b) => blockRow(page.csrf, b)),
      )
}
<h3>Block a server</h3>
<form method="post" action="/admin/federation/blocks" class="stack">
  ${csrfField(page.csrf)}
  <label for="domain">Domain ${hint("subdomains are covered too")}</label>
  <input id="domain" name="domain" required maxlength="253">
  ${fieldError(d.errors, "domain")}
  <fieldset><legend>Severity</legend>
    ${severity("suspend", "Suspend: refuse everything, stop delivering, purge what we hold from it", true)}
    ${severity("silence", "Limit: its posts are not re-shared or listed publicly; its follows need approval")}
    ${severity("noop", "No action (keep a note only)")}
  </fieldset>
  ${choice("checkbox", "rejectMedia", "1", "Reject media files")}
  ${choice("checkbox", "rejectReports", "1", "Reject reports")}
  ${choice("checkbox", "obfuscate", "1", "Obfuscate the domain on the public list")}
  <label for="publicComment">Public comment</label>
  <input id="publicComment" name="publicComment" maxlength="1000">
  <label for="privateComment">Private comment ${hint("admins only")}</label>
  <input id="privateComment" name="privateComment" maxlength="1000">
  <button type="submit">Block</button>
</form>
<h3>Import a block list</h3>
<form method="post" action="/admin/federation/import" class="stack" enctype="multipart/form-data">
  ${csrfField(page.csrf)}
  <label for="csv">CSV file ${hint(html`Mastodon's export, or a list with a domain column`)}</label>
  <input id="csv" name="csv" type="file" accept=".csv,text/csv" required>
  <button type="submit" class="secondary">Review the import</button>
</form>
</section>
<section aria-labelledby="allows-h">
<h2 id="allows-h">Allowed servers (${d.allows.length})</h2>
<p class="hint">Used in limited mode only.</p>
<ul class="plain">${d.allows.map((a) => allowItem(page.csrf, a))}</ul>
<form method="post" action="/admin/federation/allows" class="stack">
  ${csrfField(page.csrf)}
  <label for="allow-domain">Allow a server</label>
  <input id="allow-domain" name="domain" required maxlength="253">
  <button type="submit" class="secondary">Allow</button>
</form>
</section>`,
  );
}

export interface ReviewRow {
  domain: string;
  severity: string;
  status: "new" | "changed" | "unchanged" | "covered";
  coveredBy?: string;
  followsCut: number;
}

export function importReviewPage(
  page: PageContext,
  d: { rows: ReviewRow[]; problems: { line: number; message: string }[]; csv: string },
): Html {
  const changes = d.rows.filter((r) => r.status === "new" || r.status === "changed");
  const cut = changes.reduce((n, r) => n + r.followsCut, 0);
  const summary = `${plural(changes.length, "change")}; ${plural(cut, "local follow")} would be cut`;
  const rejected =
    d.problems.length > 0
      ? html`<h2>Rejected rows</h2><ul>${d.problems.map((p) => html`<li>Line ${p.line}: ${p.message}</li>`)}</ul>`
      : "";
  const change = (r: ReviewRow) => (r.status === "covered" ? `already covered by ${r.coveredBy}` : r.status);
  const rows = d.rows.map((r) => row(r.domain, r.severity, change(r), r.followsCut));
  return layout(
    page,
    "Review import",
    html`<h1>Review the import</h1>
<p>${summary}; ${plural(d.problems.length, "row")} rejected.</p>
${rejected}
${table(["Domain", "Severity", "Change", "Local follows cut"], rows)}
<form method="post" action="/admin/federation/import/confirm" class="stack">
  ${csrfField(page.csrf)}
  <input type="hidden" name="csv" value="${d.csv}">
  <button type="submit"${flag("disabled", changes.length === 0)}>Apply ${plural(changes.length, "change")}</button>
</form>
<p><a href="/admin/federation">Cancel</a></p>`,
  );
}

export function moderatedServersPage(
  page: PageContext,
  rows: { domain: string; severity: "suspend" | "silence"; comment: string | null }[],
): Html {
  return layout(
    page,
    "Moderated servers",
    html`<h1>Moderated servers</h1>
<p>This instance does not exchange content with suspended servers, and limits what it shows from limited ones.</p>
${
  rows.length === 0
    ? html`<p>None.</p>`
    : table(
        ["Server", "Severity", "Reason"],
        rows.map((r) => row(r.domain, r.severity === "suspend" ? "Suspended" : "Limited", r.comment ?? "")),
      )
}`,
  );
}
