import { html } from "hono/html";
import {
  choice,
  csrfField,
  fieldError,
  flag,
  formErrors,
  type Html,
  layout,
  type PageContext,
  plural,
  table,
  time,
} from "../layout.ts";

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

function exportState(e: ExportItem, now: string): Html {
  if (e.status === "failed") return html`failed: ${e.error ?? "unknown error"}`;
  if (e.status === "queued") return html`waiting to start`;
  if (e.status === "running") {
    return html`<progress max="100" value="${percent(e)}">${percent(e)}%</progress> ${e.progress} of ${e.total} items`;
  }
  if (e.expiresAt !== null && e.expiresAt < now) return html`expired`;
  const until = e.expiresAt === null ? "" : html`, available until ${time(e.expiresAt)}`;
  return html`<a href="/settings/data/exports/${e.id}" download>Download</a> (${size(e.sizeBytes ?? 0)})${until}`;
}

function exportRow(e: ExportItem, now: string): Html {
  const state = exportState(e, now);
  return html`<tr><td>${time(e.createdAt)}</td><td class="export-status" data-status="${e.status}">${state}</td></tr>`;
}

const archiveIntro =
  "One archive holds your profile, every thread and reply, likes, direct messages, follows, communities, " +
  "account details, moderation records about you, and which servers received your posts. " +
  "It reads like a Mastodon archive. You can ask for one archive a day; each can be downloaded for seven days.";

/** Settings → Your data: the archive (GDPR Art. 15, 20); it reloads itself while one is being built. */
export function dataPage(
  page: PageContext,
  d: { exports: ExportItem[]; now: string; nextExportAt: string | null },
  state: DataPageState = {},
): Html {
  const busy = d.exports.some((e) => e.status === "queued" || e.status === "running");
  const waitUntil = d.nextExportAt !== null && d.nextExportAt > d.now ? d.nextExportAt : null;
  const rows = d.exports.map((e) => exportRow(e, d.now));
  const archives = rows.length > 0 ? table(["Requested", "Archive"], rows) : "";
  const disabled = flag("disabled", busy || waitUntil !== null);
  const requestButton = html`<button type="submit"${disabled}>Request an archive</button>`;
  const nextRequest =
    waitUntil !== null && !busy
      ? html`<p class="hint">The next archive can be requested after ${time(waitUntil)}.</p>`
      : "";
  return layout(
    page,
    "Your data",
    html`<h1>Your data</h1>
<p><a href="/settings">Back to settings</a></p>
<section aria-labelledby="export-h">
<h2 id="export-h">Download your data</h2>
<p>${archiveIntro}</p>
${formErrors(state.exportMessage)}
${archives}
${busy ? html`<p class="hint">This page reloads itself until the archive is ready.</p>` : ""}
<form method="post" action="/settings/data/exports" class="stack">${csrfField(page.csrf)}${requestButton}
${nextRequest}</form>
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
  const downloadFirst = html`you may want to <a href="/settings/data">download an archive</a> first`;
  const posts = `${plural(s.threads, "thread")} and ${plural(s.replies, "reply", "replies")}`;
  const messages = `${plural(s.messages, "direct message")} you sent`;
  const deletionRequests =
    "A deletion request goes to every server that received your posts or follows you " +
    `(${plural(s.servers, "server")} known so far), and each community asks its followers to delete your posts. ` +
    "You get a receipt showing which servers accepted it. Your username stays reserved so nobody can impersonate you.";
  const kept = s.anonymizable.map((c, i) => html`${i > 0 ? ", " : ""}${c.name ?? c.slug} (${c.posts})`);
  const elsewhere = "(copies on other servers are deleted); delete everything else";
  const anonymize = html`Keep my posts in ${kept} here, without my name or images ${elsewhere}`;
  const understood = "I understand that my account and posts will be erased for good";
  return layout(
    page,
    "Erase your account",
    html`<h1>Erase your account</h1>
<p><a href="/settings/data">Back to your data</a> · ${downloadFirst}.</p>
<p>This cannot be undone. It removes:</p>
<ul>
  <li>${posts} (replies others wrote in your threads stay, under "[deleted]");</li>
  <li>${messages}, ${plural(s.likes, "like")} and ${plural(s.memberships, "community membership")};</li>
  <li>your profile, email, password, sessions, filters and archives.</li>
</ul>
<p>${deletionRequests}</p>
${formErrors(state.eraseMessage)}
<form method="post" action="/settings/erase" class="stack">
  ${csrfField(page.csrf)}
  ${
    s.anonymizable.length > 0
      ? html`<fieldset><legend>Your posts</legend>
    ${choice("radio", "mode", "delete", "Delete all of them (default)", { checked: true })}
    ${choice("radio", "mode", "anonymize", anonymize)}
  </fieldset>`
      : ""
  }
  <label for="erase-password">Your password</label>
  <input id="erase-password" name="password" type="password" required autocomplete="current-password">
  ${choice("checkbox", "confirm", "yes", understood, { required: true })}
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
    /** "accepted": the server answered 2xx; what it did then, no one here can see. */
    status: "queued" | "accepted" | "retrying" | "given up";
    deliveries: number;
    attempts: number;
    lastAttemptAt: string;
    acceptedAt: string | null;
  }[];
}

