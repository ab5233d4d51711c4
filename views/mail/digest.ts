// The email digest of unread notifications. It passes through other
// companies' mail servers, so it says only how many of each kind wait, never
// who wrote what, where, or in which community: the links lead to the rest.
import { html } from "hono/html";

export interface DigestMail {
  instanceName: string;
  /** "3 replies", "1 direct message", … in the order of the notifications page. */
  counts: string[];
  total: number;
  frequency: "daily" | "weekly";
  notificationsUrl: string;
  settingsUrl: string;
  unsubscribeUrl: string;
}

/** "a, b and c". */
const sentence = (parts: string[]) =>
  parts.length <= 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;

export function digestMail(d: DigestMail): { subject: string; text: string; html: string } {
  const what = d.total === 1 ? "1 unread notification" : `${d.total} unread notifications`;
  const how = d.frequency === "daily" ? "daily" : "weekly";
  const text = [
    `You have ${what} on ${d.instanceName}: ${sentence(d.counts)}.`,
    "",
    ...d.counts.map((c) => `- ${c}`),
    "",
    `Read them: ${d.notificationsUrl}`,
    "",
    // The signature delimiter: mail clients fold what follows.
    "-- ",
    `You get this ${how} summary because you asked for it. It only counts what is waiting, by kind.`,
    `Stop these emails: ${d.unsubscribeUrl}`,
    `Or change them in your notification settings: ${d.settingsUrl}`,
    "",
  ].join("\n");
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${what}</title></head>
<body>
<p>You have ${what} on ${d.instanceName}:</p>
<ul>${d.counts.map((c) => html`<li>${c}</li>`)}</ul>
<p><a href="${d.notificationsUrl}">Read them on ${d.instanceName}</a></p>
<hr>
<p><small>You get this ${how} summary because you asked for it. It only counts what is waiting, by kind.
<a href="${d.unsubscribeUrl}">Stop these emails</a> or
<a href="${d.settingsUrl}">change them in your notification settings</a>.</small></p>
</body></html>
`;
  return { subject: `${what} on ${d.instanceName}`, text, html: String(body) };
}
