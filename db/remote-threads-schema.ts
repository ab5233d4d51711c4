// Table types of backfilling remote communities and threads (issue 12). Part of db/schema.ts.
import type { Iso } from "./scalars.ts";

/** When a remote community (its outbox) or a remote thread (its replies) was last read from its origin. */
export interface RemoteRefreshesTable {
  subject_id: string;
  kind: "community" | "thread";
  refreshed_at: Iso;
}
