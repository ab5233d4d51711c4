import type { Db, FollowStatus, JoinPolicy, Visibility } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { forbidden, notFound } from "../errors.ts";
import { settlePendingFollow } from "../follows/requests.ts";
import { newId, now } from "../ids.ts";
import { notify } from "../notifications/service.ts";
import { allowedBy } from "../policy/domains.ts";
import { isLimited } from "../sanctions/visibility.ts";
import { followIri } from "../urls.ts";
import { approvesFollowers } from "./service.ts";

export async function membership(db: Db, communityId: string, actorId: string): Promise<FollowStatus | null> {
  const row = await db
    .selectFrom("follows")
    .select("status")
    .where("followee_id", "=", communityId)
    .where("follower_id", "=", actorId)
    .executeTakeFirst();
  return row?.status ?? null;
}

export async function isModerator(db: Db, communityId: string, actorId: string): Promise<boolean> {
  const row = await db
    .selectFrom("community_moderators")
    .select("actor_id")
    .where("community_id", "=", communityId)
    .where("actor_id", "=", actorId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function isBanned(db: Db, communityId: string, actorId: string): Promise<boolean> {
  const row = await db
    .selectFrom("community_bans")
    .select("expires_at")
    .where("community_id", "=", communityId)
    .where("actor_id", "=", actorId)
    .executeTakeFirst();
  return row !== undefined && (row.expires_at === null || row.expires_at > now());
}

export async function moderators(db: Db, communityId: string) {
  return db
    .selectFrom("community_moderators")
    .innerJoin("actors", "actors.id", "community_moderators.actor_id")
    .select(["actors.id", "actors.username", "actors.host", "actors.local", "actors.name", "actors.iri"])
    .where("community_moderators.community_id", "=", communityId)
    .orderBy("community_moderators.created_at")
    .execute();
}

/** Joins a local community: accepted at once when open, pending a moderator otherwise. */
export async function join(
  db: Db,
  origin: string,
  community: { id: string; joinPolicy: JoinPolicy; visibility: Visibility },
  actorId: string,
): Promise<FollowStatus> {
  if (await isBanned(db, community.id, actorId)) throw forbidden("you are banned from this community");
  const existing = await membership(db, community.id, actorId);
  if (existing) return existing;
  // A limited account's join waits for a moderator even where joining is open (src/sanctions/).
  const status: FollowStatus =
    approvesFollowers(community.joinPolicy, community.visibility) || (await isLimited(db, actorId))
      ? "pending"
      : "accepted";
  const id = newId();
  const ts = now();
  await inTransaction(db, async (trx) => {
    const inserted = await trx
      .insertInto("follows")
      .values({
        id,
        iri: followIri(origin, id),
        follower_id: actorId,
        followee_id: community.id,
        status,
        created_at: ts,
        accepted_at: status === "accepted" ? ts : null,
      })
      .onConflict((oc) => oc.columns(["follower_id", "followee_id"]).doNothing())
      .executeTakeFirst();
    if (status === "pending" && Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0)
      await notifyJoinRequest(trx, community.id, actorId);
  });
  return (await membership(db, community.id, actorId)) ?? status;
}

/** Tells a community's local moderators that someone asks to join (each moderator's page links the queue). */
export async function notifyJoinRequest(db: Db, communityId: string, actorId: string): Promise<void> {
  const mods = await moderators(db, communityId);
  await notify(
    db,
    mods.map((m) => ({ userId: m.id, kind: "join_request" as const, actorId, communityId })),
  );
}

/** Leaves a community (or withdraws a pending request). The last moderator cannot leave. */
export async function leave(db: Db, communityId: string, actorId: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    if (await isModerator(trx, communityId, actorId)) {
      const mods = await moderators(trx, communityId);
      if (mods.length === 1) throw forbidden("the last moderator cannot leave; appoint another moderator first");
      await trx
        .deleteFrom("community_moderators")
        .where("community_id", "=", communityId)
        .where("actor_id", "=", actorId)
        .execute();
    }
    await trx.deleteFrom("follows").where("followee_id", "=", communityId).where("follower_id", "=", actorId).execute();
  });
}

