// Reading posts: threads, replies, feeds and single posts, each filtered to
// what the viewer may read (audience, membership, removals, their own filters).
import type { ExpressionBuilder } from "kysely";
import type { Database, Db } from "../../db/schema.ts";
import { mayRead } from "../communities/membership.ts";
import { DomainError, notFound } from "../errors.ts";
import { notFilteredFor } from "../filters/service.ts";
import { notLimitedFor, notSuspendedFor } from "../sanctions/visibility.ts";
import { notHiddenByWarning } from "../warnings/thread-view.ts";
import { likeCount } from "./like-counts.ts";
import {
  activityKey,
  daysAgo,
  likesKey,
  type SortKey,
  splitCursor,
  type ThreadSort,
  TOP_PERIODS,
  type TopPeriod,
} from "./thread-order.ts";

function postQuery(db: Db, viewerId: string | undefined) {
  return (
    db
      .selectFrom("posts")
      .innerJoin("actors as author", "author.id", "posts.author_id")
      .leftJoin("users", "users.actor_id", "posts.author_id")
      .leftJoin("clinician_badges as badge", "badge.user_id", "posts.author_id")
      // A suspended account's posts are hidden from every read, not deleted (src/sanctions/).
      .where(notSuspendedFor(viewerId))
      .select([
        "posts.id",
        "posts.iri",
        "posts.url",
        "posts.type",
        "posts.community_id as communityId",
        "posts.parent_id as parentId",
        "posts.thread_id as threadId",
        "posts.title",
        "posts.source",
        "posts.content_html as contentHtml",
        "posts.summary",
        "posts.sensitive",
        "posts.audience",
        "posts.published_at as publishedAt",
        "posts.updated_at as updatedAt",
        "posts.deleted_at as deletedAt",
        "posts.removed_at as removedAt",
        "posts.locked",
        "posts.pinned_at as pinnedAt",
        "posts.local",
        "posts.warning_category_id as warningCategoryId",
        "author.id as authorId",
        "author.username as authorUsername",
        "author.host as authorHost",
        "author.local as authorLocal",
        "author.name as authorName",
        "author.iri as authorIri",
        "author.url as authorUrl",
        "author.avatar_url as authorAvatar",
        "author.deleted_at as authorDeletedAt",
        "users.is_clinician as authorClinician",
        "badge.profession as authorProfession",
      ])
      .select((eb) => [
        // Ours plus, for a remote post, the likes its origin counts that we don't hold.
        likeCount.as("likes"),
        eb
          .selectFrom("posts as r")
          .select((e) => e.fn.countAll<string | number>().as("n"))
          .whereRef("r.thread_id", "=", "posts.id")
          .whereRef("r.id", "!=", "posts.id")
          .where("r.deleted_at", "is", null)
          .as("replies"),
        // A visitor liked nothing: a constant, not a subquery per row.
        viewerId
          ? eb
              .selectFrom("likes")
              .select((e) => e.fn.countAll<string | number>().as("n"))
              .whereRef("likes.post_id", "=", "posts.id")
              .where("likes.actor_id", "=", viewerId)
              .as("likedByViewer")
          : eb.lit(0).as("likedByViewer"),
        // A question thread, and whether an answer is marked (src/answers).
        eb
          .selectFrom("questions")
          .select((e) => e.fn.countAll<string | number>().as("n"))
          .whereRef("questions.post_id", "=", "posts.id")
          .as("question"),
        eb
          .selectFrom("answer_marks")
          .innerJoin("posts as answer", "answer.id", "answer_marks.post_id")
          .select((e) => e.fn.countAll<string | number>().as("n"))
          .whereRef("answer_marks.thread_id", "=", "posts.id")
          .where("answer.deleted_at", "is", null)
          .where("answer.removed_at", "is", null)
          .as("answered"),
      ])
  );
}

type PostRow = Awaited<ReturnType<ReturnType<typeof postQuery>["execute"]>>[number];

/**
 * Which audiences a reader sees in a community (or a person's posts): public
 * for everyone, followers-only for its accepted members (or followers), never
 * direct messages.
 */
function visibleAudience(
  eb: ExpressionBuilder<Database & { author: Database["actors"] }, "posts" | "author">,
  viewerId: string | undefined,
  followeeId: string,
) {
  if (!viewerId) return eb("posts.audience", "=", "public");
  return eb.or([
    eb("posts.audience", "in", ["public", "unlisted"]),
    eb("posts.author_id", "=", viewerId),
    eb.and([
      eb("posts.audience", "=", "followers"),
      eb.exists(
        eb
          .selectFrom("follows as vf")
          .select("vf.id")
          .where("vf.follower_id", "=", viewerId)
          .where("vf.followee_id", "=", followeeId)
          .where("vf.status", "=", "accepted"),
      ),
    ]),
  ]);
}

