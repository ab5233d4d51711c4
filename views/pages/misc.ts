import { html } from "hono/html";
import { clinicianBadge, type PostItem, postBody, threadSummary } from "../components.ts";
import { csrfField, type Html, layout, type PageContext, pager, time, trusted } from "../layout.ts";

export interface ProfileData {
  username: string;
  name: string | null;
  bioHtml: string | null;
  avatarUrl: string | null;
  createdAt: string;
  isClinician: boolean;
  role: "admin" | "member";
  posts: PostItem[];
  nextHref: string | null;
  viewerIsAdmin: boolean;
  /** The viewer may send this person a direct message. */
  canMessage?: boolean;
  /** The viewer's mute or block of this person, when the viewer may set one. */
  filter?: { current: "mute" | "block" | null };
  /** Set for people on other servers. */
  remote?: { url: string; following: "pending" | "accepted" | null; canFollow: boolean };
}

export function profilePage(page: PageContext, d: ProfileData): Html {
  return layout(
    page,
    d.name ?? d.username,
    html`<header class="profile">
  ${d.avatarUrl ? html`<img class="avatar large" src="${d.avatarUrl}" alt="" width="96" height="96">` : ""}
  <div>
  <h1>${d.name ?? d.username}${d.isClinician ? clinicianBadge() : ""}</h1>
  <p class="meta">@${d.username}${d.role === "admin" ? html` · <span class="tag">Admin</span>` : ""}${d.remote ? "" : html` · joined ${time(d.createdAt)}`}</p>
  ${d.bioHtml ? html`<div class="content">${trusted(d.bioHtml)}</div>` : ""}
  ${
    d.remote
      ? html`<p class="meta">On another server: <a href="${d.remote.url}" rel="nofollow noopener">${d.remote.url}</a></p>
  ${d.remote.canFollow ? html`<form method="post" action="/@${d.username}/${d.remote.following ? "unfollow" : "follow"}" class="inline">${csrfField(page.csrf)}<button class="${d.remote.following ? "secondary" : ""}">${d.remote.following === "accepted" ? "Unfollow" : d.remote.following === "pending" ? "Cancel follow request" : "Follow"}</button></form>` : ""}`
      : ""
  }
  ${d.canMessage ? html`<a class="button secondary" href="/messages/${d.username}">Message</a>` : ""}
  ${
    d.filter
      ? d.filter.current
        ? html`<form method="post" action="/@${d.username}/unfilter" class="inline">${csrfField(page.csrf)}<button class="secondary">${d.filter.current === "mute" ? "Unmute" : "Unblock"}</button></form>`
        : html`<form method="post" action="/@${d.username}/mute" class="inline">${csrfField(page.csrf)}<button class="link">Mute</button></form> <form method="post" action="/@${d.username}/block" class="inline">${csrfField(page.csrf)}<button class="link danger">Block</button></form>`
      : ""
  }
  ${d.viewerIsAdmin ? html`<form method="post" action="/@${d.username}/clinician" class="inline">${csrfField(page.csrf)}<input type="hidden" name="verified" value="${d.isClinician ? "0" : "1"}"><button class="secondary">${d.isClinician ? "Revoke clinician badge" : "Mark as verified clinician"}</button></form>` : ""}
  </div>
</header>
<section aria-labelledby="posts-h">
<h2 id="posts-h">Posts</h2>
${d.posts.length === 0 ? html`<p>No public posts yet.</p>` : d.posts.map((p) => (p.parentId ? html`<article class="thread-summary"><p class="meta"><a href="/posts/${p.id}">Reply · ${time(p.publishedAt)}</a></p>${postBody(p)}</article>` : threadSummary(p)))}
${pager(d.nextHref)}
</section>`,
  );
}

export function aboutPage(
  page: PageContext,
  d: { descriptionHtml: string; users: number; communities: number; admins: string[] },
): Html {
  return layout(
    page,
    "About",
    html`<h1>About ${page.instanceName}</h1>
<div class="content">${trusted(d.descriptionHtml)}</div>
<dl class="stats"><dt>Members</dt><dd>${d.users}</dd><dt>Communities</dt><dd>${d.communities}</dd></dl>
<h2>Administrators</h2>
<ul>${d.admins.map((a) => html`<li><a href="/@${a}">@${a}</a></li>`)}</ul>
<p><a href="/about/moderated-servers">Moderated servers</a></p>
<h2>Privacy</h2>
<p>This instance loads nothing from other sites and uses no trackers. Your email address, if you give one, is never shown. What you post in a public community is shared with the servers of its followers.</p>`,
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
