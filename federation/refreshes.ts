// When a remote community or thread was last read from its origin (issue 12),
// so however many readers open it, its server is asked at most once a while.
import type { Db } from "../db/schema.ts";

/** Minutes between two reads of one community's outbox, or of one thread's replies. */
export const REFRESH_EVERY = { community: 10, thread: 5 } as const;

/**
 * Claims the refresh of `subjectId`: true (and the time is recorded) when it
 * was never refreshed or not within the interval, false otherwise. One
 * conditional upsert, so two readers opening a thread at once make one fetch.
 */
export async function claimRefresh(db: Db, subjectId: string, kind: "community" | "thread"): Promise<boolean> {
  const now = new Date();
  const cutoff = new Date(now.getTime() - REFRESH_EVERY[kind] * 60_000).toISOString();
  const result = await db
    .insertInto("remote_refreshes")
    .values({ subject_id: subjectId, kind, refreshed_at: now.toISOString() })
    .onConflict((oc) =>
      oc
        .column("subject_id")
        .doUpdateSet({ refreshed_at: now.toISOString() })
        .where("remote_refreshes.refreshed_at", "<", cutoff),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}
