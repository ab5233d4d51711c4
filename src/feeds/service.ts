// What the feeds and the discovery links may show: public content only. A
// feed is read by anyone, cached by anyone and kept forever by feed readers,
// so it lists less than a page might show a member: never followers-only,
// unlisted (limited servers' posts are stored unlisted) or direct posts,
// never removed or deleted ones. Posts of members-only communities are never
// public: their audience follows the community's (src/communities/service.ts).
import type { Db } from "../../db/schema.ts";
import { escapeXml, type Feed, type FeedItem } from "./xml.ts";

/** Items in a feed, as Mastodon's RSS. */
export const FEED_ITEMS = 20;

/** A feed's subject: a local community, a local member's profile or a hashtag. */
export type FeedSubject = { kind: "actor"; name: string } | { kind: "tag"; tag: string };

export type FeedFormat = "rss" | "atom";

/** The longest hashtag we look up, as the tag page does. */
const TAG_MAX = 64;
export const normalizeTag = (tag: string) => tag.toLowerCase().slice(0, TAG_MAX);

/**
 * A local actor by name with what decides its feed and its ActivityPub link,
 * in one query on the (host, username_key) index.
 */
async function localActor(db: Db, name: string) {
  return (
    db
      .selectFrom("actors")
      .leftJoin("communities", "communities.actor_id", "actors.id")
      .leftJoin("users", "users.actor_id", "actors.id")
      .select([
        "actors.id",
        "actors.iri",
        "actors.username",
        "actors.name",
        "communities.visibility",
        "communities.federation",
        "users.actor_id as userId",
      ])
      .where("actors.username_key", "=", name.toLowerCase())
      .where("actors.local", "=", 1)
      .where("actors.deleted_at", "is", null)
      // A suspended member's feed is gone with their profile.
      .where("actors.suspended_at", "is", null)
      .executeTakeFirst()
  );
}

type LocalActor = NonNullable<Awaited<ReturnType<typeof localActor>>>;

/** Whether an actor has a feed: a member's profile, or a community anyone may read. */
const hasFeed = (a: LocalActor) => a.userId !== null || a.visibility === "public";

/** Public posts, newest first, with what an item shows. */
function publicPosts(db: Db) {
  return (
    db
      .selectFrom("posts")
      .innerJoin("actors as author", "author.id", "posts.author_id")
      .innerJoin("posts as thread", "thread.id", "posts.thread_id")
      .select([
        "posts.id",
        "posts.iri",
        "posts.thread_id as threadId",
        "posts.title",
        "posts.content_html as contentHtml",
        "posts.summary",
        "posts.published_at as publishedAt",
        "posts.updated_at as updatedAt",
        "thread.title as threadTitle",
        "author.username as authorUsername",
        "author.host as authorHost",
        "author.local as authorLocal",
        "author.name as authorName",
      ])
      .where("posts.audience", "=", "public")
      .where("posts.deleted_at", "is", null)
      .where("posts.removed_at", "is", null)
      // A reply in a removed thread would bring the thread back into view.
      .where("thread.removed_at", "is", null)
      .where("author.deleted_at", "is", null)
      .where("author.suspended_at", "is", null)
      // Feeds are public listings, which a limited account's posts stay out of.
      .where("author.limited_at", "is", null)
      .orderBy("posts.id", "desc")
      .limit(FEED_ITEMS)
  );
}

type Row = Awaited<ReturnType<ReturnType<typeof publicPosts>["execute"]>>[number];

function toItem(origin: string, r: Row): FeedItem {
  const handle = r.authorLocal === 1 ? `@${r.authorUsername}` : `@${r.authorUsername}@${r.authorHost}`;
  const isReply = r.id !== r.threadId;
  // A content warning comes first, so a reader meets it before the text.
  const warning = r.summary ? `<p><strong>Content warning:</strong> ${escapeXml(r.summary)}</p>` : "";
  return {
    id: r.iri,
    link: `${origin}/posts/${r.threadId}${isReply ? `#post-${r.id}` : ""}`,
    title: r.title ?? (r.threadTitle ? `Re: ${r.threadTitle}` : `A post by ${handle}`),
    html: warning + r.contentHtml,
    author: r.authorName ? `${r.authorName} (${handle})` : handle,
    published: r.publishedAt,
    updated: r.updatedAt,
  };
}

