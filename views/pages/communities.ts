import { html } from "hono/html";
import { externalLink, metaTag, type PostItem, threadSummary } from "../components.ts";
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
  pager,
  plural,
  richText,
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

/** Tags for a community's settings a reader should know before joining. */
export function badges(c: CommunityItem): Html {
  return html`${[
    c.visibility === "members" ? metaTag("Members only") : "",
    c.joinPolicy === "approval" ? metaTag("Approval required") : "",
    c.federation === "local" ? metaTag("This instance only") : "",
  ]}`;
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
  /** The threads' order ("new", "active", "top") and, for "top", the period of the likes counted. */
  sort: { current: string; period: string; periods: string[] };
}

export function communityPage(page: PageContext, d: CommunityPageData): Html {
  const c = d.community;
  const members = plural(c.members, "member");
  const where =
    c.local === 1
      ? ` · ${members}`
      : html` · hosted on ${c.host} · ${members} here · ${externalLink(c.iri, `view on ${c.host}`)}`;
  const pending = d.pendingCount > 0 ? ` (${d.pendingCount} pending)` : "";
  const moderation = d.isModerator ? html`<a href="/@${c.slug}/moderation">Moderation${pending}</a>` : "";
  const newThread = d.canRead && d.loggedIn ? html`<a class="button" href="/@${c.slug}/submit">New thread</a>` : "";
  return layout(
    page,
    c.name ?? c.slug,
    html`<header class="community">
  <h1>${c.name ?? c.slug}</h1>
  <p class="meta">@${c.slug}${where}${badges(c)}</p>
  <div class="actions">${membershipControls(page, d)}
  ${moderation}</div>
</header>
<div class="columns">
<section class="threads" aria-labelledby="threads-h">
  <div class="row"><h2 id="threads-h">Threads</h2>${newThread}</div>
  ${threadList(d)}
</section>
<aside aria-labelledby="about-h">
  <h2 id="about-h">About</h2>
  ${c.descriptionHtml ? richText(c.descriptionHtml) : html`<p>No description.</p>`}
  ${rulesAndModerators(page, d)}
  ${d.canRead || d.isModerator ? html`<p><a href="/@${c.slug}/modlog">Moderation log</a></p>` : ""}
</aside>
</div>`,
  );
}

function threadList(d: CommunityPageData): Html {
  if (!d.canRead) {
    const next =
      d.membership === "pending" ? "Your request to join is waiting for a moderator." : "Join it to read and post.";
    return html`<p class="notice">This community is for members only. ${next}</p>`;
  }
  const threads =
    d.threads.length + d.pinned.length === 0 ? html`<p>No threads yet.</p>` : d.threads.map((p) => threadSummary(p));
  return html`${sortLinks(d)}${d.pinned.map((p) => threadSummary(p))}${threads}${pager(d.nextHref)}`;
}

const SORTS = [
  ["new", "New"],
  ["active", "Active"],
  ["top", "Top"],
] as const;

/** Plain links (no JavaScript): the current order is marked for screen readers too. */
function sortLinks(d: CommunityPageData): Html {
  const base = `/@${d.community.slug}`;
  const link = (href: string, label: string, current: boolean) =>
    current
      ? html`<a href="${href}" aria-current="page"><strong>${label}</strong></a>`
      : html`<a href="${href}">${label}</a>`;
  const sorts = SORTS.map(([sort, label]) =>
    link(sort === "new" ? base : `${base}?sort=${sort}`, label, d.sort.current === sort),
  );
  const label = (p: string) => (p === "all" ? "all time" : p === "day" ? "today" : `this ${p}`);
  const periods =
    d.sort.current === "top"
      ? html`<nav class="sort" aria-label="Top of">Top of: ${separated(
          d.sort.periods.map((p) => link(`${base}?sort=top&period=${p}`, label(p), d.sort.period === p)),
        )}</nav>`
      : "";
  return html`<nav class="sort" aria-label="Sort threads">Sort: ${separated(sorts)}</nav>${periods}`;
}

const separated = (links: Html[]) => links.map((l, i) => (i === 0 ? l : html` · ${l}`));

/** Only this instance knows the rules and moderators of the communities it hosts. */
function rulesAndModerators(page: PageContext, d: CommunityPageData): Html {
  const c = d.community;
  if (c.local !== 1) {
    const home = externalLink(c.iri, c.host);
    return html`<p class="hint">Its rules and moderators are on ${home}, where the community lives.</p>`;
  }
  return html`<h3>Rules</h3>
  ${c.rulesHtml ? richText(c.rulesHtml) : html`<p>No rules set.</p>`}
  <h3>Moderators</h3>
  ${moderatorList(page, d)}`;
}