export async function pendingMembers(db: Db, communityId: string) {
  return db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.follower_id")
    .select([
      "follows.id as followId",
      "actors.id",
      "actors.username",
      "actors.host",
      "actors.local",
      "actors.name",
      "follows.created_at as requestedAt",
    ])
    .where("follows.followee_id", "=", communityId)
    .where("follows.status", "=", "pending")
    .orderBy("follows.created_at")
    .execute();
}

/** A moderator accepts or rejects a pending join request; both are logged. */
export async function decideMembership(
  db: Db,
  communityId: string,
  moderatorId: string,
  memberActorId: string,
  accept: boolean,
): Promise<void> {
  await inTransaction(db, async (trx) => {
    if (!(await isModerator(trx, communityId, moderatorId))) throw forbidden("only moderators can approve members");
    const pending = await trx
      .selectFrom("follows")
      .select(["id", "iri"])
      .where("followee_id", "=", communityId)
      .where("follower_id", "=", memberActorId)
      .where("status", "=", "pending")
      .executeTakeFirst();
    if (!pending) throw notFound("join request");
    const ts = now();
    await settlePendingFollow(trx, { ...pending, follower_id: memberActorId, followee_id: communityId }, accept);
    await trx
      .insertInto("moderation_actions")
      .values({
        id: newId(),
        community_id: communityId,
        moderator_id: moderatorId,
        action: accept ? "approve_member" : "reject_member",
        target_post_id: null,
        target_actor_id: memberActorId,
        reason: null,
        created_at: ts,
      })
      .execute();
  });
}

/** Whether `viewerId` may read the community's threads (members-only communities hide them from non-members). */
export async function mayRead(
  db: Db,
  community: { id: string; visibility: Visibility },
  viewerId: string | undefined,
): Promise<boolean> {
  if (community.visibility === "public") return true;
  if (!viewerId) return false;
  return (await membership(db, community.id, viewerId)) === "accepted";
}

/** Whether `actorId` may post: not banned; members only where the community vets its members. */
export async function assertMayPost(
  db: Db,
  community: { id: string; visibility: Visibility; joinPolicy: JoinPolicy },
  actorId: string,
): Promise<void> {
  if (await isBanned(db, community.id, actorId)) throw forbidden("you are banned from this community");
  if (
    approvesFollowers(community.joinPolicy, community.visibility) &&
    (await membership(db, community.id, actorId)) !== "accepted"
  ) {
    throw forbidden("only approved members can post in this community; join it first");
  }
}

/** The community a post lives in (local or remote), as pages and permission checks need it. */
export async function communityOfPost(db: Db, communityId: string) {
  const row = await db
    .selectFrom("actors")
    .leftJoin("communities", "communities.actor_id", "actors.id")
    .select([
      "actors.id",
      "actors.username",
      "actors.host",
      "actors.local",
      "actors.name",
      "actors.manually_approves_followers as manual",
      "communities.visibility",
      "communities.join_policy as joinPolicy",
    ])
    .where("actors.id", "=", communityId)
    .where("actors.type", "=", "Group")
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    slug: row.local === 1 ? row.username : `${row.username}@${row.host}`,
    name: row.name,
    visibility: row.visibility ?? ("public" as const),
    joinPolicy: row.joinPolicy ?? (row.manual === 1 ? ("approval" as const) : ("open" as const)),
  };
}

/** Whether an actor on `host` is an approved member: their server's admins may then read the community. */
export async function hasMemberOnServer(db: Db, communityId: string, host: string): Promise<boolean> {
  const row = await db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.follower_id")
    .select("follows.id")
    .where("follows.followee_id", "=", communityId)
    .where("follows.status", "=", "accepted")
    .where("actors.host", "=", host.toLowerCase())
    .executeTakeFirst();
  return row !== undefined;
}

/** The servers a local community limits itself to (empty: any). */
export async function communityServers(db: Db, communityId: string): Promise<string[]> {
  const row = await db
    .selectFrom("communities")
    .select("allowed_servers")
    .where("actor_id", "=", communityId)
    .executeTakeFirst();
  return row?.allowed_servers ? row.allowed_servers.split("\n").filter(Boolean) : [];
}

/** Whether a local community federates with `host` (its own server list; the instance policy is checked elsewhere). */
export async function communityAllows(db: Db, communityId: string, host: string): Promise<boolean> {
  return allowedBy(await communityServers(db, communityId), host);
}
