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
  /**
   * Every inbox that received something of theirs, follows them or a
   * community they posted in, or that they follow: each gets `Delete(Person)`.
   */
  inboxes: string[];
  /** Their posts per community: each post's own `Delete` goes to remote communities (which relay it). */
  communities: { groupKey: string | null; groupIri: string; inbox: string | null; postIris: string[] }[];
  /**
   * Inboxes of servers that keep an erased person's posts on `Delete(Person)`
   * (NodeBB): each also gets every post's own `Delete`. Settled by the first
   * batch, carried by the next ones.
   */
  postDeletesTo?: string[];
}
