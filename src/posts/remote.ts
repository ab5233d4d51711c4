// Posts that arrive from other servers. Federation hands over sanitized,
// validated values; these functions store them the way local posts are stored.
import type { Db, PostAudience } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { communityAllows, isBanned } from "../communities/membership.ts";
import { recordEvent } from "../events.ts";
import { newId, now } from "../ids.ts";
import { logger } from "../logging.ts";
import { type RemoteImageRef, replaceRemoteImages, storeRemoteImages } from "../media/remote-images.ts";
import { notify } from "../notifications/service.ts";
import { localPeopleLinkedIn, notifyAddedMentions } from "./mention-notices.ts";
import { postNotifications } from "./service.ts";
import { tombstonePosts } from "./tombstone.ts";

/**
 * The hashtags a received post keeps, as Mastodon caps them: the post is
 * stored with its text whatever its number of tags, only the first ones are
 * indexed (a post carrying 17,000 would otherwise never be stored at all).
 */
export const MAX_TAGS_PER_POST = 100;
/** Rows per INSERT: far under SQLite's 32,766 bound parameters (and PostgreSQL's 65,535). */
const ROWS_PER_INSERT = 500;

const log = logger("posts");

export interface RemotePostInput {
  iri: string;
  url: string | null;
  type: "Page" | "Note" | "Article";
  authorId: string;
  /** The community it belongs to (local or remote Group), if known. */
  communityId: string | null;
  /** The post it replies to, if any (must already be stored). */
  parentId: string | null;
  title: string | null;
  contentHtml: string;
  summary: string | null;
  sensitive: boolean;
  audience: PostAudience;
  language: string | null;
  publishedAt: string;
  updatedAt: string | null;
  tags: string[];
  /** Explicit recipients (direct messages). */
  recipientIds?: string[];
  /** From a limited (silenced) server: kept out of public listings and never re-shared. */
  limited?: boolean;
  /** Its images, stored as references (fetched on first view). */
  images?: RemoteImageRef[];
}

export type ReceiveResult = { stored: true; postId: string; created: boolean } | { stored: false; reason: string };

/**
 * Stores a remote post (idempotent by IRI). When it lands in a local
 * community, the community re-shares `activity` to its followers.
 */
export async function receivePost(db: Db, input: RemotePostInput, activity?: unknown): Promise<ReceiveResult> {
  return inTransaction(db, async (trx) => {
    const existing = await trx.selectFrom("posts").select("id").where("iri", "=", input.iri).executeTakeFirst();
    if (existing) return { stored: true, postId: existing.id, created: false };
    // A Create retried after its author's Delete(Person) must not bring their words back.
    const author = await trx
      .selectFrom("actors")
      .select(["deleted_at", "suspended_at"])
      .where("id", "=", input.authorId)
      .executeTakeFirst();
    if (author?.deleted_at) return { stored: false, reason: "author deleted" };
    // However it arrives (straight, announced by a community, backfilled, fetched): a suspended account's post
    // is not taken.
    if (author?.suspended_at) return { stored: false, reason: "author suspended" };
    let threadId: string | null = null;
    let communityId = input.communityId;
    if (input.parentId) {
      const parent = await trx
        .selectFrom("posts")
        .select(["thread_id", "community_id"])
        .where("id", "=", input.parentId)
        .executeTakeFirst();
      if (!parent) return { stored: false, reason: "parent not stored" };
      threadId = parent.thread_id;
      communityId = parent.community_id ?? communityId;
      const root = await trx
        .selectFrom("posts")
        .select(["locked", "removed_at", "deleted_at"])
        .where("id", "=", parent.thread_id)
        .executeTakeFirst();
      if (root?.locked) return { stored: false, reason: "thread locked" };
    }
    const community = communityId
      ? await trx
          .selectFrom("actors")
          .leftJoin("communities", "communities.actor_id", "actors.id")
          .select(["actors.id", "actors.local", "communities.visibility", "communities.federation"])
          .where("actors.id", "=", communityId)
          .executeTakeFirst()
      : undefined;
    // Banned here or by a remote community's moderators (a received Block), until the ban ends.
    if (community && (await isBanned(trx, community.id, input.authorId)))
      return { stored: false, reason: "author banned" };
    if (community?.local === 1) {
      if (community.federation === "local") return { stored: false, reason: "community is local-only" };
      const author = await trx
        .selectFrom("actors")
        .select("host")
        .where("id", "=", input.authorId)
        .executeTakeFirstOrThrow();
      if (!(await communityAllows(trx, community.id, author.host)))
        return { stored: false, reason: "server not allowed by the community" };
      if (community.visibility === "members") {
        const member = await trx
          .selectFrom("follows")
          .select("status")
          .where("follower_id", "=", input.authorId)
          .where("followee_id", "=", community.id)
          .executeTakeFirst();
        if (member?.status !== "accepted") return { stored: false, reason: "not a member" };
      }
    }
    if (
      !communityId &&
      !(input.recipientIds && input.recipientIds.length > 0) &&
      !(await hasLocalFollowers(trx, input.authorId))
    ) {
      return { stored: false, reason: "no community, no local recipient and no local follower" };
    }
    const id = newId();
    const ts = now();
    const audience: PostAudience =
      community?.local === 1 && community.visibility === "members"
        ? "followers"
        : input.limited && input.audience === "public"
          ? "unlisted"
          : input.audience;
    await trx
      .insertInto("posts")
      .values({
        id,
        iri: input.iri,
        url: input.url,
        type: input.type,
        author_id: input.authorId,
        community_id: communityId,
        parent_id: input.parentId,
        thread_id: threadId ?? id,
        title: input.parentId ? null : input.title,
        source: null,
        content_html: input.contentHtml,
        summary: input.summary,
        sensitive: input.sensitive ? 1 : 0,
        audience,
        language: input.language,
        local: 0,
        published_at: input.publishedAt,
        updated_at: input.updatedAt,
        deleted_at: null,
        removed_at: null,
        removed_by: null,
        locked: 0,
        pinned_at: null,
        created_at: ts,
      })
      .execute();
    await storeTags(trx, id, input.tags);
    await storeRemoteImages(trx, id, input.images ?? []);
    const recipients = [...new Set(input.recipientIds ?? [])];
    for (let i = 0; i < recipients.length; i += ROWS_PER_INSERT)
      await trx
        .insertInto("post_recipients")
        .values(recipients.slice(i, i + ROWS_PER_INSERT).map((actor_id) => ({ post_id: id, actor_id })))
        .execute();
    if (community?.local === 1 && activity !== undefined && audience !== "direct" && !input.limited)
      await recordEvent(trx, { type: "post.received", postId: id, activity });
    await notifyReceived(
      trx,
      { id, authorId: input.authorId, parentId: input.parentId, communityId },
      input,
      recipients,
    );
    return { stored: true, postId: id, created: true };
  });
}

