// Reading the moderation log: public by default, per community and for the
// whole instance. It never shows what was removed (only its title), never who
// joined a community (approvals are for moderators), and shows moderators'
// names only where the community allows it (lemmy#1580).
import type { Db } from "../../db/schema.ts";
import { notFound } from "../errors.ts";
import { isAdmin } from "./authority.ts";

export const ACTION_LABELS: Record<string, string> = {
  remove_post: "Removed a post",
  restore_post: "Restored a post",
  delete_post: "Deleted a post",
  lock: "Locked a thread",
  unlock: "Unlocked a thread",
  pin: "Pinned a thread",
  unpin: "Unpinned a thread",
  ban: "Banned a person",
  unban: "Lifted a ban",
  add_moderator: "Appointed a moderator",
  remove_moderator: "Dismissed a moderator",
  approve_member: "Approved a join request",
  reject_member: "Refused a join request",
  suspend: "Suspended an account",
  unsuspend: "Lifted a suspension",
  limit: "Limited an account",
  unlimit: "Lifted a limit",
  delete_account: "Deleted an account",
};
/** Instance-level actions on a whole account (src/sanctions/) that the person concerned may appeal. */
const ACCOUNT_APPEALABLE = ["suspend", "limit"];
/** Seen by moderators only: they say who asked to join. */
const MODERATORS_ONLY = ["approve_member", "reject_member"];

export interface ModlogViewer {
  actorId?: string;
}

function modlogQuery(db: Db) {
  return (
    db
      .selectFrom("moderation_actions as m")
      // No community for an action on a whole account (an admin's suspension or limit).
      .leftJoin("actors as community", "community.id", "m.community_id")
      .leftJoin("communities as settings", "settings.actor_id", "m.community_id")
      .leftJoin("actors as moderator", "moderator.id", "m.moderator_id")
      .leftJoin("actors as target", "target.id", "m.target_actor_id")
      .leftJoin("posts", "posts.id", "m.target_post_id")
      .leftJoin("posts as thread", "thread.id", "posts.thread_id")
      .select([
        "m.id",
        "m.action",
        "m.reason",
        "m.by_role as byRole",
        "m.created_at as createdAt",
        "m.expires_at as expiresAt",
        "m.reversed_at as reversedAt",
        "m.community_id as communityId",
        "community.username as communityUsername",
        "community.host as communityHost",
        "community.local as communityLocal",
        "settings.hide_modlog_names as hideNames",
        "settings.visibility",
        "moderator.username as moderatorUsername",
        "moderator.host as moderatorHost",
        "moderator.local as moderatorLocal",
        "target.username as targetUsername",
        "target.host as targetHost",
        "target.local as targetLocal",
        "posts.id as postId",
        "posts.parent_id as postParentId",
        "posts.deleted_at as postDeletedAt",
        "posts.removed_at as postRemovedAt",
        "thread.id as threadId",
        "thread.title as threadTitle",
        "thread.removed_at as threadRemovedAt",
        "thread.deleted_at as threadDeletedAt",
      ])
  );
}

type Row = Awaited<ReturnType<ReturnType<typeof modlogQuery>["execute"]>>[number];

const handle = (username: string | null, host: string | null, local: number | null) =>
  username === null ? null : local === 1 ? `@${username}` : `@${username}@${host}`;

/**
 * How much of an entry a reader sees. Who moderates, and whom a ban or an
 * appointment names, says who belongs to the community: members see names
 * (unless the community hides its moderators' names), everyone else only what
 * was done. A removed thread's title is for the moderators.
 */
export type ModlogView = "moderator" | "member" | "public";

function entry(r: Row, view: ModlogView) {
  const seesNames = view === "moderator" || (view === "member" && r.hideNames !== 1);
  const who =
    r.byRole === "admin"
      ? "an admin"
      : r.byRole === "group"
        ? "the community"
        : seesNames
          ? (handle(r.moderatorUsername, r.moderatorHost, r.moderatorLocal) ?? "a moderator")
          : "a moderator";
  const hidden = r.threadRemovedAt !== null || r.threadDeletedAt !== null || r.postDeletedAt !== null;
  const thread = r.threadTitle && (view === "moderator" || !hidden) ? `“${r.threadTitle}”` : "a thread";
  const author = handle(r.targetUsername, r.targetHost, r.targetLocal) ?? "someone";
  const person = view === "public" ? "a person" : author;
  const target = r.postId
    ? r.postParentId
      ? `a reply by ${author} in ${thread}`
      : `${thread} by ${author}`
    : r.targetUsername === null
      ? ""
      : person;
  return {
    id: r.id,
    action: r.action,
    label: ACTION_LABELS[r.action] ?? r.action,
    target,
    targetHref: r.threadId && !r.postDeletedAt ? `/posts/${r.threadId}` : null,
    reason: r.reason,
    moderator: who,
    community:
      r.communityUsername === null
        ? null
        : r.communityLocal === 1
          ? r.communityUsername
          : `${r.communityUsername}@${r.communityHost}`,
    at: r.createdAt,
    expiresAt: r.expiresAt,
    reversed: r.reversedAt !== null,
  };
}
export type ModlogEntry = ReturnType<typeof entry>;

