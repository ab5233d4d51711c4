import { createHash } from "node:crypto";
import { Hono, type MiddlewareHandler } from "hono";
import type { AlternateLink } from "../../views/layout.ts";
import { notFound } from "../errors.ts";
import type { WebContext, WebEnv } from "../web/env.ts";
import { actorDiscovery, type Discovery, type FeedFormat, type FeedSubject, feedOf, postDiscovery } from "./service.ts";
import { lastChange, renderAtom, renderRss } from "./xml.ts";

/** RSS and Atom feeds (issue 12). */
export const feedRoutes = new Hono<WebEnv>();

const TYPES: Record<FeedFormat, string> = { rss: "application/rss+xml", atom: "application/atom+xml" };
const ACTIVITY_JSON = "application/activity+json";

// `/@name.rss` as Mastodon has it: a name never holds a dot, so no page, actor
// IRI or Fedify collection (`/@{identifier}/…`) has such a path.
for (const format of ["rss", "atom"] as const) {
  feedRoutes.get(`/:feed{@[A-Za-z0-9_-]+\\.${format}}`, (c) =>
    serveFeed(c, { kind: "actor", name: c.req.param("feed").slice(1, -format.length - 1) }, format),
  );
  feedRoutes.get(`/tags/:feed{[^/]+\\.${format}}`, (c) =>
    serveFeed(c, { kind: "tag", tag: c.req.param("feed").slice(0, -format.length - 1) }, format),
  );
}

async function serveFeed(c: WebContext, subject: FeedSubject, format: FeedFormat) {
  const app = c.get("app");
  const feed = await feedOf(app.db, app.config.origin, app.config.instanceName, subject, format);
  if (!feed) throw notFound("feed");
  const body = format === "rss" ? renderRss(feed) : renderAtom(feed);
  // Feed readers poll: an unchanged feed costs them a 304. `no-cache` makes
  // every cache ask again, so a removed post leaves the feed at once.
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  const headers = {
    ETag: etag,
    "Last-Modified": new Date(lastChange(feed)).toUTCString(),
    "Cache-Control": "no-cache",
  };
  const known = c.req.header("if-none-match")?.split(",") ?? [];
  if (known.some((tag) => tag.trim() === etag)) return c.body(null, 304, headers);
  return c.body(body, 200, { ...headers, "Content-Type": `${TYPES[format]}; charset=utf-8` });
}

/** `/@name` (a community, a member, a remote actor), `/posts/:id`, `/tags/:tag`: the pages with discovery links. */
const ACTOR_PAGE = /^\/@([^/]+)$/;
const POST_PAGE = /^\/posts\/([^/]+)$/;
const TAG_PAGE = /^\/tags\/([^/]+)$/;
const FEED_PATH = /\.(rss|atom)$/;

/** The links of the page at `path`, from at most one indexed query; none for anything not public. */
async function linksOf(c: WebContext, path: string): Promise<{ alternates: AlternateLink[]; iri: string | null }> {
  const { db, config } = c.get("app");
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return undefined;
    }
  };
  // The feeds themselves (`/@name.rss`, `/tags/x.atom`) are no pages.
  if (FEED_PATH.test(path)) return { alternates: [], iri: null };
  let found: Discovery | undefined;
  const actor = ACTOR_PAGE.exec(path)?.[1];
  const post = POST_PAGE.exec(path)?.[1];
  const tag = TAG_PAGE.exec(path)?.[1];
  if (actor !== undefined) {
    const name = decode(actor);
    found = name ? await actorDiscovery(db, name) : undefined;
  } else if (post !== undefined) {
    found = { feedBase: null, title: null, iri: await postDiscovery(db, post) };
  } else if (tag !== undefined) {
    const name = decode(tag)?.toLowerCase().slice(0, 64);
    found = name ? { feedBase: `/tags/${encodeURIComponent(name)}`, title: `#${name}`, iri: null } : undefined;
  }
  if (!found) return { alternates: [], iri: null };
  const alternates: AlternateLink[] = [];
  if (found.feedBase) {
    const title = found.title ?? "";
    const base = `${config.origin}${found.feedBase}`;
    alternates.push({ type: TYPES.rss, href: `${base}.rss`, title: `${title} (RSS)` });
    alternates.push({ type: TYPES.atom, href: `${base}.atom`, title: `${title} (Atom)` });
  }
  const iri = found.iri ? canonical(found.iri) : null;
  if (iri) alternates.push({ type: ACTIVITY_JSON, href: iri });
  return { alternates, iri };
}

/** An IRI as a URL serializes it (no `<`, `>`, spaces or quotes left to break a header), or none. */
function canonical(iri: string): string | null {
  try {
    const url = new URL(iri);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Discovery links of the page being served (feeds, the ActivityPub object):
 * sets the `alternates` every page's head renders (views/layout.ts), and, as
 * Mastodon does, a `Link` header naming the ActivityPub object of a page
 * served as it is (200, HTML): never on an error page or a redirect.
 */
export function discoveryLinks(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return next();
    const { alternates, iri } = await linksOf(c, c.req.path);
    if (alternates.length > 0) c.set("alternates", alternates);
    await next();
    if (iri && c.res.status === 200 && c.res.headers.get("Content-Type")?.startsWith("text/html")) {
      c.res.headers.append("Link", `<${iri}>; rel="alternate"; type="${ACTIVITY_JSON}"`);
    }
  };
}
