// Table types of notification preferences and email digests (issue 12). Part of db/schema.ts.
import type { Iso } from "./scalars.ts";

/** A member's choice for one kind of notification; a kind with no row is on. */
export interface NotificationPreferencesTable {
  user_id: string;
  kind: string;
  /** 0 to stop this kind; 1 to receive it. */
  enabled: number;
}

/** A member's email digest of unread notifications (issue 12); no row means Off. */
export interface EmailDigestsTable {
  user_id: string;
  frequency: "daily" | "weekly";
  /** The key of the unsubscribe link in every digest (it only turns digests off, without logging in). */
  unsubscribe_token: string;
  /** Notifications written up to this time were in a digest already (or came before digests were on). */
  covered_until: Iso;
  last_sent_at: Iso | null;
  /** When a worker should next try; moved forward before sending, so it is also the claim. */
  next_due_at: Iso;
  /** Failed or interrupted sends since the last success: the retry waits longer each time. */
  failures: number;
  created_at: Iso;
}
