// Moderating posts: remove and restore (a removal is not a deletion: the
// author and the moderators still see the post, marked removed), lock and
// unlock, pin and unpin a thread.
import { z } from "zod";
import type { Db, ModerationActionKind } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { conflict, forbidden, notFound, parseInput } from "../errors.ts";
import { now } from "../ids.ts";
import { type Acting, assertMayModerate, moderatedCommunity, type Received } from "./authority.ts";
import { logAction } from "./log.ts";

export const REASON_MAX = 1000;
export const reasonInput = z
  .string()
  .trim()
  .max(REASON_MAX, `must be at most ${REASON_MAX} characters`)
  .optional()
  .transform((v) => v || null);

export interface ActionOptions {
  reason?: string | null;
  reportId?: string | null;
  received?: Received;
  /** Part of a larger action (a ban removing a person's posts): its author is told once, by that action. */
  quiet?: boolean;
}

async function moderatedPost(db: Db, postId: string) {
  const post = await db
    .selectFrom("posts")
    .select(["id", "community_id", "author_id", "parent_id", "thread_id", "removed_at", "deleted_at", "locked"])
    .select("pinned_at")
    .where("id", "=", postId)
    .executeTakeFirst();
  if (!post || post.deleted_at) throw notFound("post");
  if (!post.community_id) throw forbidden("only posts in a community are moderated; report a direct message instead");
  return { ...post, communityId: post.community_id };
}

/** Runs one post action: authority, the change, the log entry; returns the action's id. */
async function postAction(
  db: Db,
  origin: string,
  acting: Acting,
  postId: string,
  action: ModerationActionKind,
  options: ActionOptions,
  change: (trx: Db, post: Awaited<ReturnType<typeof moderatedPost>>) => Promise<void>,
): Promise<string> {
  const reason = parseInput(reasonInput, options.reason ?? undefined);
  return inTransaction(db, async (trx) => {
    const post = await moderatedPost(trx, postId);
    await assertMayModerate(trx, acting, post.communityId);
    const community = await moderatedCommunity(trx, post.communityId);
    await change(trx, post);
    return logAction(trx, origin, {
      communityId: post.communityId,
      acting,
      action,
      postId: post.id,
      actorId: post.author_id,
      reason,
      reportId: options.reportId,
      received: options.received,
      localCommunity: community.local,
      tell: options.quiet ? null : post.author_id,
    });
  });
}

export function removePost(db: Db, origin: string, acting: Acting, postId: string, options: ActionOptions = {}) {
  return postAction(db, origin, acting, postId, "remove_post", options, async (trx, post) => {
    if (post.removed_at) throw conflict("this post is already removed");
    await trx
      .updateTable("posts")
      .set({ removed_at: now(), removed_by: acting.actorId })
      .where("id", "=", post.id)
      .execute();
  });
}

export function restorePost(db: Db, origin: string, acting: Acting, postId: string, options: ActionOptions = {}) {
  return postAction(db, origin, acting, postId, "restore_post", options, async (trx, post) => {
    if (!post.removed_at) throw conflict("this post is not removed");
    await trx.updateTable("posts").set({ removed_at: null, removed_by: null }).where("id", "=", post.id).execute();
  });
}

const threadOnly = (post: { parent_id: string | null }, what: string) => {
  if (post.parent_id !== null) throw forbidden(`only threads can be ${what}, not replies`);
};

export function lockThread(db: Db, origin: string, acting: Acting, threadId: string, options: ActionOptions = {}) {
  return postAction(db, origin, acting, threadId, "lock", { ...options, quiet: true }, async (trx, post) => {
    threadOnly(post, "locked");
    if (post.locked) throw conflict("this thread is already locked");
    await trx.updateTable("posts").set({ locked: 1 }).where("id", "=", post.id).execute();
  });
}

export function unlockThread(db: Db, origin: string, acting: Acting, threadId: string, options: ActionOptions = {}) {
  return postAction(db, origin, acting, threadId, "unlock", { ...options, quiet: true }, async (trx, post) => {
    threadOnly(post, "unlocked");
    if (!post.locked) throw conflict("this thread is not locked");
    await trx.updateTable("posts").set({ locked: 0 }).where("id", "=", post.id).execute();
  });
}

export function pinThread(db: Db, origin: string, acting: Acting, threadId: string, options: ActionOptions = {}) {
  return postAction(db, origin, acting, threadId, "pin", { ...options, quiet: true }, async (trx, post) => {
    threadOnly(post, "pinned");
    if (post.pinned_at) throw conflict("this thread is already pinned");
    await trx.updateTable("posts").set({ pinned_at: now() }).where("id", "=", post.id).execute();
  });
}

export function unpinThread(db: Db, origin: string, acting: Acting, threadId: string, options: ActionOptions = {}) {
  return postAction(db, origin, acting, threadId, "unpin", { ...options, quiet: true }, async (trx, post) => {
    threadOnly(post, "unpinned");
    if (!post.pinned_at) throw conflict("this thread is not pinned");
    await trx.updateTable("posts").set({ pinned_at: null }).where("id", "=", post.id).execute();
  });
}
