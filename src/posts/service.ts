import type { ExpressionBuilder } from "kysely";
import { z } from "zod";
import type { Database, Db, PostAudience } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { mentionedActorIds } from "../actors/service.ts";
import { assertMayPost, isModerator, mayRead } from "../communities/service.ts";
import { extractHashtags, extractMentions, renderMarkdown } from "../content/markdown.ts";
import { DomainError, forbidden, invalid, notFound, parseInput } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { notFilteredFor } from "../filters/service.ts";
import { newId, now } from "../ids.ts";
import { hostOf, likeIri, postIri } from "../urls.ts";
import { tombstonePosts } from "./tombstone.ts";

export const TITLE_MAX = 200;
export const BODY_MAX = 50_000;
export const CW_MAX = 500;

const body = z.string().max(BODY_MAX, `must be at most ${BODY_MAX} characters`);
const cw = z
  .string()
  .trim()
  .max(CW_MAX, `must be at most ${CW_MAX} characters`)
  .optional()
  .transform((v) => (v ? v : null));

export const threadInput = z.object({
  title: z.string().trim().min(1, "is required").max(TITLE_MAX, `must be at most ${TITLE_MAX} characters`),
  body: body.default(""),
  cw,
});
export const replyInput = z.object({
  body: body.refine((v) => v.trim() !== "", "is required"),
  cw,
});
export const editInput = z.object({
  title: z.string().trim().max(TITLE_MAX, `must be at most ${TITLE_MAX} characters`).optional(),
  body,
  cw,
});

interface CommunityRef {
  id: string;
  visibility: "public" | "members";
  joinPolicy: "open" | "approval";
}

/** Members-only communities address threads to their followers, never Public. */
const audienceFor = (community: CommunityRef): PostAudience =>
  community.visibility === "members" ? "followers" : "public";

/** Creates a thread (a Page with a title) in a community. */
export async function createThread(
  db: Db,
  origin: string,
  community: CommunityRef,
  authorId: string,
  input: z.input<typeof threadInput>,
) {
  const data = parseInput(threadInput, input);
  await assertMayPost(db, community, authorId);
  return insertPost(db, origin, {
    type: "Page",
    authorId,
    communityId: community.id,
    parentId: null,
    threadId: null,
    title: data.title,
    source: data.body,
    summary: data.cw,
    audience: audienceFor(community),
  });
}

/** Replies to any post of a thread, at any depth. */
export async function createReply(
  db: Db,
  origin: string,
  community: CommunityRef,
  authorId: string,
  parentId: string,
  input: z.input<typeof replyInput>,
) {
  const data = parseInput(replyInput, input);
  const parent = await db
    .selectFrom("posts")
    .select(["id", "thread_id", "community_id", "deleted_at"])
    .where("id", "=", parentId)
    .executeTakeFirst();
  if (!parent || parent.community_id !== community.id || parent.deleted_at) throw notFound("post to reply to");
  const root = await db
    .selectFrom("posts")
    .select(["locked", "deleted_at", "removed_at"])
    .where("id", "=", parent.thread_id)
    .executeTakeFirstOrThrow();
  if (root.deleted_at) throw notFound("thread");
  if (root.locked) throw forbidden("this thread is locked");
  if (root.removed_at) throw forbidden("this thread was removed by a moderator");
  await assertMayPost(db, community, authorId);
  return insertPost(db, origin, {
    type: "Note",
    authorId,
    communityId: community.id,
    parentId: parent.id,
    threadId: parent.thread_id,
    title: null,
    source: data.body,
    summary: data.cw,
    audience: audienceFor(community),
  });
}

interface NewPost {
  type: "Page" | "Note";
  authorId: string;
  communityId: string;
  parentId: string | null;
  threadId: string | null;
  title: string | null;
  source: string;
  summary: string | null;
  audience: PostAudience;
}

