import { Hono } from "hono";
import type { Db } from "../../db/schema.ts";
import { type PostResult, searchPage } from "../../views/pages/search.ts";
import { readablePost } from "../posts/queries.ts";
import { pageContext, type WebEnv } from "../web/env.ts";
import { remoteActorPath, searchCommunities, searchHashtags, searchPeople } from "./directory.ts";
import { type PostHit, searchPosts } from "./service.ts";

/** Search (issue 12); registered before the instance routes, so its `/search` wins. */
export const searchRoutes = new Hono<WebEnv>();

/** Later pages of posts show only posts. */
const none = { people: null, communities: null, hashtags: null };

const handle = (p: { username: string; host: string; local: boolean }) =>
  p.local ? `@${p.username}` : `@${p.username}@${p.host}`;

function postResult(p: PostHit): PostResult {
  const thread = p.threadTitle || "(untitled)";
  const author = { username: p.authorUsername, host: p.authorHost, local: p.authorLocal };
  return {
    href: p.id === p.threadId ? `/posts/${p.id}` : `/replies/${p.id}`,
    title: p.id === p.threadId ? thread : `Reply in “${thread}”`,
    author: `${p.authorName ?? p.authorUsername} ${handle(author)}`,
    publishedAt: p.publishedAt,
    snippet: p.snippet,
  };
}

const isUrl = (q: string) => /^https?:\/\//.test(q);

/** A link to one of our own posts: its page, with no lookup. */
function ownPostPath(q: string, origin: string): string | null {
  if (!isUrl(q) || !URL.canParse(q)) return null;
  const url = new URL(q);
  if (url.origin !== new URL(origin).origin) return null;
  return /^\/(posts|replies)\/[A-Za-z0-9_-]+$/.test(url.pathname) ? url.pathname : null;
}

/** A stored post's page here: a thread's, or a reply's. */
async function postPath(db: Db, postId: string): Promise<string | null> {
  const row = await db.selectFrom("posts").select(["id", "thread_id"]).where("id", "=", postId).executeTakeFirst();
  if (!row) return null;
  return row.id === row.thread_id ? `/posts/${row.id}` : `/replies/${row.id}`;
}

searchRoutes.get("/search", async (c) => {
  const app = c.get("app");
  const viewer = c.get("user");
  const q = (c.req.query("q") ?? "").trim().slice(0, 300);
  const cursor = c.req.query("cursor");
  if (!q) return c.html(searchPage(pageContext(c), ""));
  if (cursor !== undefined && !/^\d{1,4}$/.test(cursor)) {
    return c.html(searchPage(pageContext(c), q, undefined, "That page of results does not exist."), 400);
  }
  // A link to a post of ours needs no lookup; its page decides who may read it.
  const own = ownPostPath(q, app.config.origin);
  if (own) return c.redirect(own, 303);
  // A handle or a link: find (and fetch) the remote actor or post. Only for
  // members, so anonymous visitors cannot make us fetch arbitrary URLs.
  if (/^@?[^@\s/]+@[^@\s/]+$/.test(q) || isUrl(q)) {
    if (!viewer) {
      const message = "Log in to look up people, communities and posts on other servers.";
      return c.html(searchPage(pageContext(c), q, undefined, message), 401);
    }
    // An actor first (as before); a link that is no actor may be a post.
    const actorId = app.remote ? await app.remote.resolveActor(q).catch(() => null) : null;
    const path = actorId ? await remoteActorPath(app.db, actorId) : null;
    if (path) return c.redirect(path, 303);
    const postId = isUrl(q) && app.remote?.resolvePost ? await app.remote.resolvePost(q).catch(() => null) : null;
    // A post the reader may not read (members-only, a message to others, removed) answers as one we don't hold.
    const readable = postId ? await readablePost(app.db, postId, viewer.actorId).catch(() => null) : null;
    const post = readable && !readable.removedAt ? await postPath(app.db, readable.id) : null;
    if (post) return c.redirect(post, 303);
    return c.html(searchPage(pageContext(c), q, undefined, `Nothing found at ${q}.`), 404);
  }
  const posts = await searchPosts(app.db, app.dialect, q, viewer?.actorId, { cursor });
  const nextHref = posts.nextCursor
    ? `/search?q=${encodeURIComponent(q)}&cursor=${encodeURIComponent(posts.nextCursor)}`
    : null;
  if (cursor) return c.html(searchPage(pageContext(c), q, { ...none, posts: posts.items.map(postResult), nextHref }));
  const [people, communities, hashtags] = await Promise.all([
    searchPeople(app.db, q),
    searchCommunities(app.db, q),
    searchHashtags(app.db, q),
  ]);
  return c.html(
    searchPage(pageContext(c), q, {
      posts: posts.items.map(postResult),
      nextHref,
      people: people.map((p) => ({ href: `/${handle(p)}`, title: p.name ?? p.username, detail: handle(p) })),
      communities: communities
        // Logged-out visitors see public communities only, as in the directory.
        .filter((r) => r.visibility === "public" || viewer)
        .map((r) => ({ href: `/@${r.slug}`, title: r.name ?? r.slug, detail: `@${r.slug}` })),
      hashtags: hashtags.map((t) => ({
        href: `/tags/${encodeURIComponent(t.tag)}`,
        title: `#${t.tag}`,
        detail: t.uses === 1 ? "1 post" : `${t.uses} posts`,
      })),
    }),
  );
});
