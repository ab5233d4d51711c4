import { html } from "hono/html";
import { formErrors, type Html, layout, type PageContext } from "../layout.ts";

export interface SearchResult {
  href: string;
  title: string;
  detail: string;
}

/** A found post; `snippet` is plain text, its matches marked: escaped here like everything else. */
export interface PostResult {
  href: string;
  title: string;
  author: string;
  publishedAt: string;
  snippet: { text: string; mark: boolean }[];
}

export interface SearchResults {
  posts: PostResult[];
  /** The next page of posts, if any. */
  nextHref: string | null;
  /** Null on later pages of posts, which show only posts. */
  people: SearchResult[] | null;
  communities: SearchResult[] | null;
  hashtags: SearchResult[] | null;
}

const empty: SearchResults = { posts: [], nextHref: null, people: null, communities: null, hashtags: null };

const resultItem = (r: SearchResult) =>
  html`<li><a href="${r.href}">${r.title}</a> <span class="meta">${r.detail}</span></li>`;

const pager = (next: string | null) =>
  next ? html`<nav class="pager" aria-label="Pagination"><a href="${next}" rel="next">More posts →</a></nav>` : "";

const postItem = (p: PostResult) =>
  html`<li><a href="${p.href}">${p.title}</a> <span class="meta">${p.author} · ${p.publishedAt.slice(0, 10)}</span>
<p class="snippet">${p.snippet.map((s) => (s.mark ? html`<mark>${s.text}</mark>` : s.text))}</p></li>`;

function section(heading: string, items: SearchResult[] | null): Html | string {
  if (items === null) return "";
  return html`<section aria-labelledby="search-${heading.toLowerCase()}">
<h2 id="search-${heading.toLowerCase()}">${heading}</h2>
${items.length > 0 ? html`<ul class="plain">${items.map(resultItem)}</ul>` : html`<p class="meta">None found.</p>`}
</section>`;
}

export function searchPage(page: PageContext, query: string, found: SearchResults = empty, message?: string): Html {
  const any =
    found.posts.length + (found.people?.length ?? 0) + (found.communities?.length ?? 0) + (found.hashtags?.length ?? 0);
  return layout(
    page,
    query ? `Search: ${query}` : "Search",
    html`<h1>Search</h1>
<form method="get" action="/search" class="stack" role="search">
  <label for="q">Words in posts, a person, a community, a <code>#hashtag</code>,
    <code>@name@server</code> or a link to a profile or community elsewhere</label>
  <input id="q" name="q" type="search" value="${query}" maxlength="300">
  <button type="submit">Search</button>
</form>
${formErrors(message)}
${query && any === 0 && !message ? html`<p>Nothing found for “${query}”.</p>` : ""}
${
  query && !message && any > 0
    ? html`<section aria-labelledby="search-posts">
<h2 id="search-posts">Posts</h2>
${
  found.posts.length > 0
    ? html`<ol class="plain search-posts">${found.posts.map(postItem)}</ol>`
    : html`<p class="meta">None found.</p>`
}
${pager(found.nextHref)}
</section>
${section("People", found.people)}
${section("Communities", found.communities)}
${section("Hashtags", found.hashtags)}`
    : ""
}`,
  );
}
