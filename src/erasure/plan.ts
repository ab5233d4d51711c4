// What an erasure hands to the outbox. Its own module, holding types only, so
// that the events (src/events.ts) can name it without importing the erasure.

export type ErasureMode = "delete" | "anonymize";

/** Where the outbox sends an erased member's `Delete`s. */
export interface ErasurePlan {
  erasureId: string;
  actorId: string;
  actorIri: string;
  identifier: string;
  deleteIri: string;
  /** Every inbox that received something of theirs, or follows them, or that they follow. */
  inboxes: string[];
  /** Their posts per community, whose followers must hear of each deletion. */
  communities: { groupKey: string | null; groupIri: string; inbox: string | null; postIris: string[] }[];
}
