import { html } from "hono/html";
import { type PostItem, threadSummary } from "../components.ts";
import {
  csrfField,
  describedBy,
  fieldError,
  formErrors,
  type Html,
  layout,
  type PageContext,
  pager,
  time,
  trusted,
} from "../layout.ts";
import type { FormState } from "./auth.ts";

export interface CommunityItem {
  slug: string;
  name: string | null;
  descriptionHtml: string | null;
  visibility: "public" | "members";
  joinPolicy: "open" | "approval";
  federation: "federated" | "local";
  members?: number;
  threads?: number;
}

export function homePage(
  page: PageContext,
  data: { descriptionHtml: string; communities: CommunityItem[]; nextHref: string | null; mayCreate: boolean },
): Html {
  return layout(
    page,
    "Communities",
    html`<section class="intro">
  <h1>${page.instanceName}</h1>
  <div class="content">${trusted(data.descriptionHtml)}</div>
</section>
<section aria-labelledby="communities-h">
  <div class="row"><h2 id="communities-h">Communities</h2>${data.mayCreate ? html`<a class="button" href="/communities/new">Create a community</a>` : ""}</div>
  ${data.communities.length === 0 ? html`<p>No communities yet.</p>` : html`<ul class="cards">${data.communities.map((c) => communityCard(c))}</ul>`}
  ${pager(data.nextHref)}
</section>`,
  );
}

function communityCard(c: CommunityItem): Html {
  return html`<li class="card">
  <h3><a href="/@${c.slug}">${c.name ?? c.slug}</a></h3>
  <p class="meta">@${c.slug}${c.members !== undefined ? html` · ${c.members} ${c.members === 1 ? "member" : "members"}` : ""}${c.threads !== undefined ? html` · ${c.threads} ${c.threads === 1 ? "thread" : "threads"}` : ""}${badges(c)}</p>
  ${c.visibility === "public" && c.descriptionHtml ? html`<div class="content">${trusted(c.descriptionHtml)}</div>` : ""}
</li>`;
}

function badges(c: CommunityItem): Html {
  return html`${c.visibility === "members" ? html` · <span class="tag">Members only</span>` : ""}${c.joinPolicy === "approval" ? html` · <span class="tag">Approval required</span>` : ""}${c.federation === "local" ? html` · <span class="tag">This instance only</span>` : ""}`;
}

export interface CommunityPageData {
  community: CommunityItem & { rulesHtml: string; members: number; local: number; host: string; iri: string };
  membership: "pending" | "accepted" | null;
  isModerator: boolean;
  canRead: boolean;
  moderators: { username: string; name: string | null }[];
  threads: PostItem[];
  pinned: PostItem[];
  nextHref: string | null;
  pendingCount: number;
  loggedIn: boolean;
}

export function communityPage(page: PageContext, d: CommunityPageData): Html {
  const c = d.community;
  return layout(
    page,
    c.name ?? c.slug,
    html`<header class="community">
  <h1>${c.name ?? c.slug}</h1>
  <p class="meta">@${c.slug}${c.local === 1 ? html` · ${c.members} ${c.members === 1 ? "member" : "members"}` : html` · hosted on ${c.host} · ${c.members} ${c.members === 1 ? "member" : "members"} here · <a href="${c.iri}" rel="nofollow noopener">view on ${c.host}</a>`}${badges(c)}</p>
  <div class="actions">${membershipControls(page, d)}
  ${d.isModerator ? html`<a href="/@${c.slug}/moderation">Moderation${d.pendingCount > 0 ? ` (${d.pendingCount} pending)` : ""}</a>` : ""}</div>
</header>
<div class="columns">
<section class="threads" aria-labelledby="threads-h">
  <div class="row"><h2 id="threads-h">Threads</h2>${d.canRead && d.loggedIn ? html`<a class="button" href="/@${c.slug}/submit">New thread</a>` : ""}</div>
  ${
    d.canRead
      ? html`${d.pinned.map((p) => threadSummary(p))}${d.threads.length + d.pinned.length === 0 ? html`<p>No threads yet.</p>` : d.threads.map((p) => threadSummary(p))}${pager(d.nextHref)}`
      : html`<p class="notice">This community is for members only. ${d.membership === "pending" ? "Your request to join is waiting for a moderator." : "Join it to read and post."}</p>`
  }
</section>
<aside aria-labelledby="about-h">
  <h2 id="about-h">About</h2>
  ${c.descriptionHtml ? html`<div class="content">${trusted(c.descriptionHtml)}</div>` : html`<p>No description.</p>`}
  ${
    c.local === 1
      ? html`<h3>Rules</h3>
  ${c.rulesHtml ? html`<div class="content">${trusted(c.rulesHtml)}</div>` : html`<p>No rules set.</p>`}
  <h3>Moderators</h3>
  <ul>${d.moderators.map((m) => html`<li><a href="/@${m.username}">${m.name ?? m.username}</a></li>`)}</ul>`
      : html`<p class="hint">Its rules and moderators are on <a href="${c.iri}" rel="nofollow noopener">${c.host}</a>, where the community lives.</p>`
  }
</aside>
</div>`,
  );
}