const keepAddress = html`Keep this page's address: it is the only way to see this receipt again.`;
const acceptedMeans =
  "Accepted means the server answered the deletion request with success (HTTP 2xx). " +
  "Whether it then removed its copies is up to that server: this instance cannot see that.";

const receiptColumns = ["Server", "Status", "Requests", "Last attempt"];

/** The deletion receipt, at an unguessable address: no personal data beyond the handle. */
export function receiptPage(page: PageContext, r: ReceiptView, justErased: boolean): Html {
  const erased = justErased
    ? html`<div class="notice" role="status">Your account was erased. ${keepAddress}</div>`
    : "";
  const kept = r.mode === "anonymize" ? " (posts in communities that allow it were kept without a name)" : "";
  return layout(
    page,
    "Deletion receipt",
    html`<h1>Deletion receipt</h1>
${erased}
<p>Account <strong>${r.handle}</strong> was erased on ${time(r.requestedAt)}${kept}.</p>
<p>${receiptProgress(r)}</p>
${
  r.servers.length === 0
    ? html`<p>No other server had received anything from this account.</p>`
    : html`<div class="table-scroll">${table(receiptColumns, r.servers.map(receiptRow))}</div>
<p>${acceptedMeans}</p>`
}`,
    r.completedAt ? {} : { refreshSeconds: 15 },
  );
}

function receiptProgress(r: ReceiptView): Html {
  if (r.servers.length === 0) return r.completedAt ? html`Finished on ${time(r.completedAt)}.` : html`Finishing.`;
  if (r.completedAt) {
    const finished = html`Finished on ${time(r.completedAt)}`;
    return html`${finished}: every server accepted the requests or was given up on,
and the account's keys were destroyed.`;
  }
  const done = r.servers.filter((s) => s.status === "accepted").length;
  const accepted = `${done} of ${r.servers.length} servers accepted it so far`;
  const retries = "Servers that are down are retried for about two days, or held up to seven while unreachable.";
  return html`Deletion requests are still on their way: ${accepted}. ${retries}`;
}

function receiptRow(s: ReceiptView["servers"][number]): Html {
  const when = s.acceptedAt && s.status === "accepted" ? html`, ${time(s.acceptedAt)}` : "";
  const label = s.status === "accepted" ? html`accepted (answered 2xx${when})` : s.status;
  const status = html`<td class="receipt-status" data-status="${s.status}">${label}</td>`;
  return html`<tr><td>${s.host}</td>${status}<td>${s.deliveries}</td><td>${time(s.lastAttemptAt)}</td></tr>`;
}
