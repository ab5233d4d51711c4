import { html } from "hono/html";
import { formErrors, type Html, layout, type PageContext } from "../layout.ts";

export interface SearchResult {
  href: string;
  title: string;
  detail: string;
}

const resultItem = (r: SearchResult) =>
  html`<li><a href="${r.href}">${r.title}</a> <span class="meta">${r.detail}</span></li>`;

export function searchPage(page: PageContext, query: string, results: SearchResult[], message?: string): Html {
  return layout(
    page,
    "Search",
    html`<h1>Search</h1>
<form method="get" action="/search" class="stack" role="search">
  <label for="q">Community name, <code>@name@server</code> or a link to a profile or community elsewhere</label>
  <input id="q" name="q" value="${query}" maxlength="300">
  <button type="submit">Search</button>
</form>
${formErrors(message)}
${query && results.length === 0 && !message ? html`<p>Nothing found for “${query}”.</p>` : ""}
${results.length > 0 ? html`<ul class="plain">${results.map(resultItem)}</ul>` : ""}`,
  );
}
