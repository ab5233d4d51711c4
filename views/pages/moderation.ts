// Moderators' pages: the confirmation page of every destructive action (what
// happens, and on which servers), and a community's moderation page.
import { html } from "hono/html";
import {
  choice,
  csrfField,
  describedBy,
  fieldError,
  formErrors,
  type Html,
  hint,
  inlineForm,
  layout,
  type PageContext,
  row,
  table,
  time,
  trusted,
} from "../layout.ts";
import type { FormState } from "./auth.ts";

/**
 * Which servers hear of an action: a local community's followers (none: this
 * instance only); a remote community's home server, asked to act; or nobody
 * else, when an admin here acts on a community that lives elsewhere.
 */
export type Reach = { kind: "followers"; servers: string[] } | { kind: "home"; host: string } | { kind: "here" };

/** At most this many servers are named; the rest are counted. */
const NAMED = 10;

function servers(list: string[]): Html {
  const named = list.slice(0, NAMED).map((s, i) => html`${i > 0 ? ", " : ""}<strong>${s}</strong>`);
  const more = list.length > NAMED ? ` and ${list.length - NAMED} more` : "";
  const count = list.length === 1 ? "the server" : `the ${list.length} servers`;
  return html`${count} that follow this community (${named}${more})`;
}

export interface QuotedPost {
  id: string;
  threadId: string;
  isThread: boolean;
  title: string | null;
  contentHtml: string;
  summary: string | null;
  authorHandle: string;
}

interface CommunityRef {
  slug: string;
  name: string | null;
}

/** The post an action is about, as its readers see it. */
function quoted(p: QuotedPost): Html {
  const cw = p.summary ? html`<p class="cw-note">Content warning: ${p.summary}</p>` : "";
  return html`<blockquote class="quoted">
  <p class="meta">${p.title ? html`<strong>${p.title}</strong> · ` : ""}by ${p.authorHandle}</p>
  ${cw}<div class="content">${trusted(p.contentHtml)}</div>
</blockquote>`;
}

/** Who reads the reason: the person it is about, and every reader of the public moderation log. */
const reasonHint = (reader: string) =>
  `optional but encouraged: ${reader}, and so does everyone in the public moderation log; leave out health details`;

function reasonField(state: FormState | undefined, reader = "its author reads it"): Html {
  const e = state?.errors;
  return html`<label for="reason">Reason ${hint(reasonHint(reader))}</label>
  <textarea id="reason" name="reason" rows="3" maxlength="1000"${describedBy(e, "reason")}>${
    state?.values?.reason ?? ""
  }</textarea>
  ${fieldError(e, "reason")}`;
}

const back = (p: QuotedPost) => `/posts/${p.threadId}#post-${p.id}`;

function removeReach(r: Reach): Html {
  if (r.kind === "followers")
    return r.servers.length > 0
      ? html`The post disappears for everyone here and on ${servers(r.servers)}.`
      : html`The post disappears for everyone here; no other server follows this community.`;
  if (r.kind === "home")
    return html`This asks <strong>${r.host}</strong>, where the community lives, to remove it for everyone;
  here it is hidden at once.`;
  return html`It is hidden on this instance only: as an admin here you do not moderate the community's own server,
  and copies on other servers stay.`;
}

/** Acting from a report: the report is resolved with the action, and its reporter told. */
const reportField = (reportId: string | undefined) =>
  reportId
    ? html`<input type="hidden" name="report" value="${reportId}">
  <p class="hint">This resolves the report you came from; its reporter is told.</p>`
    : "";

