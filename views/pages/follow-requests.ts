import { html } from "hono/html";
import { type Html, inlineForm, layout, type PageContext, time } from "../layout.ts";

export interface FollowRequest {
  followId: string;
  username: string;
  host: string;
  local: number;
  name: string | null;
  requestedAt: string;
}

function request(page: PageContext, r: FollowRequest): Html {
  const handle = r.local ? r.username : `${r.username}@${r.host}`;
  return html`<li>
  <strong>${r.name || r.username}</strong> <a href="/@${handle}">@${handle}</a> · requested ${time(r.requestedAt)}
  ${inlineForm(page.csrf, `/follow-requests/${r.followId}/approve`, html`<button>Approve</button>`)}
  ${inlineForm(page.csrf, `/follow-requests/${r.followId}/decline`, html`<button class="secondary">Decline</button>`)}
</li>`;
}

export function followRequestsPage(page: PageContext, requests: FollowRequest[]): Html {
  return layout(
    page,
    "Follow requests",
    html`<h1>Follow requests</h1>
<p class="hint">Once approved, a person receives the posts you share with your followers.</p>
${
  requests.length === 0
    ? html`<p>No pending requests.</p>`
    : html`<ul class="plain">${requests.map((r) => request(page, r))}</ul>`
}`,
  );
}