/** Who moderates a community is for its members (and admins) to see, as over ActivityPub. */
function moderatorList(page: PageContext, d: CommunityPageData): Html {
  if (d.membership !== "accepted" && !d.isModerator && page.viewer?.role !== "admin") {
    const count = d.moderators.length === 1 ? "One moderator" : `${d.moderators.length} moderators`;
    return html`<p class="hint">${count}; members see who.</p>`;
  }
  const moderators = d.moderators.map((m) => html`<li><a href="/@${m.username}">${m.name ?? m.username}</a></li>`);
  return html`<ul>${moderators}</ul>`;
}

function membershipControls(page: PageContext, d: CommunityPageData): Html {
  const slug = d.community.slug;
  if (!d.loggedIn) return html`<a class="button" href="/login?next=/@${slug}">Log in to join</a>`;
  if (d.membership === "accepted") {
    return inlineForm(page.csrf, `/@${slug}/leave`, html`<button class="secondary">Leave</button>`);
  }
  if (d.membership === "pending") {
    const withdraw = html`<span class="tag">Request pending</span> <button class="secondary">Withdraw request</button>`;
    return inlineForm(page.csrf, `/@${slug}/leave`, withdraw);
  }
  const asks = d.community.joinPolicy === "approval" || d.community.visibility === "members";
  return inlineForm(page.csrf, `/@${slug}/join`, html`<button>${asks ? "Request to join" : "Join"}</button>`);
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
  hideModlogNames?: string;
}

const slugHint = html`letters, digits, '_' and '-'; becomes @handle, cannot be changed`;
const serversHint =
  "one domain per line, subdomains included; leave empty for every server this instance federates with";
const retentionHint = "leave empty to keep them; deletions reach other servers too";

export function communityForm(
  page: PageContext,
  mode: { kind: "create" } | { kind: "edit"; slug: string },
  state: FormState & { values?: CommunityFormValues } = {},
): Html {
  const v = state.values ?? {};
  const e = state.errors;
  const editing = mode.kind === "edit";
  const defaults = { visibility: "public", join: "open", federation: "federated" } as const;
  const option = (name: keyof typeof defaults, value: string, label: string) =>
    choice("radio", name, value, label, { checked: (v[name] ?? defaults[name]) === value });
  const anonymize = "Members who erase their account may leave their posts here, anonymized";
  const hideNames = "Hide moderators' names in the public moderation log (members and visitors read “a moderator”)";
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
      : html`<label for="slug">Handle ${hint(slugHint)}</label>
  <input id="slug" name="slug" required maxlength="30" value="${v.slug ?? ""}"${describedBy(e, "slug")}>
  ${fieldError(e, "slug")}`
  }
  <label for="name">Name</label>
  <input id="name" name="name" required maxlength="100" value="${v.name ?? ""}"${describedBy(e, "name")}>
  ${fieldError(e, "name")}
  <label for="description">Description ${hint("Markdown")}</label>
  <textarea id="description" name="description" rows="4" maxlength="10000">${v.description ?? ""}</textarea>
  ${fieldError(e, "description")}
  <label for="rules">Rules ${hint("Markdown")}</label>
  <textarea id="rules" name="rules" rows="4" maxlength="10000">${v.rules ?? ""}</textarea>
  ${fieldError(e, "rules")}
  <fieldset><legend>Who can read threads</legend>
    ${option("visibility", "public", "Everyone")}
    ${option("visibility", "members", "Members only (threads go to members, never public)")}
  </fieldset>
  <fieldset><legend>Who can join</legend>
    ${option("join", "open", "Anyone")}
    ${option("join", "approval", "Moderators approve each member")}
  </fieldset>
  <fieldset><legend>Federation</legend>
    ${option("federation", "federated", "Open to the fediverse (Mastodon, Lemmy, other Kindred instances)")}
    ${option("federation", "local", "This instance only")}
  </fieldset>
  <label for="allowedServers">Only these servers ${hint(serversHint)}</label>
  <textarea id="allowedServers" name="allowedServers"
    rows="3"${describedBy(e, "allowedServers")}>${v.allowedServers ?? ""}</textarea>
  ${fieldError(e, "allowedServers")}
  <label for="retentionDays">Delete threads after this many days ${hint(retentionHint)}</label>
  <input id="retentionDays" name="retentionDays" inputmode="numeric" pattern="[0-9]*" maxlength="5"
    value="${v.retentionDays ?? ""}"${describedBy(e, "retentionDays")}>
  ${fieldError(e, "retentionDays")}
  ${choice("checkbox", "allowAnonymize", "1", anonymize, { checked: v.allowAnonymize === "1" })}
  ${choice("checkbox", "hideModlogNames", "1", hideNames, { checked: v.hideModlogNames === "1" })}
  <button type="submit">${editing ? "Save" : "Create community"}</button>
</form>`,
  );
}