export function removePage(
  page: PageContext,
  d: { post: QuotedPost; community: CommunityRef; reach: Reach; reportId?: string; state?: FormState },
): Html {
  const what = d.post.isThread ? "thread" : "reply";
  return layout(
    page,
    `Remove a ${what}`,
    html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/@${d.community.slug}">${
      d.community.name ?? d.community.slug
    }</a></nav>
<h1>Remove this ${what}?</h1>
${quoted(d.post)}
<p>${removeReach(d.reach)} Its author and the moderators can still see it, marked removed; you can restore it.</p>
${formErrors(d.state?.message)}
<form method="post" action="/posts/${d.post.id}/remove" class="stack">
  ${csrfField(page.csrf)}
  ${reportField(d.reportId)}
  ${reasonField(d.state)}
  <p><button type="submit" class="danger">Remove the ${what}</button> <a href="${back(d.post)}">Cancel</a></p>
</form>`,
  );
}

function deleteReach(r: Reach): Html {
  if (r.kind === "followers")
    return r.servers.length > 0
      ? html`It is deleted here, and a deletion request goes to ${servers(r.servers)}.`
      : html`It is deleted here; no other server follows this community.`;
  if (r.kind === "home")
    return html`It is deleted here, and a deletion request goes to <strong>${r.host}</strong>, where the community
  lives, which passes it on to the servers that follow it.`;
  return html`It is deleted on this instance.`;
}

export function deletePage(page: PageContext, d: { post: QuotedPost; community: CommunityRef; reach: Reach }): Html {
  const what = d.post.isThread ? "thread" : "reply";
  const replies = d.post.isThread ? "Replies to it stay, under “[deleted]”." : "Replies to it stay.";
  return layout(
    page,
    `Delete your ${what}`,
    html`<h1>Delete your ${what}?</h1>
${quoted(d.post)}
<p>${deleteReach(d.reach)} ${replies} This cannot be undone.</p>
<form method="post" action="/posts/${d.post.id}/delete" class="stack">
  ${csrfField(page.csrf)}
  <p><button type="submit" class="danger">Delete the ${what}</button> <a href="${back(d.post)}">Cancel</a></p>
</form>`,
  );
}

function banReach(r: Reach): Html {
  if (r.kind === "followers")
    return r.servers.length > 0
      ? html`The ban applies here at once and is sent to ${servers(r.servers)}.`
      : html`The ban applies here at once; no other server follows this community.`;
  if (r.kind === "home")
    return html`This asks <strong>${r.host}</strong>, where the community lives, to ban them there;
  here it applies at once.`;
  return html`The ban applies on this instance only: as an admin here you do not moderate the community's own
  server.`;
}

export interface BanPageData {
  person: { id: string; handle: string; name: string | null };
  community: CommunityRef;
  reach: Reach;
  /** Their posts in the community that "also remove" would remove. */
  posts: number;
  /** The report this ban answers: it is resolved with it. */
  reportId?: string;
  state?: FormState;
}

export function banPage(page: PageContext, d: BanPageData): Html {
  const who = d.person.name ? `${d.person.name} (${d.person.handle})` : d.person.handle;
  const community = d.community.name ?? d.community.slug;
  const v = d.state?.values ?? {};
  const e = d.state?.errors;
  const removeLabel = html`Also remove their posts in this community (${d.posts}); their author and the moderators
    still see them, marked removed`;
  return layout(
    page,
    `Ban ${d.person.handle}`,
    html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/@${d.community.slug}">${community}</a></nav>
<h1>Ban ${who} from ${community}?</h1>
<p>They can no longer post or reply in this community, and their membership ends. ${banReach(d.reach)}
They are told, with your reason. You can lift the ban on the community's
<a href="/@${d.community.slug}/moderation">moderation page</a>.</p>
${formErrors(d.state?.message)}
<form method="post" action="/@${d.community.slug}/ban/${d.person.id}" class="stack">
  ${csrfField(page.csrf)}
  ${reportField(d.reportId)}
  ${reasonField(d.state, "they read it")}
  ${choice("checkbox", "removeContent", "1", removeLabel, { checked: v.removeContent === "1" })}
  <label for="days">Ban for this many days ${hint("empty for a permanent ban; at most 3650")}</label>
  <input id="days" name="days" inputmode="numeric" pattern="[0-9]*" maxlength="4"
    value="${v.days ?? ""}"${describedBy(e, "days")}>
  ${fieldError(e, "days")}
  <p><button type="submit" class="danger">Ban ${d.person.handle}</button> <a href="/@${d.community.slug}">Cancel</a></p>
</form>`,
  );
}

export interface ModerationPageData {
  slug: string;
  name: string | null;
  local: boolean;
  visibility: "public" | "members";
  /** Servers with a pending request and no approved member yet. */
  newServers: string[];
  pending: { username: string; host: string; local: number; name: string | null; id: string; requestedAt: string }[];
  bans: { actorId: string; handle: string; reason: string | null; since: string; until: string | null }[];
  moderators: { actorId: string; handle: string; name: string | null; owner: boolean }[];
  /** `label`: the log's wording of the action (ACTION_LABELS); without it the action's code is made readable. */
  log: { action: string; label?: string; moderator: string | null; target: string | null; createdAt: string }[];
}

