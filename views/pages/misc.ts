import { html } from "hono/html";
import { clinicianBadge, externalLink, metaTag, type PostItem, postBody, threadSummary } from "../components.ts";
import { csrfField, type Html, hint, inlineForm, layout, type PageContext, pager, richText, time } from "../layout.ts";

export interface ProfileData {
  username: string;
  name: string | null;
  bioHtml: string | null;
  avatarUrl: string | null;
  createdAt: string;
  isClinician: boolean;
  /** The badge's profession and registration reference, for a local member an admin verified. */
  clinician?: { profession: string; registration: string | null } | null;
  role: "admin" | "member";
  posts: PostItem[];
  /** The titles of the threads the listed replies answer, by thread id (null: deleted or removed). */
  threadTitles?: Record<string, string | null>;
  nextHref: string | null;
  viewerIsAdmin: boolean;
  /** The admin's suspend / limit / delete forms (views/pages/sanctions.ts). */
  adminPanel?: Html;
  /** The viewer may send this person a direct message. */
  canMessage?: boolean;
  /** The viewer's mute or block of this person, when the viewer may set one. */
  filter?: { current: "mute" | "block" | null };
  /** Set for people on other servers. */
  remote?: { url: string; following: "pending" | "accepted" | null; canFollow: boolean };
}

export function profilePage(page: PageContext, d: ProfileData): Html {
  const role = d.role === "admin" ? metaTag("Admin") : "";
  const joined = d.remote ? "" : html` · joined ${time(d.createdAt)}`;
  const message = d.canMessage ? html`<a class="button secondary" href="/messages/${d.username}">Message</a>` : "";
  // Members report other people to the admins; visitors report posts only.
  const v = page.viewer;
  const report = v && v.username.toLowerCase() !== d.username.toLowerCase() ? reportLink(d.username) : "";
  return layout(
    page,
    d.name ?? d.username,
    html`<header class="profile">
  ${d.avatarUrl ? html`<img class="avatar large" src="${d.avatarUrl}" alt="" width="96" height="96">` : ""}
  <div>
  <h1>${d.name ?? d.username}${d.isClinician ? clinicianBadge(d.clinician?.profession) : ""}</h1>
  <p class="meta">@${d.username}${role}${joined}</p>
  ${registration(d)}
  ${d.bioHtml ? richText(d.bioHtml) : ""}
  ${d.remote ? remoteProfile(page, d.username, d.remote) : ""}
  ${message}
  ${d.filter ? filterControls(page, d.username, d.filter.current) : ""}
  ${d.viewerIsAdmin ? clinicianControl(page, d) : ""}
  ${d.adminPanel ?? ""}
  ${report}
  </div>
</header>
<section aria-labelledby="posts-h">
<h2 id="posts-h">Posts</h2>
${
  d.posts.length === 0
    ? html`<p>No public posts yet.</p>`
    : d.posts.map((p) => (p.parentId ? replySummary(p, d.threadTitles?.[p.threadId]) : threadSummary(p)))
}
${pager(d.nextHref)}
</section>`,
  );
}

/** Where a person on another server lives, and following them from here. */
function remoteProfile(page: PageContext, username: string, remote: NonNullable<ProfileData["remote"]>): Html {
  const following = remote.following;
  const label = following === "accepted" ? "Unfollow" : following === "pending" ? "Cancel follow request" : "Follow";
  const button = html`<button class="${following ? "secondary" : ""}">${label}</button>`;
  const action = `/@${username}/${following ? "unfollow" : "follow"}`;
  return html`<p class="meta">On another server: ${externalLink(remote.url, remote.url)}</p>
  ${remote.canFollow ? inlineForm(page.csrf, action, button) : ""}`;
}

function filterControls(page: PageContext, username: string, current: "mute" | "block" | null): Html {
  if (current) {
    const button = html`<button class="secondary">${current === "mute" ? "Unmute" : "Unblock"}</button>`;
    return inlineForm(page.csrf, `/@${username}/unfilter`, button);
  }
  const mute = inlineForm(page.csrf, `/@${username}/mute`, html`<button class="link">Mute</button>`);
  const block = inlineForm(page.csrf, `/@${username}/block`, html`<button class="link danger">Block</button>`);
  return html`${mute} ${block}`;
}

