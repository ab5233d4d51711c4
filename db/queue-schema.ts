// Table types of Fedify's key–value store and our message queue (db/kv-store.ts, db/message-queue.ts).
// Part of db/schema.ts.
import type { Iso } from "./scalars.ts";

export interface FedifyKvTable {
  /** JSON-encoded KvKey (an array of strings). */
  key: string;
  value: string;
  expires_at: Iso | null;
}

export interface FedifyQueueTable {
  id: string;
  /** "fedify" for Fedify's own messages, "events" for our domain events. */
  queue: string;
  payload: string;
  ordering_key: string | null;
  /** Not delivered before this time (delays and retry backoff). */
  available_at: Iso;
  /** A worker holds the message until then; past it, another worker may take it. */
  lease_until: Iso | null;
  attempts: number;
  created_at: Iso;
  /** Messages sharing it run a limited number at once per worker (a delivery's host); null: no limit. */
  slot_key: string | null;
}
