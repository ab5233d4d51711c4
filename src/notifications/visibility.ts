// Who may be told about what: never about people the member muted or blocked
// (or whose server they blocked), never about a post they cannot read.
import type { Db } from "../../db/schema.ts";
import type { NotificationKind } from "./kinds.ts";

/** Kinds about other members' doings, which a member's mutes and blocks silence. Moderation kinds are not. */
export const SOCIAL_KINDS: ReadonlySet<NotificationKind> = new Set([
  "reply",
  "mention",
  "message",
  "like",
  "join_request",
  "follow",
  "follow_request",
]);

/** `"<userId> <actorId>"` for each pair where the user mutes or blocks the actor or the actor's server. */
export async function refusedActors(db: Db, notes: { userId: string; actorId?: string | null }[]) {
  const refused = new Set<string>();
  const actorIds = [...new Set(notes.map((n) => n.actorId).filter((a): a is string => !!a))];
  if (actorIds.length === 0) return refused;
  const filters = await db
    .selectFrom("member_filters")
    .select(["user_id", "target_actor_id", "target_domain"])
    .where(
      "user_id",
      "in",
      notes.map((n) => n.userId),
    )
    .execute();
  if (filters.length === 0) return refused;
  const hosts = new Map(
    (await db.selectFrom("actors").select(["id", "host"]).where("id", "in", actorIds).execute()).map((a) => [
      a.id,
      a.host,
    ]),
  );
  for (const n of notes) {
    if (!n.actorId) continue;
    const host = hosts.get(n.actorId) ?? "";
    const hit = filters.some(
      (f) =>
        f.user_id === n.userId &&
        (f.target_actor_id === n.actorId ||
          (f.target_domain !== null && (host === f.target_domain || host.endsWith(`.${f.target_domain}`)))),
    );
    if (hit) refused.add(`${n.userId} ${n.actorId}`);
  }
  return refused;
}

/**
 * Whether the member can read the post: not deleted or removed; a direct
 * message only by its author and recipients; a followers-only post (a
 * members-only community's) only by accepted members or followers.
 */
export async function readableBy(db: Db, postId: string, userId: string): Promise<boolean> {
  const post = await db
    .selectFrom("posts")
    .leftJoin("communities", "communities.actor_id", "posts.community_id")
    .select([
      "posts.author_id as authorId",
      "posts.community_id as communityId",
      "posts.audience",
      "posts.deleted_at as deletedAt",
      "posts.removed_at as removedAt",
      "communities.visibility",
    ])
    .where("posts.id", "=", postId)
    .executeTakeFirst();
  if (!post || post.deletedAt || post.removedAt) return false;
  if (post.authorId === userId) return true;
  if (post.audience === "direct") {
    const recipient = await db
      .selectFrom("post_recipients")
      .select("actor_id")
      .where("post_id", "=", postId)
      .where("actor_id", "=", userId)
      .executeTakeFirst();
    return recipient !== undefined;
  }
  if (post.audience === "followers" || post.visibility === "members") {
    const follows = await db
      .selectFrom("follows")
      .select("id")
      .where("follower_id", "=", userId)
      .where("followee_id", "=", post.communityId ?? post.authorId)
      .where("status", "=", "accepted")
      .executeTakeFirst();
    return follows !== undefined;
  }
  return true;
}