async function insertPost(db: Db, origin: string, p: NewPost) {
  const id = newId();
  const ts = now();
  const iri = postIri(origin, id, p.type);
  const tags = extractHashtags(p.source);
  const mentions = await mentionedActorIds(db, hostOf(origin), extractMentions(p.source));
  await inTransaction(db, async (trx) => {
    await trx
      .insertInto("posts")
      .values({
        id,
        iri,
        url: iri,
        type: p.type,
        author_id: p.authorId,
        community_id: p.communityId,
        parent_id: p.parentId,
        thread_id: p.threadId ?? id,
        title: p.title,
        source: p.source,
        content_html: renderMarkdown(p.source, origin),
        summary: p.summary,
        sensitive: p.summary ? 1 : 0,
        audience: p.audience,
        language: null,
        local: 1,
        published_at: ts,
        updated_at: null,
        deleted_at: null,
        removed_at: null,
        removed_by: null,
        locked: 0,
        pinned_at: null,
        created_at: ts,
      })
      .execute();
    if (tags.length > 0)
      await trx
        .insertInto("post_tags")
        .values(tags.map((tag) => ({ post_id: id, tag })))
        .execute();
    if (mentions.length > 0)
      await trx
        .insertInto("post_mentions")
        .values(mentions.map((actor_id) => ({ post_id: id, actor_id })))
        .execute();
    await recordEvent(trx, { type: "post.created", postId: id });
  });
  return { id, iri, threadId: p.threadId ?? id };
}

/** The author edits a post; `updated_at` records when. */
export async function editPost(
  db: Db,
  origin: string,
  postId: string,
  editorId: string,
  input: z.input<typeof editInput>,
) {
  const data = parseInput(editInput, input);
  const post = await db
    .selectFrom("posts")
    .select(["id", "author_id", "parent_id", "deleted_at", "local"])
    .where("id", "=", postId)
    .executeTakeFirst();
  if (!post || post.deleted_at) throw notFound("post");
  if (post.author_id !== editorId) throw forbidden("only the author can edit a post");
  if (post.parent_id === null && data.title === "") throw invalid("title: is required", { title: "is required" });
  if (post.parent_id !== null && data.body.trim() === "") throw invalid("body: is required", { body: "is required" });
  const tags = extractHashtags(data.body);
  const mentions = await mentionedActorIds(db, hostOf(origin), extractMentions(data.body));
  await inTransaction(db, async (trx) => {
    await trx
      .updateTable("posts")
      .set({
        ...(post.parent_id === null && data.title !== undefined ? { title: data.title } : {}),
        source: data.body,
        content_html: renderMarkdown(data.body, origin),
        summary: data.cw,
        sensitive: data.cw ? 1 : 0,
        updated_at: now(),
      })
      .where("id", "=", postId)
      .execute();
    await trx.deleteFrom("post_tags").where("post_id", "=", postId).execute();
    if (tags.length > 0)
      await trx
        .insertInto("post_tags")
        .values(tags.map((tag) => ({ post_id: postId, tag })))
        .execute();
    await trx.deleteFrom("post_mentions").where("post_id", "=", postId).execute();
    if (mentions.length > 0)
      await trx
        .insertInto("post_mentions")
        .values(mentions.map((actor_id) => ({ post_id: postId, actor_id })))
        .execute();
    await recordEvent(trx, { type: "post.updated", postId });
  });
}

/**
 * Deletes a post, by its author or a community moderator. The row stays as a
 * tombstone (no text left) so replies keep their place in the thread.
 */
export async function deletePost(db: Db, postId: string, actorId: string): Promise<void> {
  const post = await db
    .selectFrom("posts")
    .select(["id", "author_id", "community_id", "deleted_at"])
    .where("id", "=", postId)
    .executeTakeFirst();
  if (!post || post.deleted_at) throw notFound("post");
  const byModerator = post.author_id !== actorId;
  if (byModerator && !(post.community_id && (await isModerator(db, post.community_id, actorId)))) {
    throw forbidden("only the author or a moderator can delete a post");
  }
  const ts = now();
  await inTransaction(db, async (trx) => {
    await tombstonePosts(trx, [postId], ts);
    await recordEvent(trx, { type: "post.deleted", postId, byActorId: actorId });
    if (byModerator) {
      await trx
        .insertInto("moderation_actions")
        .values({
          id: newId(),
          community_id: post.community_id,
          moderator_id: actorId,
          action: "delete_post",
          target_post_id: postId,
          target_actor_id: post.author_id,
          reason: null,
          created_at: ts,
        })
        .execute();
    }
  });
}

