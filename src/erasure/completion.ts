// After an erasure's transaction: the outbox marks its Deletes as handed
// over, and the maintenance loop completes the erasure (destroying the keys)
// once every Delete was delivered or given up.
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import type { QueuedDeliveries } from "../context.ts";
import { now } from "../ids.ts";

/** The outbox has handed every `Delete` of the erasure to the delivery queue. */
export async function markErasureSent(db: Db, erasureId: string): Promise<void> {
  await db
    .updateTable("erasures")
    .set({ sent_at: now() })
    .where("id", "=", erasureId)
    .where("sent_at", "is", null)
    .execute();
}

export async function erasureSent(db: Db, erasureId: string): Promise<boolean> {
  const row = await db.selectFrom("erasures").select("sent_at").where("id", "=", erasureId).executeTakeFirst();
  return row?.sent_at != null;
}

/**
 * Completes erasures whose deliveries are all settled (made or given up):
 * the actor's keys are destroyed then, not before, so every server could
 * still check the `Delete`'s signature. Returns how many completed.
 */
export async function completeErasures(db: Db, queued: QueuedDeliveries): Promise<number> {
  const open = await db
    .selectFrom("erasures")
    .innerJoin("actors", "actors.id", "erasures.actor_id")
    .select(["erasures.id", "erasures.actor_id", "actors.iri"])
    .where("erasures.sent_at", "is not", null)
    .where("erasures.completed_at", "is", null)
    .execute();
  let completed = 0;
  for (const e of open) {
    // A delivery that never came back (its message lost with a crashed worker) is given up after the retry window.
    await db
      .updateTable("deliveries")
      .set({ status: "failed", last_error: "no outcome within the retry window", updated_at: now() })
      .where("actor_id", "=", e.actor_id)
      .where("status", "in", ["pending", "retrying"])
      .where("updated_at", "<", new Date(Date.now() - GIVE_UP_AFTER_MS).toISOString())
      .execute();
    if (await hasUnsettledDeliveries(db, e.actor_id)) continue;
    // Fedify fans out deliveries to many inboxes later: their ledger rows don't exist yet.
    if (await queued.holdsActivitiesBy(db, e.iri)) continue;
    await inTransaction(db, async (trx) => {
      await trx.deleteFrom("actor_keys").where("actor_id", "=", e.actor_id).execute();
      await trx.updateTable("erasures").set({ completed_at: now() }).where("id", "=", e.id).execute();
    });
    completed++;
  }
  return completed;
}

/** Whether every `Delete` of an erasure was handed over and then delivered or given up. */
export async function erasureSettled(db: Db, erasureId: string, queued: QueuedDeliveries): Promise<boolean> {
  const e = await db
    .selectFrom("erasures")
    .innerJoin("actors", "actors.id", "erasures.actor_id")
    .select(["erasures.actor_id", "erasures.sent_at", "actors.iri"])
    .where("erasures.id", "=", erasureId)
    .executeTakeFirst();
  return (
    e?.sent_at != null &&
    !(await hasUnsettledDeliveries(db, e.actor_id)) &&
    !(await queued.holdsActivitiesBy(db, e.iri))
  );
}

/** Fedify retries for about two days, and holds deliveries to unreachable servers up to seven. */
const GIVE_UP_AFTER_MS = 8 * 86_400_000;

/** The erased actor's ledger holds only the erasure's deliveries: any still pending or retrying? */
async function hasUnsettledDeliveries(db: Db, actorId: string): Promise<boolean> {
  const row = await db
    .selectFrom("deliveries")
    .select("id")
    .where("actor_id", "=", actorId)
    .where("status", "in", ["pending", "retrying"])
    .executeTakeFirst();
  return row !== undefined;
}