const reportLink = (username: string) => html`<p class="meta"><a href="/@${username}/report">Report…</a></p>`;

/** A verified clinician's registration reference, for readers to check against the register. */
const registration = (d: ProfileData) =>
  d.isClinician && d.clinician?.registration ? html`<p class="meta">Registration: ${d.clinician.registration}</p>` : "";

/** The admins' badge form: grant or change it (a profession is required), or revoke it. */
function clinicianControl(page: PageContext, d: ProfileData): Html {
  const badge = d.isClinician ? d.clinician : null;
  const revoke = d.isClinician
    ? inlineForm(
        page.csrf,
        `/@${d.username}/clinician`,
        html`<input type="hidden" name="verified" value="0">
  <button class="secondary danger">Revoke clinician badge</button>`,
      )
    : "";
  return html`<details class="admin-badge"><summary>Verified clinician badge (admins)</summary>
  <form method="post" action="/@${d.username}/clinician" class="stack">
  ${csrfField(page.csrf)}
  <input type="hidden" name="verified" value="1">
  <label for="clinician-profession">Profession ${hint("e.g. Nurse, Cardiologist")}</label>
  <input id="clinician-profession" name="profession" required maxlength="60" value="${badge?.profession ?? ""}">
  <label for="clinician-registration">Registration reference ${hint("optional, shown on the profile")}</label>
  <input id="clinician-registration" name="registration" maxlength="100" value="${badge?.registration ?? ""}">
  <button class="secondary">${d.isClinician ? "Save badge" : "Mark as verified clinician"}</button>
  </form>
  ${revoke}
</details>`;
}

/** A reply out of its thread says which thread it answers (a deleted or removed one is "a thread"). */
function replySummary(p: PostItem, threadTitle: string | null | undefined): Html {
  const thread = html`<a href="/posts/${p.threadId}">${threadTitle ?? "a thread"}</a>`;
  const when = html`<a href="/posts/${p.id}">${time(p.publishedAt)}</a>`;
  const meta = html`<p class="meta">Reply in ${thread} · ${when}</p>`;
  return html`<article class="thread-summary">${meta}${postBody(p)}</article>`;
}

const privacy =
  "This instance loads nothing from other sites and uses no trackers. " +
  "Your email address, if you give one, is never shown. " +
  "What you post in a public community is shared with the servers of its followers.";

export function aboutPage(
  page: PageContext,
  d: { descriptionHtml: string; users: number; communities: number; admins: string[] },
): Html {
  return layout(
    page,
    "About",
    html`<h1>About ${page.instanceName}</h1>
${richText(d.descriptionHtml)}
<dl class="stats"><dt>Members</dt><dd>${d.users}</dd><dt>Communities</dt><dd>${d.communities}</dd></dl>
<h2>Administrators</h2>
<ul>${d.admins.map((a) => html`<li><a href="/@${a}">@${a}</a></li>`)}</ul>
<p><a href="/about/moderated-servers">Moderated servers</a></p>
<h2>Privacy</h2>
<p>${privacy}</p>`,
  );
}

/** An erased member's address: the name stays reserved, nothing of theirs is left to show. */
export function erasedAccountPage(page: PageContext): Html {
  const title = "This account was deleted";
  return layout(
    page,
    title,
    html`<h1>${title}</h1><p>This account was erased by its owner.</p>
<p><a href="/">Back to the home page</a></p>`,
  );
}

export function errorPage(page: PageContext, status: number, message: string): Html {
  const titles: Record<number, string> = {
    400: "Bad request",
    401: "Log in required",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many requests",
  };
  const title = titles[status] ?? "Something went wrong";
  return layout(page, title, html`<h1>${title}</h1><p>${message}</p><p><a href="/">Back to the home page</a></p>`);
}
