// The delivery ledger: which remote inbox received which activity about a
// local actor's object, and whether it arrived. Exports and erasure receipts
// are read from it.
import type { Db } from "../../db/schema.ts";
import { newId, now } from "../ids.ts";

export type DeliveryStatus = "pending" | "delivered" | "retrying" | "failed";

export interface DeliveryRecord {
  activityIri: string;
  inboxUrl: string;
  /** The local actor whose object this is about. */
  actorIri: string;
  objectIri: string | null;
  status: DeliveryStatus;
  error?: string;
  /** A `Delete` (or its re-share): recorded for an erased owner too, on their receipt; nothing else of theirs is. */
  deletion?: boolean;
}

/** Records one attempt's outcome; rows are keyed by activity and inbox. Unknown or remote owners are not recorded. */
export async function recordDelivery(db: Db, r: DeliveryRecord): Promise<void> {
  const owner = await db
    .selectFrom("actors")
    .select(["id", "deleted_at"])
    .where("iri", "=", r.actorIri)
    .where("local", "=", 1)
    .executeTakeFirst();
  if (!owner || (owner.deleted_at && !r.deletion)) return;
  const ts = now();
  const attemptsDelta = r.status === "pending" ? 0 : 1;
  await db
    .insertInto("deliveries")
    .values({
      id: newId(),
      actor_id: owner.id,
      activity_iri: r.activityIri,
      object_iri: r.objectIri,
      inbox_url: r.inboxUrl,
      host: new URL(r.inboxUrl).host,
      status: r.status,
      attempts: attemptsDelta,
      last_error: r.error ?? null,
      created_at: ts,
      updated_at: ts,
      delivered_at: r.status === "delivered" ? ts : null,
    })
    .onConflict((oc) =>
      oc.columns(["activity_iri", "inbox_url"]).doUpdateSet((eb) => ({
        status: r.status,
        attempts: eb("deliveries.attempts", "+", attemptsDelta),
        last_error: r.error ?? null,
        updated_at: ts,
        ...(r.status === "delivered" ? { delivered_at: ts } : {}),
      })),
    )
    .execute();
}

/** Every server that received (or should receive) an actor's objects, for exports and receipts. */
export async function deliveriesOf(db: Db, actorId: string, activityIris?: string[]) {
  let q = db
    .selectFrom("deliveries")
    .select([
      "activity_iri as activityIri",
      "object_iri as objectIri",
      "inbox_url as inboxUrl",
      "host",
      "status",
      "attempts",
      "last_error as lastError",
      "created_at as createdAt",
      "delivered_at as deliveredAt",
    ])
    .where("actor_id", "=", actorId)
    .orderBy("created_at");
  if (activityIris) q = q.where("activity_iri", "in", activityIris.length > 0 ? activityIris : [""]);
  return q.execute();
}

/** Deliveries that will never be attempted (the server is blocked): settled as failed, with why. */
export async function markUndeliverable(db: Db, activityIri: string, inboxes: string[], reason: string): Promise<void> {
  if (inboxes.length === 0) return;
  await db
    .updateTable("deliveries")
    .set({ status: "failed", last_error: reason, updated_at: now() })
    .where("activity_iri", "=", activityIri)
    .where("inbox_url", "in", inboxes)
    .execute();
}
