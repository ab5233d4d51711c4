// Writing the moderation log: one row per action, the event that federates
// it, and the statement of reasons to the person it affects.
import type { Db, ModerationActionKind } from "../../db/schema.ts";
import { recordEvent } from "../events.ts";
import { newId, now } from "../ids.ts";
import { notify } from "../notifications/service.ts";
import { moderationActivityIri } from "../urls.ts";
import type { Acting, Received } from "./authority.ts";
import { resolveByAction } from "./reports.ts";

/** The path segment of the activity that carries each action (Lemmy's shapes). */
const ACTIVITY_KIND: Record<ModerationActionKind, string> = {
  remove_post: "delete",
  restore_post: "undo",
  delete_post: "delete",
  lock: "lock",
  unlock: "undo",
  pin: "add",
  unpin: "remove",
  ban: "block",
  unban: "undo",
  add_moderator: "add",
  remove_moderator: "remove",
  approve_member: "accept",
  reject_member: "reject",
  // Account sanctions federate as an Update of the actor (Mastodon), not as activities of their own.
  suspend: "suspend",
  unsuspend: "undo",
  limit: "limit",
  unlimit: "undo",
  delete_account: "delete",
};

/** What the reporter reads when an action taken from their report resolves it. */
const ACTION_NOTES: Record<ModerationActionKind, string> = {
  remove_post: "The post was removed",
  restore_post: "The post was restored",
  delete_post: "The post was deleted",
  lock: "The thread was locked",
  unlock: "The thread was unlocked",
  pin: "The thread was pinned",
  unpin: "The thread was unpinned",
  ban: "The person was banned from the community",
  unban: "The ban was lifted",
  add_moderator: "A moderator was appointed",
  remove_moderator: "A moderator was dismissed",
  approve_member: "A join request was approved",
  reject_member: "A join request was refused",
  suspend: "The account was suspended",
  unsuspend: "The suspension was lifted",
  limit: "The account was limited",
  unlimit: "The limit was lifted",
  delete_account: "The account was deleted",
};

export interface NewAction {
  /** Null for an action on a whole account, instance-wide (a suspension, a limit). */
  communityId: string | null;
  acting: Acting;
  action: ModerationActionKind;
  postId?: string | null;
  actorId?: string | null;
  reason?: string | null;
  expiresAt?: string | null;
  reportId?: string | null;
  received?: Received;
  /** Whether the community is ours: only ours re-share what they receive. */
  localCommunity: boolean;
  /** The local person told what was done and why (the author, the banned person); none when they acted themselves. */
  tell?: string | null;
}

/**
 * Logs an action in the caller's transaction. A local action is federated
 * (outbox: `moderation.acted`); a received one in a local community is
 * re-shared as received (`moderation.received`). Undoing actions name the
 * action they reverse, which is marked reversed.
 */
export async function logAction(db: Db, origin: string, a: NewAction): Promise<string> {
  const id = newId();
  const ts = now();
  const reverses = await reversedAction(db, a);
  await db
    .insertInto("moderation_actions")
    .values({
      id,
      community_id: a.communityId,
      moderator_id: a.acting.actorId,
      by_role: a.acting.role,
      action: a.action,
      target_post_id: a.postId ?? null,
      target_actor_id: a.actorId ?? null,
      reason: a.reason?.trim() || null,
      activity_iri: a.received?.activityIri ?? moderationActivityIri(origin, ACTIVITY_KIND[a.action], id),
      expires_at: a.expiresAt ?? null,
      reverses_id: reverses,
      reversed_at: null,
      report_id: a.reportId ?? null,
      remote: a.received ? 1 : 0,
      created_at: ts,
    })
    .execute();
  if (reverses)
    await db.updateTable("moderation_actions").set({ reversed_at: ts }).where("id", "=", reverses).execute();
  if (!a.received) await recordEvent(db, { type: "moderation.acted", actionId: id });
  else if (a.localCommunity && a.received.activity !== undefined)
    await recordEvent(db, { type: "moderation.received", actionId: id, activity: a.received.activity });
  if (a.reportId && !a.received)
    await resolveByAction(
      db,
      a.acting,
      a.reportId,
      { postId: a.postId ?? null, actorId: a.actorId ?? null },
      a.reason ? `${ACTION_NOTES[a.action]}: ${a.reason}` : ACTION_NOTES[a.action],
    );
  if (a.tell && a.tell !== a.acting.actorId)
    await notify(db, {
      userId: a.tell,
      kind: "moderation",
      actionId: id,
      postId: a.postId ?? null,
      communityId: a.communityId,
    });
  return id;
}

/** What each undoing action reverses: the latest action of the opposite kind on the same target. */
const REVERSES: Partial<Record<ModerationActionKind, ModerationActionKind>> = {
  restore_post: "remove_post",
  unlock: "lock",
  unpin: "pin",
  unban: "ban",
  remove_moderator: "add_moderator",
  unsuspend: "suspend",
  unlimit: "limit",
};

async function reversedAction(db: Db, a: NewAction): Promise<string | null> {
  const opposite = REVERSES[a.action];
  if (!opposite) return null;
  let q = db
    .selectFrom("moderation_actions")
    .select("id")
    .where((eb) => (a.communityId ? eb("community_id", "=", a.communityId) : eb("community_id", "is", null)))
    .where("action", "=", opposite)
    .where("reversed_at", "is", null);
  q = a.postId ? q.where("target_post_id", "=", a.postId) : q.where("target_actor_id", "=", a.actorId ?? "");
  return (await q.orderBy("id", "desc").executeTakeFirst())?.id ?? null;
}
