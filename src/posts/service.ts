import { z } from "zod";
import type { Db, PostAudience } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { mentionedActorIds } from "../actors/service.ts";
import { assertMayPost } from "../communities/membership.ts";
import { extractHashtags, extractMentions, renderMarkdown } from "../content/markdown.ts";
import { forbidden, invalid, notFound, parseInput } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { newId, now } from "../ids.ts";
import { applyImageEdit, checkImageEdit, type ImageEdit } from "../media/edits.ts";
import { attachImages, type StoredImage } from "../media/service.ts";
import { type NewNotification, notify } from "../notifications/service.ts";
import { hostOf, likeIri, postIri } from "../urls.ts";
import { notifyAddedMentions } from "./mention-notices.ts";
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
/** Its images are shown blurred until opened (a content warning does the same). */
const sensitive = z.boolean().default(false);
/** The community's warning category chosen (src/warnings checked it; its text already leads `cw`). */
const warningCategoryId = z.string().nullable().default(null);

export const threadInput = z.object({
  title: z.string().trim().min(1, "is required").max(TITLE_MAX, `must be at most ${TITLE_MAX} characters`),
  body: body.default(""),
  cw,
  sensitive,
  warningCategoryId,
  /** Marked as a question (src/answers): its replies can then be marked as answers. */
  question: z.boolean().default(false),
});
export const replyInput = z.object({
  body: body.refine((v) => v.trim() !== "", "is required"),
  cw,
  sensitive,
  warningCategoryId,
});
export const editInput = z.object({
  title: z.string().trim().max(TITLE_MAX, `must be at most ${TITLE_MAX} characters`).optional(),
  body,
  cw,
  sensitive,
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
  images: StoredImage[] = [],
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
    sensitive: data.sensitive,
    warningCategoryId: data.warningCategoryId,
    audience: audienceFor(community),
    images,
    question: data.question,
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
  images: StoredImage[] = [],
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
    sensitive: data.sensitive,
    warningCategoryId: data.warningCategoryId,
    audience: audienceFor(community),
    images,
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
  sensitive: boolean;
  warningCategoryId: string | null;
  audience: PostAudience;
  images: StoredImage[];
  question?: boolean;
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
        sensitive: p.summary || p.sensitive ? 1 : 0,
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
        warning_category_id: p.warningCategoryId,
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
    await attachImages(trx, id, p.images);
    if (p.question)
      await trx.insertInto("questions").values({ post_id: id, created_at: ts, published_marks: null }).execute();
    await recordEvent(trx, { type: "post.created", postId: id });
    await notify(trx, await postNotifications(trx, { id, ...p }, mentions));
  });
  return { id, iri, threadId: p.threadId ?? id };
}

/**
 * Who a new post tells: the author of the post it answers (a reply), and the
 * people it names (a mention). notify() tells each once, the first kind they
 * have on: a replied-to author who turned replies off still hears of a mention.
 */
export async function postNotifications(
  db: Db,
  post: { id: string; authorId: string; parentId: string | null; communityId?: string | null },
  mentionedIds: string[],
): Promise<NewNotification[]> {
  const parent = post.parentId
    ? await db.selectFrom("posts").select("author_id").where("id", "=", post.parentId).executeTakeFirst()
    : undefined;
  const about = { actorId: post.authorId, postId: post.id, communityId: post.communityId ?? null };
  const notes: NewNotification[] = parent ? [{ ...about, userId: parent.author_id, kind: "reply" }] : [];
  for (const userId of new Set(mentionedIds)) notes.push({ ...about, userId, kind: "mention" });
  return notes;
}

/** The author edits a post; `updated_at` records when. */
export async function editPost(
  db: Db,
  origin: string,
  postId: string,
  editorId: string,
  input: z.input<typeof editInput>,
  images?: ImageEdit,
) {
  const data = parseInput(editInput, input);
  const post = await db
    .selectFrom("posts")
    .select(["id", "author_id", "parent_id", "community_id", "deleted_at", "removed_at", "local"])
    .where("id", "=", postId)
    .executeTakeFirst();
  if (!post || post.deleted_at) throw notFound("post");
  if (post.author_id !== editorId) throw forbidden("only the author can edit a post");
  // An edit would go out to every server: it would undo the removal there.
  if (post.removed_at) throw forbidden("the moderators removed this post; it can no longer be edited");
  if (post.parent_id === null && data.title === "") throw invalid("title: is required", { title: "is required" });
  if (post.parent_id !== null && data.body.trim() === "") throw invalid("body: is required", { body: "is required" });
  if (images) await checkImageEdit(db, postId, images);
  const tags = extractHashtags(data.body);
  const mentions = await mentionedActorIds(db, hostOf(origin), extractMentions(data.body));
  await inTransaction(db, async (trx) => {
    if (images) await applyImageEdit(trx, postId, images);
    await trx
      .updateTable("posts")
      .set({
        ...(post.parent_id === null && data.title !== undefined ? { title: data.title } : {}),
        source: data.body,
        content_html: renderMarkdown(data.body, origin),
        summary: data.cw,
        sensitive: data.cw || data.sensitive ? 1 : 0,
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
    const before = await trx.selectFrom("post_mentions").select("actor_id").where("post_id", "=", postId).execute();
    await trx.deleteFrom("post_mentions").where("post_id", "=", postId).execute();
    if (mentions.length > 0)
      await trx
        .insertInto("post_mentions")
        .values(mentions.map((actor_id) => ({ post_id: postId, actor_id })))
        .execute();
    await recordEvent(trx, { type: "post.updated", postId });
    const about = { id: postId, authorId: editorId, communityId: post.community_id };
    await notifyAddedMentions(
      trx,
      about,
      before.map((m) => m.actor_id),
      mentions,
    );
  });
}

/**
 * Deletes a post, by its author. The row stays as a tombstone (no text left)
 * so replies keep their place in the thread. Moderators remove instead
 * (src/moderation/posts.ts): logged, reversible, and the author still sees it.
 */
export async function deletePost(db: Db, postId: string, actorId: string): Promise<void> {
  const post = await db
    .selectFrom("posts")
    .select(["id", "author_id", "deleted_at"])
    .where("id", "=", postId)
    .executeTakeFirst();
  if (!post || post.deleted_at) throw notFound("post");
  if (post.author_id !== actorId)
    throw forbidden("only the author can delete a post; moderators remove it (it can be restored)");
  await inTransaction(db, async (trx) => {
    await tombstonePosts(trx, [postId], now());
    await recordEvent(trx, { type: "post.deleted", postId, byActorId: actorId });
  });
}

export async function like(db: Db, origin: string, postId: string, actorId: string): Promise<void> {
  const post = await db
    .selectFrom("posts")
    .select(["id", "deleted_at", "author_id"])
    .where("id", "=", postId)
    .executeTakeFirst();
  if (!post || post.deleted_at) throw notFound("post");
  const id = newId();
  await inTransaction(db, async (trx) => {
    const inserted = await trx
      .insertInto("likes")
      .values({ id, iri: likeIri(origin, id), post_id: postId, actor_id: actorId, created_at: now() })
      .onConflict((oc) => oc.columns(["post_id", "actor_id"]).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
      await recordEvent(trx, { type: "like.created", likeId: id });
      await notify(trx, { userId: post.author_id, kind: "like", actorId, postId });
    }
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
