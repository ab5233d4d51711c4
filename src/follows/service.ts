// Follows between actors where one side is remote. (Local members joining
// local communities go through communities/service.ts; a membership is an
// accepted follow of the community's Group either way.)
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { communityAllows, isBanned, notifyJoinRequest } from "../communities/membership.ts";
import { forbidden, notFound } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { newId, now } from "../ids.ts";
import { notify } from "../notifications/service.ts";
import { isLimited } from "../sanctions/visibility.ts";
import { followIri } from "../urls.ts";

export type FollowOutcome = "accepted" | "pending" | "refused";

/**
 * A remote actor asks to follow a local user or community (an inbound
 * `Follow`). Open targets accept at once (and an `Accept` is queued);
 * communities that vet members leave it pending for a moderator.
 */
export async function receiveFollow(
  db: Db,
  input: { iri: string; followerId: string; followeeId: string; requireApproval?: boolean },
): Promise<FollowOutcome> {
  return inTransaction(db, async (trx) => {
    const target = await trx
      .selectFrom("actors")
      .leftJoin("communities", "communities.actor_id", "actors.id")
      .select([
        "actors.id",
        "actors.local",
        "actors.manually_approves_followers as manual",
        "actors.type",
        "communities.federation",
        "actors.deleted_at",
        "actors.suspended_at",
      ])
      .where("actors.id", "=", input.followeeId)
      .executeTakeFirst();
    // A suspended account is followed by no one new (src/sanctions/).
    if (target?.local !== 1 || target.deleted_at || target.suspended_at || target.federation === "local")
      return "refused";
    const follower = await trx
      .selectFrom("actors")
      .select("host")
      .where("id", "=", input.followerId)
      .executeTakeFirst();
    if (
      (await isBanned(trx, target.id, input.followerId)) ||
      (follower && !(await communityAllows(trx, target.id, follower.host)))
    ) {
      await recordEvent(trx, {
        type: "follow.rejected",
        followIri: input.iri,
        followerId: input.followerId,
        followeeId: target.id,
      });
      return "refused";
    }
    const existing = await trx
      .selectFrom("follows")
      .select(["id", "status"])
      .where("follower_id", "=", input.followerId)
      .where("followee_id", "=", target.id)
      .executeTakeFirst();
    if (existing) {
      // A repeated Follow (new id) replaces the old one; re-accept if it was accepted.
      await trx.updateTable("follows").set({ iri: input.iri }).where("id", "=", existing.id).execute();
      if (existing.status === "accepted") await recordEvent(trx, { type: "follow.accepted", followId: existing.id });
      return existing.status;
    }
    const id = newId();
    // Followers from a limited (silenced) server always wait for approval.
    // A limited account's follow becomes a request, as Mastodon does (src/sanctions/).
    const limited = await isLimited(trx, input.followerId);
    const status = target.manual === 1 || input.requireApproval || limited ? "pending" : "accepted";
    const ts = now();
    await trx
      .insertInto("follows")
      .values({
        id,
        iri: input.iri,
        follower_id: input.followerId,
        followee_id: target.id,
        status,
        created_at: ts,
        accepted_at: status === "accepted" ? ts : null,
      })
      .execute();
    if (status === "accepted") await recordEvent(trx, { type: "follow.accepted", followId: id });
    // A community's moderators are asked to decide; a person is told who follows them (or asks to).
    if (target.type === "Group") {
      if (status === "pending") await notifyJoinRequest(trx, target.id, input.followerId);
    } else {
      const kind = status === "pending" ? "follow_request" : "follow";
      await notify(trx, { userId: target.id, kind, actorId: input.followerId });
    }
    return status;
  });
}

/** An inbound `Undo(Follow)`: the remote follower leaves. */
export async function receiveUnfollow(
  db: Db,
  input: { iri?: string; followerId: string; followeeId?: string },
): Promise<boolean> {
  let q = db.deleteFrom("follows").where("follower_id", "=", input.followerId);
  if (input.followeeId) q = q.where("followee_id", "=", input.followeeId);
  else if (input.iri) q = q.where("iri", "=", input.iri);
  else return false;
  const result = await q.executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** A local actor follows (or joins) a remote actor: pending until its `Accept`. */
export async function followRemote(
  db: Db,
  origin: string,
  followerId: string,
  followeeId: string,
): Promise<FollowOutcome> {
  return inTransaction(db, async (trx) => {
    const target = await trx
      .selectFrom("actors")
      .select(["id", "local", "deleted_at"])
      .where("id", "=", followeeId)
      .executeTakeFirst();
    if (!target || target.deleted_at) throw notFound("actor");
    if (target.local === 1) throw forbidden("use join for local communities");
    const existing = await trx
      .selectFrom("follows")
      .select("status")
      .where("follower_id", "=", followerId)
      .where("followee_id", "=", followeeId)
      .executeTakeFirst();
    if (existing) return existing.status;
    const id = newId();
    await trx
      .insertInto("follows")
      .values({
        id,
        iri: followIri(origin, id),
        follower_id: followerId,
        followee_id: followeeId,
        status: "pending",
        created_at: now(),
        accepted_at: null,
      })
      .execute();
    await recordEvent(trx, { type: "follow.requested", followId: id });
    return "pending";
  });
}

/** A local actor stops following a remote one (or withdraws the request). */
export async function unfollowRemote(db: Db, followerId: string, followeeId: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const row = await trx
      .deleteFrom("follows")
      .where("follower_id", "=", followerId)
      .where("followee_id", "=", followeeId)
      .returning(["iri"])
      .executeTakeFirst();
    if (row) await recordEvent(trx, { type: "follow.undone", followIri: row.iri, followerId, followeeId });
  });
}

/** The remote side answered our `Follow`: `Accept` makes it a membership, `Reject` removes it. */
export async function answerOurFollow(
  db: Db,
  input: { iri?: string; followerId?: string; followeeId: string },
  accepted: boolean,
): Promise<boolean> {
  let row: { id: string } | undefined;
  if (input.iri)
    row = await db
      .selectFrom("follows")
      .select("id")
      .where("iri", "=", input.iri)
      .where("followee_id", "=", input.followeeId)
      .executeTakeFirst();
  if (!row && input.followerId)
    row = await db
      .selectFrom("follows")
      .select("id")
      .where("follower_id", "=", input.followerId)
      .where("followee_id", "=", input.followeeId)
      .executeTakeFirst();
  if (!row) return false;
  if (accepted)
    await db.updateTable("follows").set({ status: "accepted", accepted_at: now() }).where("id", "=", row.id).execute();
  else await db.deleteFrom("follows").where("id", "=", row.id).execute();
  return true;
}

/** Followers of a local actor that live elsewhere, for collections and fan-out. */
export async function remoteFollowers(db: Db, followeeId: string, options: { cursor?: string; limit?: number } = {}) {
  let q = db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.follower_id")
    .select([
      "follows.id as followId",
      "actors.iri",
      "actors.inbox_url as inboxUrl",
      "actors.shared_inbox_url as sharedInboxUrl",
    ])
    .where("follows.followee_id", "=", followeeId)
    .where("follows.status", "=", "accepted")
    .where("actors.local", "=", 0)
    .where("actors.deleted_at", "is", null)
    .orderBy("follows.id");
  if (options.cursor) q = q.where("follows.id", ">", options.cursor);
  if (options.limit) q = q.limit(options.limit);
  return q.execute();
}