function joinRequest(page: PageContext, d: ModerationPageData, p: ModerationPageData["pending"][number]): Html {
  const reach =
    d.visibility === "members" ? "this members-only community" : "everything this member receives from the community";
  const readers = `the admins of ${p.host} will be able to read ${reach}`;
  const firstFromServer = d.newServers.includes(p.host)
    ? html`<p class="alert" role="note">First member from <strong>${p.host}</strong>: once approved, ${readers}.</p>`
    : "";
  const handle = p.local ? `@${p.username}` : `@${p.username}@${p.host}`;
  return html`<li>
  <strong>${p.name ?? p.username}</strong> ${handle} · requested ${time(p.requestedAt)}
  ${firstFromServer}
  ${inlineForm(page.csrf, `/@${d.slug}/members/${p.id}/approve`, html`<button>Approve</button>`)}
  ${inlineForm(page.csrf, `/@${d.slug}/members/${p.id}/reject`, html`<button class="secondary">Reject</button>`)}
</li>`;
}

function banList(page: PageContext, d: ModerationPageData): Html {
  if (d.bans.length === 0) return html`<p>Nobody is banned.</p>`;
  const unban = (b: ModerationPageData["bans"][number]) =>
    inlineForm(page.csrf, `/@${d.slug}/unban/${b.actorId}`, html`<button class="secondary">Unban</button>`);
  return table(
    ["Person", "Reason", "Since", "Until", ""],
    d.bans.map((b) => row(b.handle, b.reason ?? "—", time(b.since), b.until ? time(b.until) : "permanent", unban(b))),
  );
}

function moderatorList(page: PageContext, d: ModerationPageData): Html {
  const dismiss = (m: ModerationPageData["moderators"][number]) =>
    m.owner
      ? html` <span class="tag">Owner</span>`
      : html` ${inlineForm(
          page.csrf,
          `/@${d.slug}/moderation/moderators/${m.actorId}/remove`,
          html`<button class="link danger">Remove moderator</button>`,
        )}`;
  const items = d.moderators.map((m) => html`<li>${m.name ?? m.handle} ${m.handle}${dismiss(m)}</li>`);
  return html`<ul class="plain">${items}</ul>`;
}

/** "approve_member" → "Approve member": moderators read words, not the log's codes. */
const actionLabel = (l: { action: string; label?: string }) =>
  l.label ?? l.action.charAt(0).toUpperCase() + l.action.slice(1).replaceAll("_", " ");

export function moderationPage(page: PageContext, d: ModerationPageData): Html {
  const links = html`<a href="/@${d.slug}/reports">Reports</a> · <a href="/@${d.slug}/appeals">Appeals</a> ·
  <a href="/@${d.slug}/modlog">Moderation log</a>`;
  const appoint = html`<form method="post" action="/@${d.slug}/moderation/moderators" class="stack">
  ${csrfField(page.csrf)}
  <label for="mod-username">Appoint a member of this instance as moderator (username)</label>
  <input id="mod-username" name="username" required maxlength="30">
  <button type="submit" class="secondary">Appoint</button>
</form>`;
  return layout(
    page,
    `Moderation · ${d.name ?? d.slug}`,
    html`<h1>Moderation: <a href="/@${d.slug}">${d.name ?? d.slug}</a></h1>
<p>${
      d.local
        ? html`<a href="/@${d.slug}/settings">Community settings</a> ·
  <a href="/@${d.slug}/warnings">Content warnings</a> · `
        : ""
    }${links}</p>
<section aria-labelledby="pending-h">
<h2 id="pending-h">Join requests</h2>
${
  d.pending.length === 0
    ? html`<p>No pending requests.</p>`
    : html`<ul class="plain">${d.pending.map((p) => joinRequest(page, d, p))}</ul>`
}
</section>
<section aria-labelledby="bans-h">
<h2 id="bans-h">Banned</h2>
<p class="hint">To ban someone, choose “Ban from community” next to one of their posts.</p>
${banList(page, d)}
</section>
<section aria-labelledby="mods-h">
<h2 id="mods-h">Moderators</h2>
${moderatorList(page, d)}
${d.local ? appoint : ""}
</section>
<section aria-labelledby="log-h">
<h2 id="log-h">Recent actions</h2>
${
  d.log.length === 0
    ? html`<p>Nothing yet.</p>`
    : table(
        ["When", "Moderator", "Action", "Target"],
        d.log.map((l) => row(time(l.createdAt), l.moderator ?? "—", actionLabel(l), l.target ?? "—")),
      )
}
<p><a href="/@${d.slug}/modlog">The full moderation log</a></p>
</section>`,
  );
}
