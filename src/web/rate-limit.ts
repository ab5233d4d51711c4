import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { DomainError } from "../errors.ts";

/**
 * Fixed-window counter kept in the database, so every web process behind one
 * PostgreSQL shares it. Throws `rate_limited` once `limit` hits fall in the window.
 */
export async function consume(db: Db, key: string, limit: number, windowMs: number): Promise<void> {
  const t = Date.now();
  const retryAfter = await inTransaction(db, async (trx) => {
    const row = await trx.selectFrom("rate_limits").selectAll().where("key", "=", key).executeTakeFirst();
    const fresh = !row || Date.parse(row.window_start) + windowMs <= t;
    if (fresh) {
      const start = new Date(t).toISOString();
      await trx
        .insertInto("rate_limits")
        .values({ key, window_start: start, count: 1 })
        .onConflict((oc) => oc.column("key").doUpdateSet({ window_start: start, count: 1 }))
        .execute();
      return 0;
    }
    if (row.count >= limit) return Math.ceil((Date.parse(row.window_start) + windowMs - t) / 1000);
    await trx.updateTable("rate_limits").set({ count: row.count + 1 }).where("key", "=", key).execute();
    return 0;
  });
  if (retryAfter > 0) {
    throw new DomainError("rate_limited", `too many attempts; try again in ${Math.ceil(retryAfter / 60)} minute(s)`);
  }
}

/** Expired windows are dead weight; the periodic cleanup drops them. */
export async function pruneRateLimits(db: Db, olderThanMs: number): Promise<void> {
  await db.deleteFrom("rate_limits").where("window_start", "<", new Date(Date.now() - olderThanMs).toISOString()).execute();
}
