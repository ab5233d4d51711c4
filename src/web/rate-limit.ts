import type { Db } from "../../db/schema.ts";
import { DomainError } from "../errors.ts";

/**
 * Fixed-window counter kept in the database, so every web process behind one
 * PostgreSQL shares it. Throws `rate_limited` once `limit` hits fall in the window.
 */
export async function consume(db: Db, key: string, limit: number, windowMs: number): Promise<void> {
  const t = Date.now();
  const windowOpen = new Date(t - windowMs).toISOString();
  // An atomic increment: concurrent attempts each count (a read-then-write
  // would let simultaneous requests through on PostgreSQL).
  const bump = () =>
    db
      .updateTable("rate_limits")
      .set((eb) => ({ count: eb("count", "+", 1) }))
      .where("key", "=", key)
      .where("window_start", ">", windowOpen)
      .returning(["count", "window_start"])
      .executeTakeFirst();
  let row = await bump();
  if (!row) {
    const start = new Date(t).toISOString();
    // A fresh window, unless a concurrent request just opened one.
    const opened = await db
      .insertInto("rate_limits")
      .values({ key, window_start: start, count: 1 })
      .onConflict((oc) =>
        oc
          .column("key")
          .doUpdateSet({ window_start: start, count: 1 })
          .where("rate_limits.window_start", "<=", windowOpen),
      )
      .returning(["count", "window_start"])
      .executeTakeFirst();
    // Nothing returned: a concurrent request opened the window first; count in it.
    row = opened ?? (await bump()) ?? { count: limit + 1, window_start: start };
  }
  if (row.count > limit) {
    const retryAfter = Math.ceil((Date.parse(row.window_start) + windowMs - t) / 1000);
    throw new DomainError(
      "rate_limited",
      `too many attempts; try again in ${Math.max(1, Math.ceil(retryAfter / 60))} minute(s)`,
    );
  }
}

/** Expired windows are dead weight; the periodic cleanup drops them. */
export async function pruneRateLimits(db: Db, olderThanMs: number): Promise<void> {
  await db
    .deleteFrom("rate_limits")
    .where("window_start", "<", new Date(Date.now() - olderThanMs).toISOString())
    .execute();
}
