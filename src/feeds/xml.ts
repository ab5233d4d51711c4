// RSS 2.0 and Atom 1.0 documents from plain feed data. Everything that goes
// into the XML passes through `escapeXml`, so no title, name or post can
// break out of its element or make the document ill-formed.

/** One entry of a feed: a thread or a reply, public. */
export interface FeedItem {
  /** The object's IRI: a stable, unique id (RSS `guid`, Atom `id`). */
  id: string;
  /** Its page on this instance. */
  link: string;
  title: string;
  /** Sanitized HTML of the post (escaped again as text in the document). */
  html: string;
  author: string;
  published: string;
  updated: string | null;
}

export interface Feed {
  title: string;
  description: string;
  /** The HTML page the feed mirrors. */
  link: string;
  /** The feed's own address (Atom `self`, RSS `atom:link`). */
  self: string;
  items: FeedItem[];
}

// XML 1.0 allows tab, newline, carriage return and everything from U+0020 up,
// except lone surrogates and U+FFFE/U+FFFF: one of those anywhere makes a
// feed reader reject the whole document, so they are dropped.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const SPECIAL: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Text safe inside an XML element or a quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(NOT_XML_CHAR, "").replace(/[&<>"']/g, (ch) => SPECIAL[ch] ?? ch);
}

/** RFC 822 date (RSS), as `Thu, 26 Nov 2026 17:38:19 GMT`. */
export const rfc822 = (iso: string) => new Date(iso).toUTCString();

/** RFC 3339 date (Atom), in UTC. */
export const rfc3339 = (iso: string) => new Date(iso).toISOString();

/** The newest date of a feed: its last item's change, or the epoch for an empty feed (stable). */
export function lastChange(feed: Feed): string {
  let latest = "1970-01-01T00:00:00.000Z";
  for (const item of feed.items) {
    const at = rfc3339(item.updated ?? item.published);
    if (at > latest) latest = at;
  }
  return latest;
}

const e = escapeXml;

export function renderRss(feed: Feed): string {
  const items = feed.items.map(
    (i) => `<item>
<title>${e(i.title)}</title>
<link>${e(i.link)}</link>
<guid isPermaLink="false">${e(i.id)}</guid>
<dc:creator>${e(i.author)}</dc:creator>
<pubDate>${rfc822(i.published)}</pubDate>
<description>${e(i.html)}</description>
</item>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>${e(feed.title)}</title>
<link>${e(feed.link)}</link>
<description>${e(feed.description)}</description>
<atom:link href="${e(feed.self)}" rel="self" type="application/rss+xml"/>
<lastBuildDate>${rfc822(lastChange(feed))}</lastBuildDate>
${items.join("\n")}
</channel>
</rss>
`;
}

export function renderAtom(feed: Feed): string {
  const entries = feed.items.map(
    (i) => `<entry>
<id>${e(i.id)}</id>
<title type="text">${e(i.title)}</title>
<link rel="alternate" type="text/html" href="${e(i.link)}"/>
<author><name>${e(i.author)}</name></author>
<published>${rfc3339(i.published)}</published>
<updated>${rfc3339(i.updated ?? i.published)}</updated>
<content type="html">${e(i.html)}</content>
</entry>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>${e(feed.self)}</id>
<title type="text">${e(feed.title)}</title>
<subtitle type="text">${e(feed.description)}</subtitle>
<link rel="alternate" type="text/html" href="${e(feed.link)}"/>
<link rel="self" type="application/atom+xml" href="${e(feed.self)}"/>
<updated>${lastChange(feed)}</updated>
${entries.join("\n")}
</feed>
`;
}