function shape(r: PostRow) {
  return {
    ...r,
    sensitive: r.sensitive === 1,
    locked: r.locked === 1,
    local: r.local === 1,
    authorLocal: r.authorLocal === 1,
    authorClinician: r.authorClinician === 1,
    likes: Number(r.likes ?? 0),
    replies: Number(r.replies ?? 0),
    likedByViewer: Number(r.likedByViewer ?? 0) > 0,
    question: Number(r.question ?? 0) > 0,
    answered: Number(r.question ?? 0) > 0 && Number(r.answered ?? 0) > 0,
  };
}
export type PostView = ReturnType<typeof shape>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Cursor pagination by id (ids are time-ordered), or by a computed key then id: newest first by default. */
async function pageOf(
  q: ReturnType<typeof postQuery>,
  options: { cursor?: string; limit?: number; viewerId?: string },
  order: "asc" | "desc" = "desc",
  key?: SortKey,
): Promise<Page<PostView>> {
  const limit = options.limit ?? 25;
  let page = key ? q.orderBy(key.expr, "desc") : q;
  page = page.orderBy("posts.id", order).limit(limit + 1);
  // People and servers the reader muted or blocked stay out of every list.
  if (options.viewerId) page = page.where(notFilteredFor(options.viewerId)).where(notHiddenByWarning(options.viewerId));
  if (options.cursor && key) {
    const [k, id] = splitCursor(options.cursor, key);
    page = page.where((eb) => eb.or([eb(key.expr, "<", k), eb.and([eb(key.expr, "=", k), eb("posts.id", "<", id)])]));
  } else if (options.cursor) page = page.where("posts.id", order === "desc" ? "<" : ">", options.cursor);
  const rows = await (key ? page.select(key.expr.as("sortKey")) : page).execute();
  const items = rows.slice(0, limit);
  const last = items.at(-1) as (PostRow & { sortKey?: unknown }) | undefined;
  const next = last ? (key ? `${String(last.sortKey)}_${last.id}` : last.id) : null;
  return { items: items.map(shape), nextCursor: rows.length > limit ? next : null };
}

/**
 * Threads of a community, newest first (or by latest reply, or by likes among
 * those published within `period`); pinned threads lead the first page.
 * Removed threads are listed (marked) only for its moderators, who may restore them.
 */
export async function listThreads(
  db: Db,
  communityId: string,
  options: {
    cursor?: string;
    limit?: number;
    viewerId?: string;
    moderator?: boolean;
    sort?: ThreadSort;
    period?: TopPeriod;
  } = {},
): Promise<Page<PostView> & { pinned: PostView[] }> {
  const threads = () => {
    let q = postQuery(db, options.viewerId)
      .where("posts.community_id", "=", communityId)
      .where("posts.parent_id", "is", null)
      // Logged-out visitors see public threads only (not those of limited servers);
      // followers-only threads are for the community's members.
      .where((eb) => visibleAudience(eb, options.viewerId, communityId))
      .where("posts.deleted_at", "is", null);
    if (!options.moderator) q = q.where("posts.removed_at", "is", null).where(notLimitedFor(options.viewerId));
    return q;
  };
  const sort = options.sort ?? "new";
  let listed = threads().where("posts.pinned_at", "is", null);
  const days = sort === "top" ? TOP_PERIODS[options.period ?? "all"] : null;
  if (days !== null) listed = listed.where("posts.published_at", ">=", daysAgo(days));
  const key = sort === "active" ? activityKey : sort === "top" ? likesKey : undefined;
  if (sort === "active") listed = withActivity(db, listed, communityId);
  const page = await pageOf(listed, options, "desc", key);
  let pinned = threads().where("posts.pinned_at", "is not", null);
  if (options.viewerId) pinned = pinned.where(notFilteredFor(options.viewerId));
  return {
    ...page,
    pinned: options.cursor ? [] : (await pinned.orderBy("posts.pinned_at", "desc").execute()).map(shape),
  };
}

/** Joins each thread's latest reply time (replies not deleted or removed) as `activity.latest`. */
function withActivity(db: Db, q: ReturnType<typeof postQuery>, communityId: string) {
  const latest = db
    .selectFrom("posts as r")
    .select("r.thread_id")
    .select((eb) => eb.fn.max("r.published_at").as("latest"))
    .where("r.community_id", "=", communityId)
    .where("r.parent_id", "is not", null)
    .where("r.deleted_at", "is", null)
    .where("r.removed_at", "is", null)
    .groupBy("r.thread_id");
  // The join adds one column the page reads through the sort key only: the row shape is unchanged.
  return q.leftJoin(latest.as("activity"), "activity.thread_id", "posts.id") as unknown as typeof q;
}

/** Why a post was removed, for those who still see it: the latest removal not undone. */
export interface RemovalNote {
  actionId: string;
  reason: string | null;
}

export async function removalNotes(db: Db, postIds: string[]): Promise<Map<string, RemovalNote>> {
  const notes = new Map<string, RemovalNote>();
  if (postIds.length === 0) return notes;
  const rows = await db
    .selectFrom("moderation_actions")
    .select(["id", "target_post_id", "reason"])
    .where("action", "=", "remove_post")
    .where("target_post_id", "in", postIds)
    .where("reversed_at", "is", null)
    .orderBy("id", "asc")
    .execute();
  // Ascending: a later removal (after a restore) overwrites an earlier one.
  for (const r of rows) if (r.target_post_id) notes.set(r.target_post_id, { actionId: r.id, reason: r.reason });
  return notes;
}