/**
 * Who a received post tells: a direct message its local recipients; otherwise
 * the author of the post it answers, and the local people it names, whether
 * addressed to them (Mastodon's mentions) or linked in its text (a mention in
 * a community's thread, which is addressed to the community).
 */
async function notifyReceived(
  db: Db,
  post: { id: string; authorId: string; parentId: string | null; communityId: string | null },
  input: RemotePostInput,
  recipients: string[],
): Promise<void> {
  if (input.audience === "direct") {
    await notify(
      db,
      recipients.map((userId) => ({ userId, kind: "message" as const, actorId: post.authorId, postId: post.id })),
    );
    return;
  }
  const named = await localPeopleLinkedIn(db, input.contentHtml);
  await notify(db, await postNotifications(db, post, [...recipients, ...named]));
}

/** An `Update` of a remote post by its author. */
export async function receivePostUpdate(
  db: Db,
  input: {
    iri: string;
    authorId: string;
    title: string | null;
    contentHtml: string;
    summary: string | null;
    sensitive: boolean;
    updatedAt: string;
    tags: string[];
    /** Absent: the images stay as they are. */
    images?: RemoteImageRef[];
  },
  activity?: unknown,
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const post = await trx
      .selectFrom("posts")
      .select(["id", "author_id", "parent_id", "community_id", "deleted_at", "removed_at", "audience", "content_html"])
      .select(["title", "summary", "sensitive", "updated_at"])
      .where("iri", "=", input.iri)
      .executeTakeFirst();
    if (!post || post.deleted_at || post.author_id !== input.authorId) return false;
    // An Update that changes none of the words (a question's marks, src/answers) is no edit to show.
    const sameWords =
      post.content_html === input.contentHtml &&
      post.summary === input.summary &&
      (post.sensitive === 1) === input.sensitive &&
      (post.parent_id !== null || !input.title || post.title === input.title);
    await trx
      .updateTable("posts")
      .set({
        ...(post.parent_id === null && input.title ? { title: input.title } : {}),
        content_html: input.contentHtml,
        summary: input.summary,
        sensitive: input.sensitive ? 1 : 0,
        updated_at: sameWords ? post.updated_at : input.updatedAt,
      })
      .where("id", "=", post.id)
      .execute();
    await trx.deleteFrom("post_tags").where("post_id", "=", post.id).execute();
    await storeTags(trx, post.id, input.tags);
    if (input.images) await replaceRemoteImages(trx, post.id, input.images);
    // A mention the edit adds tells its person (a direct message told its recipients already).
    if (post.audience !== "direct") {
      const [before, after] = [
        await localPeopleLinkedIn(trx, post.content_html),
        await localPeopleLinkedIn(trx, input.contentHtml),
      ];
      const about = { id: post.id, authorId: post.author_id, communityId: post.community_id };
      await notifyAddedMentions(trx, about, before, after);
    }
    // A removed post's edit is kept for its author and the moderators, and not re-shared.
    const reshare = activity !== undefined && !post.removed_at && post.community_id;
    if (reshare && (await isLocalCommunity(trx, post.community_id ?? "")))
      await recordEvent(trx, { type: "post.received", postId: post.id, activity });
    return true;
  });
}