function membershipControls(page: PageContext, d: CommunityPageData): Html {
  const slug = d.community.slug;
  if (!d.loggedIn) return html`<a class="button" href="/login?next=/@${slug}">Log in to join</a>`;
  if (d.membership === "accepted")
    return html`<form method="post" action="/@${slug}/leave" class="inline">${csrfField(page.csrf)}<button class="secondary">Leave</button></form>`;
  if (d.membership === "pending")
    return html`<form method="post" action="/@${slug}/leave" class="inline">${csrfField(page.csrf)}<span class="tag">Request pending</span> <button class="secondary">Withdraw request</button></form>`;
  return html`<form method="post" action="/@${slug}/join" class="inline">${csrfField(page.csrf)}<button>${d.community.joinPolicy === "approval" || d.community.visibility === "members" ? "Request to join" : "Join"}</button></form>`;
}

export interface CommunityFormValues {
  slug?: string;
  name?: string;
  description?: string;
  rules?: string;
  visibility?: string;
  join?: string;
  federation?: string;
  allowedServers?: string;
  retentionDays?: string;
  allowAnonymize?: string;
}

export function communityForm(
  page: PageContext,
  mode: { kind: "create" } | { kind: "edit"; slug: string },
  state: FormState & { values?: CommunityFormValues } = {},
): Html {
  const v = state.values ?? {};
  const e = state.errors;
  const editing = mode.kind === "edit";
  const option = (name: string, value: string, label: string, current: string | undefined, fallback: string) =>
    html`<label class="check"><input type="radio" name="${name}" value="${value}"${(current ?? fallback) === value ? html` checked` : ""}> ${label}</label>`;
  return layout(
    page,
    editing ? "Community settings" : "Create a community",
    html`<h1>${editing ? "Community settings" : "Create a community"}</h1>
${formErrors(state.message)}
<form method="post" action="${editing ? `/@${mode.slug}/settings` : "/communities"}" class="stack">
  ${csrfField(page.csrf)}
  ${
    editing
      ? ""
      : html`<label for="slug">Handle <span class="hint">(letters, digits, '_' and '-'; becomes @handle, cannot be changed)</span></label>
  <input id="slug" name="slug" required maxlength="30" value="${v.slug ?? ""}"${describedBy(e, "slug")}>
  ${fieldError(e, "slug")}`
  }
  <label for="name">Name</label>
  <input id="name" name="name" required maxlength="100" value="${v.name ?? ""}"${describedBy(e, "name")}>
  ${fieldError(e, "name")}
  <label for="description">Description <span class="hint">(Markdown)</span></label>
  <textarea id="description" name="description" rows="4" maxlength="10000">${v.description ?? ""}</textarea>
  ${fieldError(e, "description")}
  <label for="rules">Rules <span class="hint">(Markdown)</span></label>
  <textarea id="rules" name="rules" rows="4" maxlength="10000">${v.rules ?? ""}</textarea>
  ${fieldError(e, "rules")}
  <fieldset><legend>Who can read threads</legend>
    ${option("visibility", "public", "Everyone", v.visibility, "public")}
    ${option("visibility", "members", "Members only (threads go to members, never public)", v.visibility, "public")}
  </fieldset>
  <fieldset><legend>Who can join</legend>
    ${option("join", "open", "Anyone", v.join, "open")}
    ${option("join", "approval", "Moderators approve each member", v.join, "open")}
  </fieldset>
  <fieldset><legend>Federation</legend>
    ${option("federation", "federated", "Open to the fediverse (Mastodon, Lemmy, other Kindred instances)", v.federation, "federated")}
    ${option("federation", "local", "This instance only", v.federation, "federated")}
  </fieldset>
  <label for="allowedServers">Only these servers <span class="hint">(one domain per line, subdomains included; leave empty for every server this instance federates with)</span></label>
  <textarea id="allowedServers" name="allowedServers" rows="3"${describedBy(e, "allowedServers")}>${v.allowedServers ?? ""}</textarea>
  ${fieldError(e, "allowedServers")}
  <label for="retentionDays">Delete threads after this many days <span class="hint">(leave empty to keep them; deletions reach other servers too)</span></label>
  <input id="retentionDays" name="retentionDays" inputmode="numeric" pattern="[0-9]*" maxlength="5" value="${v.retentionDays ?? ""}"${describedBy(e, "retentionDays")}>
  ${fieldError(e, "retentionDays")}
  <label class="check"><input type="checkbox" name="allowAnonymize" value="1"${v.allowAnonymize === "1" ? html` checked` : ""}> Members who erase their account may leave their posts here, anonymized</label>
  <button type="submit">${editing ? "Save" : "Create community"}</button>
</form>`,
  );
}