export async function like(db: Db, origin: string, postId: string, actorId: string): Promise<void> {
  const post = await db.selectFrom("posts").select(["id", "deleted_at"]).where("id", "=", postId).executeTakeFirst();
  if (!post || post.deleted_at) throw notFound("post");
  const id = newId();
  await inTransaction(db, async (trx) => {
    const inserted = await trx
      .insertInto("likes")
      .values({ id, iri: likeIri(origin, id), post_id: postId, actor_id: actorId, created_at: now() })
      .onConflict((oc) => oc.columns(["post_id", "actor_id"]).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0)
      await recordEvent(trx, { type: "like.created", likeId: id });
  });
}

export async function unlike(db: Db, postId: string, actorId: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const removed = await trx
      .deleteFrom("likes")
      .where("post_id", "=", postId)
      .where("actor_id", "=", actorId)
      .returning("iri")
      .executeTakeFirst();
    if (removed) await recordEvent(trx, { type: "like.deleted", likeIri: removed.iri, postId, actorId });
  });
}

// ---- reads ----

function postQuery(db: Db, viewerId: string | undefined) {
  return db
    .selectFrom("posts")
    .innerJoin("actors as author", "author.id", "posts.author_id")
    .leftJoin("users", "users.actor_id", "posts.author_id")
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
    ])
    .select((eb) => [
      eb
        .selectFrom("likes")
        .select((e) => e.fn.countAll<string | number>().as("n"))
        .whereRef("likes.post_id", "=", "posts.id")
        .as("likes"),
      eb
        .selectFrom("posts as r")
        .select((e) => e.fn.countAll<string | number>().as("n"))
        .whereRef("r.thread_id", "=", "posts.id")
        .whereRef("r.id", "!=", "posts.id")
        .where("r.deleted_at", "is", null)
        .as("replies"),
      (viewerId
        ? eb
            .selectFrom("likes")
            .select((e) => e.fn.countAll<string | number>().as("n"))
            .whereRef("likes.post_id", "=", "posts.id")
            .where("likes.actor_id", "=", viewerId)
        : eb
            .selectFrom("likes")
            .select((e) => e.fn.countAll<string | number>().as("n"))
            .where(eb.lit(false))
      ).as("likedByViewer"),
    ]);
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
  };
}
export type PostView = ReturnType<typeof shape>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Cursor pagination by id (ids are time-ordered): newest first by default. */
async function pageOf(
  q: ReturnType<typeof postQuery>,
  options: { cursor?: string; limit?: number; viewerId?: string },
  order: "asc" | "desc" = "desc",
): Promise<Page<PostView>> {
  const limit = options.limit ?? 25;
  let page = q.orderBy("posts.id", order).limit(limit + 1);
  // People and servers the reader muted or blocked stay out of every list.
  if (options.viewerId) page = page.where(notFilteredFor(options.viewerId));
  if (options.cursor) page = page.where("posts.id", order === "desc" ? "<" : ">", options.cursor);
  const rows = (await page.execute()).map(shape);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** Threads of a community, newest first; pinned threads lead the first page. */
export async function listThreads(
  db: Db,
  communityId: string,
  options: { cursor?: string; limit?: number; viewerId?: string } = {},
): Promise<Page<PostView> & { pinned: PostView[] }> {
  const page = await pageOf(
    postQuery(db, options.viewerId)
      .where("posts.community_id", "=", communityId)
      .where("posts.parent_id", "is", null)
      // Logged-out visitors see public threads only (not those of limited servers);
      // followers-only threads are for the community's members.
      .where((eb) => visibleAudience(eb, options.viewerId, communityId))
      .where("posts.deleted_at", "is", null)
      .where("posts.removed_at", "is", null)
      .where("posts.pinned_at", "is", null),
    options,
  );
  const pinned = options.cursor
    ? []
    : (
        await postQuery(db, options.viewerId)
          .where("posts.community_id", "=", communityId)
          .where("posts.parent_id", "is", null)
          .where("posts.deleted_at", "is", null)
          .where("posts.pinned_at", "is not", null)
          .orderBy("posts.pinned_at", "desc")
          .execute()
      ).map(shape);
  return { ...page, pinned };
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

/** What an ActivityPub rendering of a post needs: IRIs of its author, community and parent, and its tags. */
export async function postForFederation(db: Db, postId: string) {
  const post = await db
    .selectFrom("posts")
    .innerJoin("actors as author", "author.id", "posts.author_id")
    .leftJoin("actors as community", "community.id", "posts.community_id")
    .leftJoin("communities", "communities.actor_id", "posts.community_id")
    .leftJoin("posts as parent", "parent.id", "posts.parent_id")
    .select([
      "communities.federation as communityFederation",
      "posts.id",
      "posts.iri",
      "posts.url",
      "posts.type",
      "posts.title",
      "posts.source",
      "posts.content_html as contentHtml",
      "posts.summary",
      "posts.sensitive",
      "posts.audience",
      "posts.language",
      "posts.published_at as publishedAt",
      "posts.updated_at as updatedAt",
      "posts.deleted_at as deletedAt",
      "posts.removed_at as removedAt",
      "posts.local",
      "author.iri as authorIri",
      "posts.community_id as communityId",
      "community.iri as communityIri",
      "community.followers_url as communityFollowers",
      "parent.iri as parentIri",
    ])
    .where("posts.id", "=", postId)
    .executeTakeFirst();
  if (!post) return undefined;
  const tags = await db.selectFrom("post_tags").select("tag").where("post_id", "=", postId).orderBy("tag").execute();
  const [recipients, mentions] = await Promise.all([
    addressedActors(db, "post_recipients", postId),
    addressedActors(db, "post_mentions", postId),
  ]);
  return { ...post, tags: tags.map((t) => t.tag), recipients, mentions };
}
export type FederatedPost = NonNullable<Awaited<ReturnType<typeof postForFederation>>>;

/** The actors a post is addressed to (recipients) or names (mentions), with where to deliver. */
function addressedActors(db: Db, table: "post_recipients" | "post_mentions", postId: string) {
  return db
    .selectFrom(table)
    .innerJoin("actors", "actors.id", `${table}.actor_id`)
    .select([
      "actors.iri",
      "actors.username",
      "actors.host",
      "actors.local",
      "actors.inbox_url as inboxUrl",
      "actors.shared_inbox_url as sharedInboxUrl",
    ])
    .where(`${table}.post_id`, "=", postId)
    .execute();
}

/** A member's feed: new threads in communities they joined and posts by people they follow, newest first. */
export async function listFeed(
  db: Db,
  viewerId: string,
  options: { cursor?: string; limit?: number } = {},
): Promise<Page<PostView>> {
  const followed = db
    .selectFrom("follows")
    .select("followee_id")
    .where("follower_id", "=", viewerId)
    .where("status", "=", "accepted");
  return pageOf(
    postQuery(db, viewerId)
      .where((eb) =>
        eb.or([
          eb.and([eb("posts.community_id", "in", followed), eb("posts.parent_id", "is", null)]),
          eb.and([
            eb("posts.author_id", "in", followed),
            eb("posts.community_id", "is", null),
            eb("posts.audience", "in", ["public", "unlisted", "followers"]),
          ]),
        ]),
      )
      .where("posts.deleted_at", "is", null)
      .where("posts.removed_at", "is", null),
    { ...options, viewerId },
  );
}
