// The email digest's pages: its part of the notification settings, and the
// unsubscribe page an email links to (no login: the link's key is enough).
import { html } from "hono/html";
import { choice, csrfField, type Html, layout, type PageContext } from "../layout.ts";

export interface DigestSection {
  frequency: "off" | "daily" | "weekly";
  /** Why the member can't have digests here, or null when they can. */
  unavailable: "no_mail" | "no_email" | null;
}

const LABELS = { off: "Off", daily: "Daily", weekly: "Weekly" } as const;
const FREQUENCIES = ["off", "daily", "weekly"] as const;

/** The digest's form on the notification settings page, or why it isn't offered. */
export function digestSettings(page: PageContext, d: DigestSection): Html {
  const heading = html`<h2 id="email-digest">Email digest</h2>`;
  if (d.unavailable === "no_mail")
    return html`${heading}<p>Email digests are not available: this server does not send email.</p>`;
  if (d.unavailable === "no_email")
    return html`${heading}<p>Email digests are not available because your account has no email address.
Add one in your <a href="/settings">account settings</a> to get a summary of unread notifications by email.</p>`;
  return html`${heading}
<form method="post" action="/settings/notifications/digest" class="stack">
  ${csrfField(page.csrf)}
  <fieldset>
    <legend>Email me a summary of unread notifications</legend>
    ${FREQUENCIES.map((f) => choice("radio", "digest", f, LABELS[f], { checked: d.frequency === f }))}
  </fieldset>
  <p class="hint">The email only says how many notifications of each kind wait (“3 replies, 1 like”) and links here:
  never what anyone wrote, who wrote it or in which community, since email passes through other companies' servers.
  Nothing is sent when nothing new is unread.</p>
  <button>Save</button>
</form>`;
}

export type UnsubscribeState = "confirm" | "done" | "unknown";

/** Asks before unsubscribing (mail scanners open links), then says it is done. */
export function unsubscribePage(
  page: PageContext,
  state: UnsubscribeState,
  action: string,
  frequency?: "daily" | "weekly",
): Html {
  const title = state === "confirm" ? "Stop email digests?" : "Email digests are off";
  const body =
    state === "confirm"
      ? html`<p>You get a ${frequency ?? "daily"} email summarising your unread notifications.</p>
<form method="post" action="${action}"><button>Stop these emails</button></form>`
      : state === "done"
        ? html`<p>You will get no more email digests. You can turn them on again in your
<a href="/settings/notifications#email-digest">notification settings</a>.</p>`
        : html`<p>This link turns nothing off any more: the digest it came with is already off.</p>`;
  return layout(page, title, html`<h1>${title}</h1>${body}`);
}
