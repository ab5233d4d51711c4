// What Fedify holds of an actor while their deliveries wait: its queued
// messages (`outbox` deliveries and `fanout`s, in Fedify's own format) and its
// cache of remote documents. The erasure asks through the QueuedDeliveries
// port (src/context.ts), so that Fedify's message format stays in federation/.
import type { Db } from "../db/schema.ts";
import type { QueuedDeliveries } from "../src/context.ts";
import { idOf } from "./wire.ts";

/**
 * The channels of our queue table (db/message-queue.ts) that carry Fedify's
 * messages (builder.ts gives each its own workers). Deliveries keep the name
 * all of them once shared: messages of every type queued there before the
 * split are still processed by the delivery workers.
 */
export const FEDIFY_CHANNELS = { inbox: "fedify-inbox", outbox: "fedify", fanout: "fedify-fanout" } as const;

/** Whether a queued Fedify message delivers an activity by `actorIri`, or a community's re-share of one. */
export function deliversActivityBy(payload: string, actorIri: string): boolean {
  let message: { type?: unknown; activity?: Record<string, unknown> };
  try {
    message = JSON.parse(payload);
  } catch {
    return false;
  }
  if (message.type !== "outbox" && message.type !== "fanout") return false;
  const activity = message.activity;
  const actorOf = (a: unknown) => (a && typeof a === "object" ? (a as { actor?: unknown }).actor : undefined);
  return (
    idOf(actorOf(activity)) === actorIri ||
    idOf(actorOf(activity?.object)) === actorIri ||
    JSON.stringify(activity?.object ?? "").includes(`"attributedTo":"${actorIri}"`)
  );
}

/** Queue rows that may concern `actorIri` (a cheap text filter), to be checked one by one. */
function candidates(db: Db, actorIri: string) {
  return db
    .selectFrom("fedify_queue")
    .select(["id", "payload"])
    .where("queue", "in", [FEDIFY_CHANNELS.outbox, FEDIFY_CHANNELS.fanout])
    .where("payload", "like", `%${actorIri}%`)
    .execute();
}

export const fedifyQueuedDeliveries: QueuedDeliveries = {
  async holdsActivitiesBy(db, actorIri) {
    return (await candidates(db, actorIri)).some((r) => deliversActivityBy(r.payload, actorIri));
  },

  async forget(db, actorIri) {
    const doomed = (await candidates(db, actorIri))
      .filter((r) => deliversActivityBy(r.payload, actorIri))
      .map((r) => r.id);
    // In chunks: bound-parameter limits.
    for (let i = 0; i < doomed.length; i += 500)
      await db
        .deleteFrom("fedify_queue")
        .where("id", "in", doomed.slice(i, i + 500))
        .execute();
    // Copies of their own documents that Fedify may have cached.
    await db.deleteFrom("fedify_kv").where("value", "like", `%${actorIri}%`).execute();
    return doomed.length;
  },
};
