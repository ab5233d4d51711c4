import { html } from "hono/html";
import { csrfField, fieldError, formErrors, type Html, layout, type PageContext } from "../layout.ts";

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
  <label class="check"><input type="radio" name="mode" value="open"${d.mode === "open" ? html` checked` : ""}> Open: federate with every server that is not blocked</label>
  <label class="check"><input type="radio" name="mode" value="allowlist"${d.mode === "allowlist" ? html` checked` : ""}> Limited: federate only with the servers on the allow list</label>
  <button type="submit">Save mode</button>
</form>
</section>
<section aria-labelledby="blocks-h">
<h2 id="blocks-h">Blocked servers (${d.blocks.length})</h2>
<p><a href="/admin/federation/blocks.csv" download>Export as CSV</a> (Mastodon's format)</p>
${
  d.blocks.length === 0
    ? html`<p>No blocks.</p>`
    : html`<table><thead><tr><th>Domain</th><th>Severity</th><th>Flags</th><th>Comments</th><th></th></tr></thead><tbody>${d.blocks.map(
        (b) => html`<tr>
  <td>${b.domain}</td><td>${severityLabel[b.severity]}</td>
  <td>${[b.reject_media ? "reject media" : "", b.reject_reports ? "reject reports" : "", b.obfuscate ? "obfuscated" : ""].filter(Boolean).join(", ") || "—"}</td>
  <td>${b.public_comment ?? ""}${b.private_comment ? html`<br><span class="hint">Private: ${b.private_comment}</span>` : ""}</td>
  <td><form method="post" action="/admin/federation/blocks/${encodeURIComponent(b.domain)}/remove" class="inline">${csrfField(page.csrf)}<button class="link danger">Remove</button></form></td>
</tr>`,
      )}</tbody></table>`
}
<h3>Block a server</h3>
<form method="post" action="/admin/federation/blocks" class="stack">
  ${csrfField(page.csrf)}
  <label for="domain">Domain <span class="hint">(subdomains are covered too)</span></label>
  <input id="domain" name="domain" required maxlength="253">
  ${fieldError(d.errors, "domain")}
  <fieldset><legend>Severity</legend>
    <label class="check"><input type="radio" name="severity" value="suspend" checked> Suspend: refuse everything, stop delivering, purge what we hold from it</label>
    <label class="check"><input type="radio" name="severity" value="silence"> Limit: its posts are not re-shared or listed publicly; its follows need approval</label>
    <label class="check"><input type="radio" name="severity" value="noop"> No action (keep a note only)</label>
  </fieldset>
  <label class="check"><input type="checkbox" name="rejectMedia" value="1"> Reject media files</label>
  <label class="check"><input type="checkbox" name="rejectReports" value="1"> Reject reports</label>
  <label class="check"><input type="checkbox" name="obfuscate" value="1"> Obfuscate the domain on the public list</label>
  <label for="publicComment">Public comment</label>
  <input id="publicComment" name="publicComment" maxlength="1000">
  <label for="privateComment">Private comment <span class="hint">(admins only)</span></label>
  <input id="privateComment" name="privateComment" maxlength="1000">
  <button type="submit">Block</button>
</form>
<h3>Import a block list</h3>
<form method="post" action="/admin/federation/import" class="stack" enctype="multipart/form-data">
  ${csrfField(page.csrf)}
  <label for="csv">CSV file <span class="hint">(Mastodon's export, or a list with a domain column)</span></label>
  <input id="csv" name="csv" type="file" accept=".csv,text/csv" required>
  <button type="submit" class="secondary">Review the import</button>
</form>
</section>
<section aria-labelledby="allows-h">
<h2 id="allows-h">Allowed servers (${d.allows.length})</h2>
<p class="hint">Used in limited mode only.</p>
<ul class="plain">${d.allows.map((a) => html`<li>${a} <form method="post" action="/admin/federation/allows/${encodeURIComponent(a)}/remove" class="inline">${csrfField(page.csrf)}<button class="link danger">Remove</button></form></li>`)}</ul>
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
  return layout(
    page,
    "Review import",
    html`<h1>Review the import</h1>
<p>${changes.length} ${changes.length === 1 ? "change" : "changes"}; ${cut} local ${cut === 1 ? "follow" : "follows"} would be cut; ${d.problems.length} ${d.problems.length === 1 ? "row" : "rows"} rejected.</p>
${d.problems.length > 0 ? html`<h2>Rejected rows</h2><ul>${d.problems.map((p) => html`<li>Line ${p.line}: ${p.message}</li>`)}</ul>` : ""}
<table><thead><tr><th>Domain</th><th>Severity</th><th>Change</th><th>Local follows cut</th></tr></thead><tbody>${d.rows.map((r) => html`<tr><td>${r.domain}</td><td>${r.severity}</td><td>${r.status === "covered" ? `already covered by ${r.coveredBy}` : r.status}</td><td>${r.followsCut}</td></tr>`)}</tbody></table>
<form method="post" action="/admin/federation/import/confirm" class="stack">
  ${csrfField(page.csrf)}
  <input type="hidden" name="csv" value="${d.csv}">
  <button type="submit"${changes.length === 0 ? html` disabled` : ""}>Apply ${changes.length} ${changes.length === 1 ? "change" : "changes"}</button>
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
${rows.length === 0 ? html`<p>None.</p>` : html`<table><thead><tr><th>Server</th><th>Severity</th><th>Reason</th></tr></thead><tbody>${rows.map((r) => html`<tr><td>${r.domain}</td><td>${r.severity === "suspend" ? "Suspended" : "Limited"}</td><td>${r.comment ?? ""}</td></tr>`)}</tbody></table>`}`,
  );
}
