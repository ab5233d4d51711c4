import { html } from "hono/html";
import { choice, csrfField, type Html, layout, type PageContext } from "../layout.ts";
import { type DigestSection, digestSettings } from "./email-digest.ts";

export interface NotificationSwitch {
  kind: string;
  label: string;
  enabled: boolean;
}

/** One checkbox per kind a member may turn off; what moderation owes them is always sent, and said so. */
export function notificationSettingsPage(
  page: PageContext,
  switches: NotificationSwitch[],
  saved: boolean,
  digest: DigestSection,
): Html {
  return layout(
    page,
    "Notification settings",
    html`<h1>Notification settings</h1>
${saved ? html`<div class="notice" role="status">Saved.</div>` : ""}
<form method="post" action="/settings/notifications" class="stack">
  ${csrfField(page.csrf)}
  <fieldset>
    <legend>Tell me about</legend>
    ${switches.map((s) => choice("checkbox", s.kind, "1", s.label, { checked: s.enabled }))}
  </fieldset>
  <p class="hint">Moderators' decisions about your posts, the outcome of your reports and appeals, and
  (for moderators) new reports and appeals are always sent. Nobody is told what you turned off.</p>
  <button>Save</button>
</form>
${digestSettings(page, digest)}
<p><a href="/notifications">Back to notifications</a> · <a href="/settings">Settings</a></p>`,
  );
}
