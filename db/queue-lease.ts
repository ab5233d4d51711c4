// The heartbeat of a claimed queue message (db/message-queue.ts): while its
// handler runs, the lease is pushed forward, so a long handler (a delivery to
// a slow peer, an export) keeps its message and no other worker starts it a
// second time; a crashed worker stops renewing, its lease runs out, and the
// message is taken again.
import { getLogger } from "@logtape/logtape";
import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

const logger = getLogger(["kindred", "queue"]);

/**
 * Renews the lease of the claimed message `row` every third of `leaseMs`
 * until `stop`. The `attempts` fence means a worker that lost the message (it
 * stalled past its lease and another claimed it) never extends the other's
 * claim. `stop` waits for a renewal under way, so none lands after the
 * message is released for a retry (which would hold it for a whole lease).
 */
export function keepLease(
  db: Kysely<Database>,
  row: { id: string; attempts: number },
  leaseMs: number,
): { stop: () => Promise<void> } {
  let renewal: Promise<unknown> = Promise.resolve();
  const renew = async () => {
    const result = await db
      .updateTable("fedify_queue")
      .set({ lease_until: new Date(Date.now() + leaseMs).toISOString() })
      .where("id", "=", row.id)
      .where("attempts", "=", row.attempts)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n)
      logger.warn("Message {messageId} was claimed by another worker while it ran here.", { messageId: row.id });
  };
  let stopped = false;
  const timer = setInterval(() => {
    renewal = renewal
      .then(() => (stopped ? undefined : renew()))
      .catch((error) =>
        logger.warn("Renewing the lease of {messageId} failed:\n{error}", { messageId: row.id, error }),
      );
  }, leaseMs / 3);
  // A pending renewal must not keep a stopping process alive.
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await renewal;
    },
  };
}
