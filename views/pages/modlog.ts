// The public moderation log: what was done, to what, why, when and by whom
// (or "a moderator" where the community hides its moderators' names).
import { html } from "hono/html";
import { type Html, layout, type PageContext, pager, time } from "../layout.ts";

export interface ModlogEntryView {
  id: string;
  action: string;
  /** "Removed a post", "Banned a person", … */
  label: string;
  /** What it was about, in words: a thread's title, a reply in a thread, a person. */
  target: string;
  /** The thread, while it can be read. */
  targetHref: string | null;
  reason: string | null;
  /** A handle, or "a moderator", "an admin", "the community". */
  moderator: string;
  community: string | null;
  at: string;
  /** A ban's end. */
  expiresAt: string | null;
  /** A later action undid it (a restore, an unban). */
  reversed: boolean;
}

export interface ModlogPageData {
  /** Null for the whole instance's log. */
  community: { slug: string; name: string | null; hidesNames: boolean } | null;
  entries: ModlogEntryView[];
  nextHref: string | null;
}

function entry(e: ModlogEntryView, instance: boolean): Html {
  const target = e.targetHref ? html`<a href="${e.targetHref}">${e.target}</a>` : e.target;
  const where = instance ? html` · in <a href="/@${e.community}">${e.community}</a>` : "";
  const until = e.action === "ban" ? (e.expiresAt ? html` · until ${time(e.expiresAt)}` : html` · permanent`) : "";
  const undone = e.reversed ? html` · <span class="tag">Undone</span>` : "";
  const reason = e.reason
    ? html`<p class="reason">Reason: ${e.reason}</p>`
    : html`<p class="hint">No reason given.</p>`;
  return html`<li id="action-${e.id}">
  <p><strong>${e.label}</strong>${target ? html`: ${target}` : ""}${where}${until}${undone}</p>
  <p class="meta">by ${e.moderator} · ${time(e.at)}</p>
  ${reason}
</li>`;
}

const about =
  "What the moderators did and why. What they removed is not shown here, only what it was; " +
  "who joined a community is for its moderators.";

export function modlogPage(page: PageContext, d: ModlogPageData): Html {
  const c = d.community;
  const title = c ? `Moderation log · ${c.name ?? c.slug}` : "Moderation log";
  const heading = c ? html`Moderation log: <a href="/@${c.slug}">${c.name ?? c.slug}</a>` : "Moderation log";
  const names = c?.hidesNames ? html` This community names its moderators to its moderators only.` : "";
  const scope = c ? "" : html` It covers the communities this instance hosts that you may read.`;
  return layout(
    page,
    title,
    html`<h1>${heading}</h1>
<p class="hint">${about}${scope}${names}</p>
${
  d.entries.length === 0
    ? html`<p>Nothing yet.</p>`
    : html`<ol class="modlog">${d.entries.map((e) => entry(e, c === null))}</ol>`
}
${pager(d.nextHref)}`,
  );
}
