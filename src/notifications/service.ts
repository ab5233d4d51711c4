// The notification store: rows a member reads on their notifications page,
// with an unread count in every page's header. Written in the transaction of
// the change they announce.
import { type SqlBool, sql } from "kysely";
import type { Db } from "../../db/schema.ts";
import { newId, now } from "../ids.ts";
import type { NotificationKind } from "./kinds.ts";
import { disabledKinds } from "./preferences.ts";
import { readableBy, refusedActors, SOCIAL_KINDS } from "./visibility.ts";

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

/**
 * Tells local people; remote or unknown ids are skipped (they are told by
 * their own server). Nobody is told of their own action, of a kind they turned
 * off, of someone they muted or blocked, or of a post they cannot read.
 */
export async function notify(db: Db, notes: NewNotification | NewNotification[]): Promise<void> {
  const list = (Array.isArray(notes) ? notes : [notes]).filter((n) => !n.actorId || n.actorId !== n.userId);
  if (list.length === 0) return;
  const userIds = [...new Set(list.map((n) => n.userId))];
  const local = new Set(
    (await db.selectFrom("users").select("actor_id").where("actor_id", "in", userIds).execute()).map((r) => r.actor_id),
  );
  const off = await disabledKinds(db, [...local]);
  const social = list.filter((n) => local.has(n.userId) && SOCIAL_KINDS.has(n.kind));
  const refused = await refusedActors(db, social);
  const kept: NewNotification[] = [];
  // One post tells one person once: the first kind they get (a reply that also names them is a reply).
  const told = new Set<string>();
  for (const n of list) {
    if (!local.has(n.userId) || off.has(`${n.userId} ${n.kind}`)) continue;
    if (SOCIAL_KINDS.has(n.kind)) {
      if (n.postId && told.has(`${n.userId} ${n.postId}`)) continue;
      if (n.postId) told.add(`${n.userId} ${n.postId}`);
      if (n.actorId && refused.has(`${n.userId} ${n.actorId}`)) continue;
      if (n.postId && !(await readableBy(db, n.postId, n.userId))) continue;
    }
    kept.push(n);
  }
  const rows = kept.map((n) => ({
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

/**
 * What stays shown of what was written: a post deleted or removed since (or
 * its thread), a community left since (members-only, here or elsewhere: a
 * followers-only post is for its community's or author's followers only), or
 * a person muted or blocked since takes its notifications away, from the list
 * and from the count alike.
 */
const stillShown = sql<SqlBool>`(notifications.kind not in (${sql.join([...SOCIAL_KINDS])}) or (
  not exists (
    select 1 from member_filters mf where mf.user_id = notifications.user_id and (
      mf.target_actor_id = notifications.actor_id or mf.target_domain = actor.host
      or actor.host like '%.' || mf.target_domain))
  and (notifications.post_id is null or (
    posts.deleted_at is null and posts.removed_at is null and not exists (
      select 1 from communities c where c.actor_id = posts.community_id and c.visibility = 'members'
      and not exists (
        select 1 from follows f where f.followee_id = c.actor_id and f.follower_id = notifications.user_id
        and f.status = 'accepted'))
    and (posts.audience != 'followers' or posts.author_id = notifications.user_id or exists (
      select 1 from follows f where f.followee_id = coalesce(posts.community_id, posts.author_id)
      and f.follower_id = notifications.user_id and f.status = 'accepted'))
    and (posts.parent_id is null or not exists (
      select 1 from posts thread where thread.id = posts.thread_id
      and (thread.removed_at is not null or thread.deleted_at is not null)))))))`;

/** Cards, not rows: the likes of one post are one card on the page (social.ts `groupLikes`), so one here. */
const card = sql<string>`case when notifications.kind = 'like' and notifications.post_id is not null
  then 'like ' || notifications.post_id else notifications.id end`;

export async function unreadCount(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom("notifications")
    .leftJoin("actors as actor", "actor.id", "notifications.actor_id")
    .leftJoin("posts", "posts.id", "notifications.post_id")
    .select((eb) => eb.fn.count<string | number>(card).distinct().as("n"))
    .where("notifications.user_id", "=", userId)
    .where("notifications.read_at", "is", null)
    .where(stillShown)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A member's unread notifications written after `since` and up to `until`, counted per kind (email digests). */
export async function unreadByKind(db: Db, userId: string, since: string, until: string) {
  const rows = await db
    .selectFrom("notifications")
    .leftJoin("actors as actor", "actor.id", "notifications.actor_id")
    .leftJoin("posts", "posts.id", "notifications.post_id")
    .select((eb) => ["notifications.kind", eb.fn.countAll<string | number>().as("n")])
    .where("notifications.user_id", "=", userId)
    .where("notifications.read_at", "is", null)
    .where("notifications.created_at", ">", since)
    .where("notifications.created_at", "<=", until)
    .where(stillShown)
    .groupBy("notifications.kind")
    .execute();
  return new Map(rows.map((r) => [r.kind, Number(r.n)]));
}

/** A member's notifications, newest first, a page at a time. */
export async function listNotifications(db: Db, userId: string, options: { cursor?: string; limit?: number } = {}) {
  const limit = options.limit ?? 30;
  let q = db
    .selectFrom("notifications")
    .leftJoin("actors as actor", "actor.id", "notifications.actor_id")
    .leftJoin("actors as community", "community.id", "notifications.community_id")
    .leftJoin("posts", "posts.id", "notifications.post_id")
    .leftJoin("posts as thread", "thread.id", "posts.thread_id")
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
      "posts.parent_id as postParentId",
      "thread.title as threadTitle",
      "actor.id as actorId",
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
    .where(stillShown)
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