/**
 * A page of the log, newest first: one community's, or the instance's (every
 * public community here, and the members-only ones the viewer belongs to).
 */
export async function listModlog(
  db: Db,
  scope: { communityId: string } | { instance: true },
  viewer: ModlogViewer,
  options: { cursor?: string; limit?: number } = {},
): Promise<{ items: ModlogEntry[]; nextCursor: string | null }> {
  const limit = options.limit ?? 50;
  const admin = viewer.actorId ? await isAdmin(db, viewer.actorId) : false;
  const moderates = new Set(
    viewer.actorId
      ? (
          await db
            .selectFrom("community_moderators")
            .select("community_id")
            .where("actor_id", "=", viewer.actorId)
            .execute()
        ).map((r) => r.community_id)
      : [],
  );
  const belongs = new Set(
    viewer.actorId
      ? (
          await db
            .selectFrom("follows")
            .select("followee_id")
            .where("follower_id", "=", viewer.actorId)
            .where("status", "=", "accepted")
            .execute()
        ).map((r) => r.followee_id)
      : [],
  );
  let q = modlogQuery(db)
    .orderBy("m.id", "desc")
    .limit(limit + 1);
  if ("communityId" in scope) {
    q = q.where("m.community_id", "=", scope.communityId);
    if (!admin && !moderates.has(scope.communityId)) q = q.where("m.action", "not in", MODERATORS_ONLY);
  } else {
    // Local communities only: what our moderators did. Members-only ones for their members.
    q = q.where("community.local", "=", 1);
    if (!admin) {
      q = q.where("m.action", "not in", MODERATORS_ONLY);
      q = q.where((eb) =>
        eb.or([
          eb("settings.visibility", "=", "public"),
          ...(viewer.actorId
            ? [
                eb(
                  "m.community_id",
                  "in",
                  eb
                    .selectFrom("follows")
                    .select("followee_id")
                    .where("follower_id", "=", viewer.actorId)
                    .where("status", "=", "accepted"),
                ),
              ]
            : []),
        ]),
      );
    }
  }
  if (options.cursor) q = q.where("m.id", "<", options.cursor);
  const rows = await q.execute();
  const items = rows
    .slice(0, limit)
    .map((r) =>
      entry(
        r,
        admin || moderates.has(r.communityId ?? "")
          ? "moderator"
          : belongs.has(r.communityId ?? "")
            ? "member"
            : "public",
      ),
    );
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/**
 * The statement of reasons for the person an action is about (DSA Art. 17):
 * what was done, why, by whom, in which community, and whether and how they
 * may appeal. Only they (and moderators) may read it.
 */
export async function statementOfReasons(db: Db, actionId: string, viewerId: string) {
  const row = await modlogQuery(db)
    .leftJoin("appeals", "appeals.action_id", "m.id")
    .select([
      "m.target_actor_id as targetActorId",
      "appeals.id as appealId",
      "appeals.status as appealStatus",
      "appeals.moderator_note as appealModeratorNote",
      "appeals.admin_note as appealAdminNote",
    ])
    .where("m.id", "=", actionId)
    .executeTakeFirst();
  if (!row) throw notFound("moderation action");
  const mod = await db
    .selectFrom("community_moderators")
    .select("actor_id")
    .where("community_id", "=", row.communityId ?? "")
    .where("actor_id", "=", viewerId)
    .executeTakeFirst();
  const admin = await isAdmin(db, viewerId);
  if (row.targetActorId !== viewerId && !mod && !admin) throw notFound("moderation action");
  // Appeals go to our own communities' moderators; a community elsewhere decides there.
  const appealable =
    row.reversedAt === null &&
    !row.appealId &&
    ((["remove_post", "ban"].includes(row.action) && row.communityLocal === 1) ||
      (ACCOUNT_APPEALABLE.includes(row.action) && row.communityId === null));
  return {
    // The person concerned sees all of it (it is their content), but a hidden moderator's name stays hidden.
    ...entry(row, "moderator"),
    ...(mod || admin || row.hideNames !== 1 ? {} : { moderator: entry(row, "member").moderator }),
    mine: row.targetActorId === viewerId,
    /** Where the community lives, when it is not here: appeals go there. */
    decidedOn: row.communityLocal === 0 ? row.communityHost : null,
    appealable,
    appeal: row.appealId
      ? {
          id: row.appealId,
          status: row.appealStatus,
          moderatorNote: row.appealModeratorNote,
          adminNote: row.appealAdminNote,
        }
      : null,
  };
}
