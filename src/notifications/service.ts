// The notification store: rows a member reads on their notifications page,
// with an unread count in every page's header. Written in the transaction of
// the change they announce.
import type { Db } from "../../db/schema.ts";
import { newId, now } from "../ids.ts";
import type { NotificationKind } from "./kinds.ts";

export interface NewNotification {
  /** The local person told. */
  userId: string;
  kind: NotificationKind;
  actorId?: string | null;
  postId?: string | null;
  communityId?: string | null;
  reportId?: string | null;
  actionId?: string | null;
  appealId?: string | null;
}

/** Tells local people; remote or unknown ids are skipped (they are told by their own server). */
export async function notify(db: Db, notes: NewNotification | NewNotification[]): Promise<void> {
  const list = Array.isArray(notes) ? notes : [notes];
  if (list.length === 0) return;
  const local = new Set(
    (
      await db
        .selectFrom("users")
        .select("actor_id")
        .where(
          "actor_id",
          "in",
          list.map((n) => n.userId),
        )
        .execute()
    ).map((r) => r.actor_id),
  );
  const rows = list
    .filter((n) => local.has(n.userId))
    .map((n) => ({
      id: newId(),
      user_id: n.userId,
      kind: n.kind,
      actor_id: n.actorId ?? null,
      post_id: n.postId ?? null,
      community_id: n.communityId ?? null,
      report_id: n.reportId ?? null,
      action_id: n.actionId ?? null,
      appeal_id: n.appealId ?? null,
      read_at: null,
      created_at: now(),
    }));
  if (rows.length > 0) await db.insertInto("notifications").values(rows).execute();
}

export async function unreadCount(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom("notifications")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("user_id", "=", userId)
    .where("read_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A member's notifications, newest first, a page at a time. */
export async function listNotifications(db: Db, userId: string, options: { cursor?: string; limit?: number } = {}) {
  const limit = options.limit ?? 30;
  let q = db
    .selectFrom("notifications")
    .leftJoin("actors as actor", "actor.id", "notifications.actor_id")
    .leftJoin("actors as community", "community.id", "notifications.community_id")
    .leftJoin("posts", "posts.id", "notifications.post_id")
    .select([
      "notifications.id",
      "notifications.kind",
      "notifications.read_at as readAt",
      "notifications.created_at as createdAt",
      "notifications.post_id as postId",
      "notifications.report_id as reportId",
      "notifications.action_id as actionId",
      "notifications.appeal_id as appealId",
      "posts.thread_id as threadId",
      "posts.title as postTitle",
      "actor.username as actorUsername",
      "actor.host as actorHost",
      "actor.local as actorLocal",
      "actor.name as actorName",
      "community.username as communityUsername",
      "community.host as communityHost",
      "community.local as communityLocal",
      "community.name as communityName",
    ])
    .where("notifications.user_id", "=", userId)
    .orderBy("notifications.id", "desc")
    .limit(limit + 1);
  if (options.cursor) q = q.where("notifications.id", "<", options.cursor);
  const rows = await q.execute();
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** Marks some (or, without ids, all) of a member's notifications read. */
export async function markRead(db: Db, userId: string, ids?: string[]): Promise<void> {
  let q = db
    .updateTable("notifications")
    .set({ read_at: now() })
    .where("user_id", "=", userId)
    .where("read_at", "is", null);
  if (ids) {
    if (ids.length === 0) return;
    q = q.where("id", "in", ids);
  }
  await q.execute();
}