export async function getPost(db: Db, postId: string, viewerId?: string): Promise<PostView> {
  const row = await postQuery(db, viewerId).where("posts.id", "=", postId).executeTakeFirst();
  if (!row) throw notFound("post");
  return shape(row);
}

export const REPLIES_PAGE = 200;

/** A thread's replies in creation order, a page at a time; the view builds the tree. */
export async function listReplies(
  db: Db,
  threadId: string,
  options: { cursor?: string; limit?: number; viewerId?: string } = {},
): Promise<Page<PostView>> {
  const thread = await db
    .selectFrom("posts")
    .select(["community_id", "author_id"])
    .where("id", "=", threadId)
    .executeTakeFirst();
  return pageOf(
    postQuery(db, options.viewerId)
      .where("posts.thread_id", "=", threadId)
      .where("posts.id", "!=", threadId)
      .where((eb) => visibleAudience(eb, options.viewerId, thread?.community_id ?? thread?.author_id ?? "")),
    { limit: REPLIES_PAGE, ...options },
    "asc",
  );
}

/** A user's posts for their profile, newest first, only from communities the viewer may read. */
export async function listByAuthor(
  db: Db,
  authorId: string,
  options: { cursor?: string; limit?: number; viewerId?: string } = {},
): Promise<Page<PostView>> {
  return pageOf(
    postQuery(db, options.viewerId)
      .where("posts.author_id", "=", authorId)
      .where("posts.deleted_at", "is", null)
      .where("posts.removed_at", "is", null)
      .where("posts.audience", "in", options.viewerId === authorId ? ["public", "unlisted", "followers"] : ["public"]),
    options,
  );
}

/** Public posts carrying a hashtag, newest first. */
export async function listByTag(
  db: Db,
  tag: string,
  options: { cursor?: string; limit?: number; viewerId?: string } = {},
): Promise<Page<PostView>> {
  return pageOf(
    postQuery(db, options.viewerId)
      .where("posts.id", "in", db.selectFrom("post_tags").select("post_id").where("tag", "=", tag.toLowerCase()))
      .where(notLimitedFor(options.viewerId))
      .where("posts.audience", "=", "public")
      .where("posts.deleted_at", "is", null)
      .where("posts.removed_at", "is", null),
    options,
  );
}

/** Resolves a post for a reader, enforcing the community's visibility. */
export async function readablePost(db: Db, postId: string, viewerId: string | undefined) {
  const post = await getPost(db, postId, viewerId);
  if (post.audience === "followers" && post.authorId !== viewerId) {
    // Followers-only: for members of its community, or followers of its author.
    const followee = post.communityId ?? post.authorId;
    const follows = viewerId
      ? await db
          .selectFrom("follows")
          .select("id")
          .where("follower_id", "=", viewerId)
          .where("followee_id", "=", followee)
          .where("status", "=", "accepted")
          .executeTakeFirst()
      : undefined;
    if (!follows) throw new DomainError("not_found", "post not found");
  }
  if (post.audience === "direct") {
    const recipient = viewerId
      ? await db
          .selectFrom("post_recipients")
          .select("actor_id")
          .where("post_id", "=", postId)
          .where("actor_id", "=", viewerId)
          .executeTakeFirst()
      : undefined;
    if (post.authorId !== viewerId && !recipient) throw new DomainError("not_found", "post not found");
  }
  if (post.communityId) {
    const community = await db
      .selectFrom("communities")
      .select(["actor_id as id", "visibility"])
      .where("actor_id", "=", post.communityId)
      .executeTakeFirst();
    if (community && !(await mayRead(db, community, viewerId))) {
      throw new DomainError("not_found", "post not found");
    }
  }
  return post;
}

/**
 * A member's feed: new threads in communities they joined and posts by people they follow, newest first
 * (`communitiesOnly`: the threads alone, as the home page lists them).
 */
export async function listFeed(
  db: Db,
  viewerId: string,
  options: { cursor?: string; limit?: number; communitiesOnly?: boolean } = {},
): Promise<Page<PostView>> {
  const followed = db
    .selectFrom("follows")
    .select("followee_id")
    .where("follower_id", "=", viewerId)
    .where("status", "=", "accepted");
  // The home page's threads alone take the community index (a member of a few communities reads only theirs).
  const q = postQuery(db, viewerId).where("posts.deleted_at", "is", null).where("posts.removed_at", "is", null);
  const threads = q.where("posts.community_id", "in", followed).where("posts.parent_id", "is", null);
  return pageOf(
    options.communitiesOnly
      ? threads
      : q.where((eb) =>
          eb.or([
            eb.and([eb("posts.community_id", "in", followed), eb("posts.parent_id", "is", null)]),
            eb.and([
              eb("posts.author_id", "in", followed),
              eb("posts.community_id", "is", null),
              eb("posts.audience", "in", ["public", "unlisted", "followers"]),
            ]),
          ]),
        ),
    { ...options, viewerId },
  );
}
