import { html } from "hono/html";
import { csrfField, fieldError, formErrors, type Html, layout, type PageContext, time } from "../layout.ts";

export interface ExportItem {
  id: string;
  status: "queued" | "running" | "ready" | "failed";
  progress: number;
  total: number;
  sizeBytes: number | null;
  error: string | null;
  createdAt: string;
  expiresAt: string | null;
}

export interface ErasureSummaryView {
  threads: number;
  replies: number;
  messages: number;
  likes: number;
  memberships: number;
  servers: number;
  anonymizable: { slug: string; name: string | null; posts: number }[];
}

export interface DataPageState {
  exportMessage?: string;
  eraseMessage?: string;
  eraseErrors?: Record<string, string>;
}

const size = (bytes: number) =>
  bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const percent = (e: ExportItem) => (e.total > 0 ? Math.floor((e.progress / e.total) * 100) : 0);

function exportRow(e: ExportItem, now: string): Html {
  const expired = e.expiresAt !== null && e.expiresAt < now;
  const state =
    e.status === "ready"
      ? expired
        ? html`expired`
        : html`<a href="/settings/data/exports/${e.id}" download>Download</a> (${size(e.sizeBytes ?? 0)}), available until ${time(e.expiresAt!)}`
      : e.status === "failed"
        ? html`failed: ${e.error ?? "unknown error"}`
        : e.status === "queued"
          ? html`waiting to start`
          : html`<progress max="100" value="${percent(e)}">${percent(e)}%</progress> ${e.progress} of ${e.total} items`;
  return html`<tr><td>${time(e.createdAt)}</td><td class="export-status" data-status="${e.status}">${state}</td></tr>`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Settings → Your data: the archive (GDPR Art. 15, 20); it reloads itself while one is being built. */
export function dataPage(
  page: PageContext,
  d: { exports: ExportItem[]; now: string; nextExportAt: string | null },
  state: DataPageState = {},
): Html {
  const busy = d.exports.some((e) => e.status === "queued" || e.status === "running");
  const waiting = d.nextExportAt !== null && d.nextExportAt > d.now;
  return layout(
    page,
    "Your data",
    html`<h1>Your data</h1>
<p><a href="/settings">Back to settings</a></p>
<section aria-labelledby="export-h">
<h2 id="export-h">Download your data</h2>
<p>One archive holds your profile, every thread and reply, likes, direct messages, follows, communities, account details, moderation records about you, and which servers received your posts. It reads like a Mastodon archive. You can ask for one archive a day; each can be downloaded for seven days.</p>
${formErrors(state.exportMessage)}
${d.exports.length > 0 ? html`<table><thead><tr><th>Requested</th><th>Archive</th></tr></thead><tbody>${d.exports.map((e) => exportRow(e, d.now))}</tbody></table>` : ""}
${busy ? html`<p class="hint">This page reloads itself until the archive is ready.</p>` : ""}
<form method="post" action="/settings/data/exports" class="stack">${csrfField(page.csrf)}<button type="submit"${busy || waiting ? html` disabled` : ""}>Request an archive</button>
${waiting && !busy ? html`<p class="hint">The next archive can be requested after ${time(d.nextExportAt!)}.</p>` : ""}</form>
</section>
<section aria-labelledby="erase-h">
<h2 id="erase-h">Erase your account</h2>
<p><a href="/settings/erase">Erase your account</a> here and on every server your posts reached.</p>
</section>`,
    // Only the plain page reloads: never one answering a form.
    busy && !state.exportMessage ? { refreshSeconds: 5 } : {},
  );
}

/** Settings → Erase your account (GDPR Art. 17): what goes, then the password. */
export function erasePage(page: PageContext, s: ErasureSummaryView, state: DataPageState = {}): Html {
  return layout(
    page,
    "Erase your account",
    html`<h1>Erase your account</h1>
<p><a href="/settings/data">Back to your data</a> · you may want to <a href="/settings/data">download an archive</a> first.</p>
<p>This cannot be undone. It removes:</p>
<ul>
  <li>${plural(s.threads, "thread")} and ${plural(s.replies, "reply", "replies")} (replies others wrote in your threads stay, under "[deleted]");</li>
  <li>${plural(s.messages, "direct message")} you sent, ${plural(s.likes, "like")} and ${plural(s.memberships, "community membership")};</li>
  <li>your profile, email, password, sessions, filters and archives.</li>
</ul>
<p>A deletion request goes to every server that received your posts or follows you (${plural(s.servers, "server")} known so far), and each community asks its followers to delete your posts. You get a receipt showing which servers accepted it. Your username stays reserved so nobody can impersonate you.</p>
${formErrors(state.eraseMessage)}
<form method="post" action="/settings/erase" class="stack">
  ${csrfField(page.csrf)}
  ${
    s.anonymizable.length > 0
      ? html`<fieldset><legend>Your posts</legend>
    <label class="check"><input type="radio" name="mode" value="delete" checked> Delete all of them (default)</label>
    <label class="check"><input type="radio" name="mode" value="anonymize"> Keep my posts in ${s.anonymizable.map((c, i) => html`${i > 0 ? ", " : ""}${c.name ?? c.slug} (${c.posts})`)} here, without my name (copies on other servers are deleted); delete everything else</label>
  </fieldset>`
      : ""
  }
  <label for="erase-password">Your password</label>
  <input id="erase-password" name="password" type="password" required autocomplete="current-password">
  <label class="check"><input type="checkbox" name="confirm" value="yes" required> I understand that my account and posts will be erased for good</label>
  ${fieldError(state.eraseErrors, "confirm")}
  <button type="submit" class="danger">Erase my account</button>
</form>`,
  );
}

export interface ReceiptView {
  handle: string;
  mode: "delete" | "anonymize";
  requestedAt: string;
  completedAt: string | null;
  servers: {
    host: string;
    status: "queued" | "delivered" | "retrying" | "given up";
    deliveries: number;
    attempts: number;
    lastAttemptAt: string;
    deliveredAt: string | null;
  }[];
}

/** The deletion receipt, at an unguessable address: no personal data beyond the handle. */
export function receiptPage(page: PageContext, r: ReceiptView, justErased: boolean): Html {
  const delivered = r.servers.filter((s) => s.status === "delivered").length;
  return layout(
    page,
    "Deletion receipt",
    html`<h1>Deletion receipt</h1>
${justErased ? html`<div class="notice" role="status">Your account was erased. Keep this page's address: it is the only way to see this receipt again.</div>` : ""}
<p>Account <strong>${r.handle}</strong> was erased on ${time(r.requestedAt)}${r.mode === "anonymize" ? " (posts in communities that allow it were kept without a name)" : ""}.</p>
<p>${r.servers.length === 0 ? (r.completedAt ? html`Finished on ${time(r.completedAt)}.` : html`Finishing.`) : r.completedAt ? html`Finished on ${time(r.completedAt)}: every server was reached or given up on, and the account's keys were destroyed.` : html`Deletion requests are still on their way: ${delivered} of ${r.servers.length} servers accepted it so far. Servers that are down are retried for about two days, or held up to seven while unreachable.`}</p>
${
  r.servers.length === 0
    ? html`<p>No other server had received anything from this account.</p>`
    : html`<table><thead><tr><th>Server</th><th>Status</th><th>Requests</th><th>Last attempt</th></tr></thead><tbody>${r.servers.map(
        (s) =>
          html`<tr><td>${s.host}</td><td class="receipt-status" data-status="${s.status}">${s.status}${s.deliveredAt && s.status === "delivered" ? html` (${time(s.deliveredAt)})` : ""}</td><td>${s.deliveries}</td><td>${time(s.lastAttemptAt)}</td></tr>`,
      )}</tbody></table>`
}`,
    r.completedAt ? {} : { refreshSeconds: 15 },
  );
}