export interface ModerationPageData {
  slug: string;
  name: string | null;
  visibility: "public" | "members";
  /** Servers with a pending request and no approved member yet. */
  newServers: string[];
  pending: { username: string; host: string; local: number; name: string | null; id: string; requestedAt: string }[];
  log: { action: string; moderator: string | null; target: string | null; createdAt: string }[];
}

export function moderationPage(page: PageContext, d: ModerationPageData): Html {
  return layout(
    page,
    `Moderation · ${d.name ?? d.slug}`,
    html`<h1>Moderation: <a href="/@${d.slug}">${d.name ?? d.slug}</a></h1>
<p><a href="/@${d.slug}/settings">Community settings</a></p>
<section aria-labelledby="pending-h">
<h2 id="pending-h">Join requests</h2>
${
  d.pending.length === 0
    ? html`<p>No pending requests.</p>`
    : html`<ul class="plain">${d.pending.map(
        (p) => html`<li>
  <strong>${p.name ?? p.username}</strong> ${p.local ? `@${p.username}` : `@${p.username}@${p.host}`} · requested ${time(p.requestedAt)}
  ${d.newServers.includes(p.host) ? html`<p class="alert" role="note">First member from <strong>${p.host}</strong>: once approved, the admins of ${p.host} will be able to read ${d.visibility === "members" ? "this members-only community" : "everything this member receives from the community"}.</p>` : ""}
  <form method="post" action="/@${d.slug}/members/${p.id}/approve" class="inline">${csrfField(page.csrf)}<button>Approve</button></form>
  <form method="post" action="/@${d.slug}/members/${p.id}/reject" class="inline">${csrfField(page.csrf)}<button class="secondary">Reject</button></form>
</li>`,
      )}</ul>`
}
</section>
<section aria-labelledby="mods-h">
<h2 id="mods-h">Moderators</h2>
<form method="post" action="/@${d.slug}/moderation/moderators" class="stack">
  ${csrfField(page.csrf)}
  <label for="mod-username">Appoint a member of this instance as moderator (username)</label>
  <input id="mod-username" name="username" required maxlength="30">
  <button type="submit" class="secondary">Appoint</button>
</form>
</section>
<section aria-labelledby="log-h">
<h2 id="log-h">Moderation log</h2>
${d.log.length === 0 ? html`<p>Nothing yet.</p>` : html`<table><thead><tr><th>When</th><th>Moderator</th><th>Action</th><th>Target</th></tr></thead><tbody>${d.log.map((l) => html`<tr><td>${time(l.createdAt)}</td><td>${l.moderator ?? "—"}</td><td>${l.action}</td><td>${l.target ?? "—"}</td></tr>`)}</tbody></table>`}
</section>`,
  );
}
