import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What every page knows about the reader. */
export interface Viewer {
  username: string;
  name: string | null;
  role: "admin" | "member";
}

/** A `<link rel="alternate">` of a page: an RSS or Atom feed, or the page's ActivityPub object. */
export interface AlternateLink {
  type: string;
  href: string;
  title?: string;
}

export interface PageContext {
  instanceName: string;
  viewer: Viewer | undefined;
  csrf: string;
  /** The logged-in reader's unread notifications; unknown (no count shown) outside the web app's pages. */
  unread?: number | undefined;
  /** Discovery links for the head. */
  alternates?: AlternateLink[];
}

/** The search box in every page's header. */
const searchLabel = html`<label for="site-search" class="visually-hidden">Search</label>`;
const searchInput = html`<input id="site-search" name="q" type="search" placeholder="Search or @name@server"
  maxlength="300">`;

export function layout(
  page: PageContext,
  title: string,
  body: Html,
  options: {
    description?: string;
    /** Reload every n seconds (progress pages; no JavaScript). */
    refreshSeconds?: number;
  } = {},
): Html {
  const v = page.viewer;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${page.instanceName}</title>
${options.description ? html`<meta name="description" content="${options.description}">` : ""}
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ""}
<link rel="stylesheet" href="/static/style.css">
<link rel="icon" href="/static/icon.svg" type="image/svg+xml">
${(page.alternates ?? []).map(
  (l) => html`<link rel="alternate" type="${l.type}" href="${l.href}"${l.title ? html` title="${l.title}"` : ""}>
`,
)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
  <nav aria-label="Site">
    <a class="brand" href="/">${page.instanceName}</a>
    <form class="search" method="get" action="/search" role="search">${searchLabel}${searchInput}</form>
    <ul>
      ${
        v
          ? html`<li><a href="/@${v.username}">@${v.username}</a></li>
      ${v.role === "admin" ? html`<li><a href="/admin">Admin</a></li>` : ""}
      <li><a href="/communities">Communities</a></li>
      <li><a href="/feed">Feed</a></li>
      <li><a href="/messages">Messages</a></li>
      <li>${notificationsLink(page.unread)}</li>
      <li><a href="/settings">Settings</a></li>
      <li>${inlineForm(page.csrf, "/logout", html`<button class="link">Log out</button>`)}</li>`
          : html`<li><a href="/communities">Communities</a></li>
      <li><a href="/login">Log in</a></li>
      <li><a href="/signup">Sign up</a></li>`
      }
    </ul>
  </nav>
</header>
<main id="main">
${body}
</main>
<footer class="site"><p>Powered by Kindred · <a href="/about">About this instance</a> ·
  <a href="/modlog">Moderation log</a></p></footer>
</body>
</html>`;
}

/** "Notifications (3)": the count is part of the link's text, so it reads the same without styles. */
function notificationsLink(unread: number | undefined): Html {
  return unread
    ? html`<a href="/notifications" class="unread">Notifications (${unread})</a>`
    : html`<a href="/notifications">Notifications</a>`;
}

/** A submitted form's values, per-field errors and message, as pages show them again. */
export interface FormState {
  values?: Record<string, string>;
  errors?: Record<string, string>;
  message?: string;
}

export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

/** Pre-sanitized HTML (rendered Markdown or sanitized remote content). */
export const trusted = (sanitized: string) => raw(sanitized);

/** A block of pre-sanitized rich text: a description, rules, a bio. */
export const richText = (sanitized: string) => html`<div class="content">${trusted(sanitized)}</div>`;

/** A parenthesized hint after a label's text. */
export const hint = (text: string | Html) => html`<span class="hint">(${text})</span>`;

export function fieldError(errors: Record<string, string> | undefined, name: string): Html | string {
  const e = errors?.[name];
  return e ? html`<p class="error" id="${name}-error" role="alert">${e}</p>` : "";
}

export function formErrors(message: string | undefined): Html | string {
  return message ? html`<div class="alert" role="alert">${message}</div>` : "";
}

export const describedBy = (errors: Record<string, string> | undefined, name: string) =>
  errors?.[name] ? raw(` aria-invalid="true" aria-describedby="${name}-error"`) : "";

export function time(iso: string): Html {
  const d = new Date(iso);
  const minute = d.toISOString().slice(0, 16).replace("T", " ");
  return html`<time datetime="${iso}" title="${d.toUTCString()}">${minute} UTC</time>`;
}

/** A form that posts to `action` from inside a line of text; `content` holds its button. */
export const inlineForm = (csrf: string, action: string, content: Html) =>
  html`<form method="post" action="${action}" class="inline">${csrfField(csrf)}${content}</form>`;

/** A boolean attribute such as ` checked` or ` disabled`, present when `on`. */
export const flag = (name: string, on: boolean) => (on ? raw(` ${name}`) : "");

/** A radio button or checkbox followed by its label text. */
export function choice(
  type: "radio" | "checkbox",
  name: string,
  value: string,
  label: string | Html,
  { checked = false, required = false }: { checked?: boolean; required?: boolean } = {},
): Html {
  const flags = html`${flag("checked", checked)}${flag("required", required)}`;
  return html`<label class="check"><input type="${type}" name="${name}" value="${value}"${flags}> ${label}</label>`;
}

/** A table with one row of column headings; `rows` are <tr> elements, as `row` makes them. */
export function table(headings: string[], rows: Html[]): Html {
  return html`<table><thead><tr>${headings.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table>`;
}

export const row = (...cells: (Html | string | number)[]) => html`<tr>${cells.map((c) => html`<td>${c}</td>`)}</tr>`;

/** "1 reply", "2 replies". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function pager(nextHref: string | null): Html | string {
  return nextHref
    ? html`<nav class="pager" aria-label="Pagination"><a href="${nextHref}" rel="next">Older →</a></nav>`
    : "";
}