/** The feed of a subject, or undefined when it has none (unknown, or not public). */
export async function feedOf(
  db: Db,
  origin: string,
  instanceName: string,
  subject: FeedSubject,
  format: FeedFormat,
): Promise<Feed | undefined> {
  if (subject.kind === "tag") {
    const tag = normalizeTag(subject.tag);
    const path = `/tags/${encodeURIComponent(tag)}`;
    const rows = await publicPosts(db)
      .where("posts.id", "in", db.selectFrom("post_tags").select("post_id").where("tag", "=", tag))
      .execute();
    return {
      title: `#${tag} · ${instanceName}`,
      description: `Public posts tagged #${tag} on ${instanceName}`,
      link: `${origin}${path}`,
      self: `${origin}${path}.${format}`,
      items: rows.map((r) => toItem(origin, r)),
    };
  }
  const actor = await localActor(db, subject.name);
  if (!actor || !hasFeed(actor)) return undefined;
  const community = actor.userId === null;
  const rows = await (community
    ? publicPosts(db).where("posts.community_id", "=", actor.id).where("posts.parent_id", "is", null)
    : publicPosts(db).where("posts.author_id", "=", actor.id)
  ).execute();
  const title = actor.name ?? actor.username;
  return {
    title: `${title} · ${instanceName}`,
    description: community
      ? `Public threads in ${title} on ${instanceName}`
      : `Public posts by ${title} (@${actor.username}) on ${instanceName}`,
    link: `${origin}/@${actor.username}`,
    self: `${origin}/@${actor.username}.${format}`,
    items: rows.map((r) => toItem(origin, r)),
  };
}

/** What a page can point to: its feeds (by path) and its ActivityPub object. */
export interface Discovery {
  /** Path of the feeds without the extension (`/@name`, `/tags/x`); none when not public. */
  feedBase: string | null;
  title: string | null;
  /** The ActivityPub object's IRI, when it is public and served. */
  iri: string | null;
}

/**
 * Discovery of an actor page (`/@name`, local or `name@host`): local actors'
 * feeds, and the actor document's IRI when one is served to anyone
 * (local-only communities have none).
 */
export async function actorDiscovery(db: Db, handle: string): Promise<Discovery | undefined> {
  const at = handle.lastIndexOf("@");
  if (at > 0) {
    const remote = await db
      .selectFrom("actors")
      .select("iri")
      .where("username_key", "=", handle.slice(0, at).toLowerCase())
      .where("host", "=", handle.slice(at + 1).toLowerCase())
      .where("local", "=", 0)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return remote ? { feedBase: null, title: null, iri: remote.iri } : undefined;
  }
  const actor = await localActor(db, handle);
  // The instance actor has no page: neither a user nor a community.
  if (!actor || (actor.userId === null && actor.visibility === null)) return undefined;
  return {
    feedBase: hasFeed(actor) ? `/@${actor.username}` : null,
    title: actor.name ?? actor.username,
    iri: actor.federation === "local" ? null : actor.iri,
  };
}

/**
 * A post page's ActivityPub object: only a public, live post, outside
 * members-only and (for our own posts) local-only communities, as Fedify
 * serves them.
 */
export async function postDiscovery(db: Db, postId: string): Promise<string | null> {
  const row = await db
    .selectFrom("posts")
    .leftJoin("communities", "communities.actor_id", "posts.community_id")
    .select(["posts.iri", "communities.visibility", "communities.federation"])
    .where("posts.id", "=", postId)
    .where("posts.audience", "=", "public")
    .where("posts.deleted_at", "is", null)
    .where("posts.removed_at", "is", null)
    .executeTakeFirst();
  if (!row || row.visibility === "members" || row.federation === "local") return null;
  return row.iri;
}
