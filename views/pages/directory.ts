import { html } from "hono/html";
import { type Html, layout, type PageContext, pager, plural, richText, time } from "../layout.ts";
import { badges } from "./communities.ts";

/** A community of this instance in the directory: counts, never who the members are. */
export interface DirectoryItem {
  slug: string;
  name: string | null;
  descriptionHtml: string | null;
  visibility: "public" | "members";
  joinPolicy: "open" | "approval";
  federation: "federated" | "local";
  members: number;
  recentThreads: number;
  latestActivity: string | null;
}

export interface DirectoryData {
  communities: DirectoryItem[];
  nextHref: string | null;
  mayCreate: boolean;
  /** Days the thread count looks back. */
  days: number;
}

/** The directory's list, under a heading of level `level` (the home page nests it under its h1). */
export function directoryList(d: DirectoryData): Html {
  const create = d.mayCreate ? html`<a class="button" href="/communities/new">Create a community</a>` : "";
  const list =
    d.communities.length === 0
      ? html`<p>No communities yet.</p>`
      : html`<ul class="cards">${d.communities.map((c) => card(c, d.days))}</ul>`;
  return html`<section aria-labelledby="communities-h">
  <div class="row"><h2 id="communities-h">Communities on this instance</h2>${create}</div>
  ${list}
  ${pager(d.nextHref)}
</section>`;
}

function card(c: DirectoryItem, days: number): Html {
  const recent = `${plural(c.recentThreads, "thread")} in the last ${days} days`;
  const latest = c.latestActivity ? html` · last post ${time(c.latestActivity)}` : "";
  return html`<li class="card">
  <h3><a href="/@${c.slug}">${c.name ?? c.slug}</a></h3>
  <p class="meta">@${c.slug} · ${plural(c.members, "member")} · ${recent}${latest}${badges(c)}</p>
  ${c.visibility === "public" && c.descriptionHtml ? richText(c.descriptionHtml) : ""}
</li>`;
}

export function directoryPage(page: PageContext, d: DirectoryData): Html {
  return layout(
    page,
    "Communities",
    html`<h1>Communities</h1>
${directoryList(d)}
<p class="hint">What the moderators of these communities did, and why: <a href="/modlog">moderation log</a>.</p>`,
  );
}
