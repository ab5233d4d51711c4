// Table types of backfilling remote communities and threads (issue 12). Part of db/schema.ts.
import type { Iso } from "./scalars.ts";

/** When a remote community (its outbox) or a remote thread (its replies) was last read from its origin. */
export interface RemoteRefreshesTable {
  subject_id: string;
  kind: "community" | "thread";
  refreshed_at: Iso;
}

/** A remote post's like count as its origin publishes it (`likes.totalItems`); see src/posts/like-counts.ts. */
export interface RemoteCountsTable {
  post_id: string;
  likes: number;
  /** The origin's likes not among those held here when it was read: what a page adds to ours. */
  likes_elsewhere: number;
  counted_at: Iso;
}
