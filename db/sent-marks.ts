// Which activity was queued for which inbox: written in the same transaction
// as the queued message, so a send repeated after a crash (an event or a
// fan-out whose worker died before settling it) queues nothing twice. The
// marks live in `fedify_kv` and expire after Fedify's retry window, past
// which nothing is dispatched again.
import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/** Longer than any event or fan-out stays queued (their retries give up within hours). */
const KEEP_MS = 8 * 86_400_000;

const markKey = (activityId: string, inbox: string) => JSON.stringify(["kindred", "queued", activityId, inbox]);

/**
 * Marks each (activity, inbox) pair as queued and returns the indexes of the
 * pairs that were not marked before: only those may be queued. Call inside
 * the transaction that queues them.
 */
export async function markFirstSends(
  db: Kysely<Database>,
  sends: readonly { activityId: string; inbox: string }[],
): Promise<Set<number>> {
  const keys = sends.map((s) => markKey(s.activityId, s.inbox));
  const nowIso = new Date().toISOString();
  const expires = new Date(Date.now() + KEEP_MS).toISOString();
  const fresh = new Set<string>();
  // Chunks stay under both databases' bound-parameter limits; one pair is sent once per call (a Set).
  const unique = [...new Set(keys)];
  for (let i = 0; i < unique.length; i += 300) {
    const rows = await db
      .insertInto("fedify_kv")
      .values(unique.slice(i, i + 300).map((key) => ({ key, value: "true", expires_at: expires })))
      // An expired mark is taken over (the pair may be sent again); a live one stays and says no.
      .onConflict((oc) =>
        oc
          .column("key")
          .doUpdateSet({ value: "true", expires_at: expires })
          .where("fedify_kv.expires_at", "<=", nowIso),
      )
      .returning("key")
      .execute();
    for (const r of rows) fresh.add(r.key);
  }
  const firsts = new Set<number>();
  keys.forEach((key, i) => {
    if (fresh.delete(key)) firsts.add(i);
  });
  return firsts;
}

/** Removes the marks past their time (upkeep). */
export async function pruneSentMarks(db: Kysely<Database>): Promise<void> {
  await db
    .deleteFrom("fedify_kv")
    .where("key", "like", '["kindred","queued",%')
    .where("expires_at", "<=", new Date().toISOString())
    .execute();
}
