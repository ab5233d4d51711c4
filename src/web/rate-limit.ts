import type { Db } from "../../db/schema.ts";
import { DomainError } from "../errors.ts";

/** The time every limit reads. Tests move it forward instead of waiting; nothing else sets it. */
export const limitClock = { now: (): number => Date.now() };

/** A `rate_limited` error that knows when to come back (the `Retry-After` header, in seconds). */
export class RateLimitedError extends DomainError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super("rate_limited", message);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** One counted hit: its key, the count it made, and the window it fell in. */
export interface Hit {
  key: string;
  count: number;
  windowStart: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Counts a hit in a fixed window kept in the database, so every web process
 * behind one PostgreSQL shares it; returns the count the hit made.
 */
export async function hit(db: Db, key: string, windowMs: number): Promise<Hit> {
  const t = limitClock.now();
  const windowOpen = iso(t - windowMs);
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
    const start = iso(t);
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
    row = opened ?? (await bump()) ?? { count: Number.MAX_SAFE_INTEGER, window_start: start };
  }
  return { key, count: row.count, windowStart: row.window_start };
}

/** Counts a hit; throws `rate_limited` once more than `limit` hits fall in the window. */
export async function consume(db: Db, key: string, limit: number, windowMs: number): Promise<Hit> {
  const h = await hit(db, key, windowMs);
  if (h.count > limit) {
    const retryAfter = (Date.parse(h.windowStart) + windowMs - limitClock.now()) / 1000;
    throw new RateLimitedError(
      `too many attempts; try again in ${Math.max(1, Math.ceil(retryAfter / 60))} minute(s)`,
      retryAfter,
    );
  }
  return h;
}

/** Takes a hit back (one that turned out not to count), if its window is still the current one. */
export async function refund(db: Db, h: Hit): Promise<void> {
  await db
    .updateTable("rate_limits")
    .set((eb) => ({ count: eb("count", "-", 1) }))
    .where("key", "=", h.key)
    .where("window_start", "=", h.windowStart)
    .where("count", ">", 0)
    .execute();
}

/**
 * A turn that comes after a wait, kept under `key` (its `window_start` is when
 * it comes). Returns 0 when the caller takes a turn that has come (the next one
 * is then `waitMs` later; of concurrent callers, one only); otherwise how many
 * milliseconds are left, queueing the caller `waitMs` from now if it had no turn yet.
 */
export async function takeTurn(db: Db, key: string, waitMs: number): Promise<number> {
  const t = limitClock.now();
  const next = iso(t + waitMs);
  const taken = await db
    .updateTable("rate_limits")
    .set({ window_start: next })
    .where("key", "=", key)
    .where("window_start", "<=", iso(t))
    .returning("key")
    .executeTakeFirst();
  if (taken) return 0;
  const queued = await db
    .insertInto("rate_limits")
    .values({ key, window_start: next, count: 0 })
    .onConflict((oc) => oc.column("key").doNothing())
    .returning("key")
    .executeTakeFirst();
  if (queued) return waitMs;
  const row = await db.selectFrom("rate_limits").select("window_start").where("key", "=", key).executeTakeFirst();
  return row ? Math.max(1, Date.parse(row.window_start) - t) : waitMs;
}

/** Sets the turn under `key` to come `waitMs` from now. */
export async function setTurn(db: Db, key: string, waitMs: number): Promise<void> {
  const at = iso(limitClock.now() + waitMs);
  await db
    .insertInto("rate_limits")
    .values({ key, window_start: at, count: 0 })
    .onConflict((oc) => oc.column("key").doUpdateSet({ window_start: at }))
    .execute();
}

export async function forget(db: Db, key: string): Promise<void> {
  await db.deleteFrom("rate_limits").where("key", "=", key).execute();
}

/** Expired windows are dead weight; the periodic cleanup drops them. */
export async function pruneRateLimits(db: Db, olderThanMs: number): Promise<void> {
  await db
    .deleteFrom("rate_limits")
    .where("window_start", "<", iso(limitClock.now() - olderThanMs))
    .execute();
}
