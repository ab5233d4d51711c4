import { html } from "hono/html";
import { type PostItem, threadSummary } from "../components.ts";
import { type Html, layout, type PageContext, plural, richText } from "../layout.ts";
import { type DirectoryData, directoryList } from "./directory.ts";

/** A community the member joined, here or on another server. */
export interface JoinedItem {
  handle: string;
  name: string | null;
  host: string;
  local: boolean;
  newThreads: number;
}

/** A visitor's home page: what this instance is, and its communities. */
export function visitorHome(page: PageContext, d: { descriptionHtml: string } & DirectoryData): Html {
  return layout(
    page,
    "Communities",
    html`<section class="intro">
  <h1>${page.instanceName}</h1>
  ${richText(d.descriptionHtml)}
</section>
${directoryList(d)}
<p class="hint">What the moderators of these communities did, and why: <a href="/modlog">moderation log</a>.</p>`,
  );
}

/** A member's home page: their communities, then what is new in them (the first page of their feed). */
export function memberHome(
  page: PageContext,
  d: {
    joined: JoinedItem[];
    feed: (PostItem & { communitySlug?: string })[];
    moreHref: string | null;
    newDays: number;
    /** The first page of this instance's directory, to find more. */
    directory: DirectoryData;
  },
): Html {
  const joined =
    d.joined.length === 0
      ? html`<p>You have not joined a community yet. Find one <a href="#communities-h">on this instance</a>,
  or paste the address of a community on another server into the search box.</p>`
      : html`<ul class="joined">${d.joined.map((j) => joinedItem(j, d.newDays))}</ul>`;
  const feed =
    d.feed.length === 0
      ? html`<p>Nothing new yet.</p>`
      : d.feed.map((p) => threadSummary(p, { communitySlug: p.communitySlug }));
  const more = d.moreHref ? html`<p><a href="${d.moreHref}">More in your feed</a></p>` : "";
  return layout(
    page,
    "Home",
    html`<h1>${page.instanceName}</h1>
<div class="columns">
<section class="threads" aria-labelledby="new-h">
  <h2 id="new-h">New in your communities</h2>
  ${feed}
  ${more}
</section>
<aside aria-labelledby="yours-h">
  <h2 id="yours-h">Your communities</h2>
  ${joined}
</aside>
</div>
${directoryList(d.directory)}`,
  );
}

function joinedItem(j: JoinedItem, days: number): Html {
  const where = j.local ? "" : html` <span class="handle">on ${j.host}</span>`;
  const fresh =
    j.newThreads > 0
      ? html` · <span class="tag" title="in the last ${days} days">${plural(j.newThreads, "new thread")}</span>`
      : "";
  return html`<li><a href="/@${j.handle}">${j.name ?? j.handle}</a>${where}${fresh}</li>`;
}
