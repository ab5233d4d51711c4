// Follow requests to a member (issue 12): a follow that waits for the member's
// answer (from a server the instance limits, or to an account that approves
// its followers) is announced as a request, listed on /follow-requests, and
// approved (an `Accept` goes out) or declined (a `Reject`) by that member alone.
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { notFound } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { now } from "../ids.ts";

/** Who asks to follow the member, oldest first. */
export async function pendingFollowers(db: Db, userId: string) {
  return db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.follower_id")
    .select([
      "follows.id as followId",
      "actors.username",
      "actors.host",
      "actors.local",
      "actors.name",
      "follows.created_at as requestedAt",
    ])
    .where("follows.followee_id", "=", userId)
    .where("follows.status", "=", "pending")
    .where("actors.deleted_at", "is", null)
    .orderBy("follows.created_at")
    .limit(200)
    .execute();
}

/** The member approves or declines a request to follow them; anyone else's request is not found. */
export async function decideFollower(db: Db, userId: string, followId: string, approve: boolean): Promise<void> {
  await inTransaction(db, async (trx) => {
    const pending = await trx
      .selectFrom("follows")
      .select(["id", "iri", "follower_id"])
      .where("id", "=", followId)
      .where("followee_id", "=", userId)
      .where("status", "=", "pending")
      .executeTakeFirst();
    if (!pending) throw notFound("follow request");
    await settlePendingFollow(trx, { ...pending, followee_id: userId }, approve);
  });
}

/**
 * Accepts or rejects a pending follow (of a member or, as a join request, of a community), with the event
 * that sends the `Accept` or `Reject`.
 */
export async function settlePendingFollow(
  db: Db,
  pending: { id: string; iri: string; follower_id: string; followee_id: string },
  accept: boolean,
): Promise<void> {
  if (accept) {
    await db
      .updateTable("follows")
      .set({ status: "accepted", accepted_at: now() })
      .where("id", "=", pending.id)
      .execute();
    await recordEvent(db, { type: "follow.accepted", followId: pending.id });
    return;
  }
  await db.deleteFrom("follows").where("id", "=", pending.id).execute();
  await recordEvent(db, {
    type: "follow.rejected",
    followIri: pending.iri,
    followerId: pending.follower_id,
    followeeId: pending.followee_id,
  });
}
