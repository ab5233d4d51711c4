// The media store's upkeep: files of deleted images removed (every minute, by
// the background loop) and our copies of other servers' images aged out.
import type { AppContext } from "../context.ts";
import { pruneRemoteCache, sweepMediaDeletions } from "./service.ts";

const BATCH = 500;

/** Removes every file queued by a deletion; returns how many went. */
export async function sweepDeletedMedia(ctx: Pick<AppContext, "db" | "media">): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await sweepMediaDeletions(ctx.db, ctx.media, BATCH);
    total += n;
    if (n < BATCH) return total;
  }
}

/**
 * Drops cached remote images older than `days` (by default MEDIA_CACHE_DAYS,
 * where 0 keeps them; given explicitly, 0 drops them all), then sweeps
 * deletions. A dropped copy is fetched again if someone views it.
 */
export async function pruneMedia(
  ctx: Pick<AppContext, "db" | "media" | "config">,
  days?: number,
): Promise<{ pruned: number; swept: number }> {
  let pruned = 0;
  if (days !== undefined || ctx.config.mediaCacheDays > 0) {
    days ??= ctx.config.mediaCacheDays;
    const before = new Date(Date.now() - days * 86_400_000).toISOString();
    for (;;) {
      const n = await pruneRemoteCache(ctx.db, ctx.media, before, BATCH);
      pruned += n;
      if (n < BATCH) break;
    }
  }
  return { pruned, swept: await sweepDeletedMedia(ctx) };
}