/**
 * A `Delete` of a remote post by its author or the community itself (a
 * moderator's `Delete` is a removal: federation/inbox/moderation.ts).
 */
export async function receivePostDelete(
  db: Db,
  input: { iri: string; actorId: string },
  activity?: unknown,
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const post = await trx
      .selectFrom("posts")
      .select(["id", "author_id", "community_id", "deleted_at"])
      .where("iri", "=", input.iri)
      .executeTakeFirst();
    if (!post || post.deleted_at) return false;
    // The author deletes; so does the community itself (retention). A moderator's Delete is a
    // removal, logged and reversible (federation/inbox/moderation.ts), never a deletion.
    const allowed = post.author_id === input.actorId || post.community_id === input.actorId;
    if (!allowed) return false;
    await tombstonePosts(trx, [post.id], now());
    if (activity !== undefined && post.community_id && (await isLocalCommunity(trx, post.community_id)))
      await recordEvent(trx, { type: "post.received", postId: post.id, activity });
    return true;
  });
}

/** Indexes a received post's hashtags: each once, at most MAX_TAGS_PER_POST of them, in bounded INSERTs. */
async function storeTags(db: Db, postId: string, tags: string[]): Promise<void> {
  const distinct = [...new Set(tags)];
  const kept = distinct.slice(0, MAX_TAGS_PER_POST);
  if (kept.length < distinct.length)
    log.debug("post {postId}: kept {kept} hashtags, dropped {dropped}", {
      postId,
      kept: kept.length,
      dropped: distinct.length - kept.length,
    });
  for (let i = 0; i < kept.length; i += ROWS_PER_INSERT)
    await db
      .insertInto("post_tags")
      .values(kept.slice(i, i + ROWS_PER_INSERT).map((tag) => ({ post_id: postId, tag })))
      .execute();
}

async function isLocalCommunity(db: Db, actorId: string): Promise<boolean> {
  return (
    (await db.selectFrom("communities").select("actor_id").where("actor_id", "=", actorId).executeTakeFirst()) !==
    undefined
  );
}

/** A remote `Like` (idempotent by IRI and by liker). */
export async function receiveLike(
  db: Db,
  input: { iri: string; postId: string; actorId: string },
  activity?: unknown,
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const result = await trx
      .insertInto("likes")
      .values({ id: newId(), iri: input.iri, post_id: input.postId, actor_id: input.actorId, created_at: now() })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    const created = Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    if (!created) return false;
    const post = await trx
      .selectFrom("posts")
      .select(["community_id", "author_id"])
      .where("id", "=", input.postId)
      .executeTakeFirst();
    if (activity !== undefined && post?.community_id && (await isLocalCommunity(trx, post.community_id)))
      await recordEvent(trx, { type: "post.received", postId: input.postId, activity });
    if (post) await notify(trx, { userId: post.author_id, kind: "like", actorId: input.actorId, postId: input.postId });
    return created;
  });
}

export async function receiveUnlike(
  db: Db,
  input: { iri?: string; postId?: string; actorId: string },
): Promise<boolean> {
  let q = db.deleteFrom("likes").where("actor_id", "=", input.actorId);
  if (input.iri) q = q.where("iri", "=", input.iri);
  else if (input.postId) q = q.where("post_id", "=", input.postId);
  else return false;
  return Number((await q.executeTakeFirst()).numDeletedRows) > 0;
}

/** `Delete(Person)`: a remote actor is gone; their posts become tombstones and their traces go. */
export async function receiveActorDeleted(db: Db, actorId: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const ts = now();
    await tombstonePosts(trx, trx.selectFrom("posts").select("id").where("author_id", "=", actorId), ts);
    await trx.deleteFrom("likes").where("actor_id", "=", actorId).execute();
    await trx
      .deleteFrom("follows")
      .where((eb) => eb.or([eb("follower_id", "=", actorId), eb("followee_id", "=", actorId)]))
      .execute();
    await trx
      .updateTable("actors")
      .set({ name: null, summary_html: null, avatar_url: null, deleted_at: ts })
      .where("id", "=", actorId)
      .where("local", "=", 0)
      .execute();
  });
}

export async function findPostByIri(db: Db, iri: string) {
  return db
    .selectFrom("posts")
    .select(["id", "thread_id", "community_id", "author_id", "local", "deleted_at"])
    .where("iri", "=", iri)
    .executeTakeFirst();
}

/** Whether someone here follows the actor (their public posts are then kept for their profile and our feed). */
async function hasLocalFollowers(db: Db, actorId: string): Promise<boolean> {
  const row = await db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.follower_id")
    .select("follows.id")
    .where("follows.followee_id", "=", actorId)
    .where("follows.status", "=", "accepted")
    .where("actors.local", "=", 1)
    .executeTakeFirst();
  return row !== undefined;
}
