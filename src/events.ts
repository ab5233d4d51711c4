// Domain events: what changed, written in the same transaction as the change
// (a row in the "events" queue). The federation outbox consumes them after
// commit, so a remote server being down never fails or rolls back a local
// action, and a crash between commit and delivery loses nothing.

import { queueRow } from "../db/message-queue.ts";
import type { Db } from "../db/schema.ts";
import type { ErasurePlan } from "./erasure/plan.ts";
import { newId } from "./ids.ts";

export const EVENTS_CHANNEL = "events";

export type DomainEvent =
  /** A local post (thread or reply) was created. */
  | { type: "post.created"; postId: string }
  /** A remote post arrived in a local community: the group re-shares the activity as received. */
  | { type: "post.received"; postId: string; activity: unknown }
  | { type: "post.updated"; postId: string }
  /** A post was deleted; its IRIs are carried because the row is now a tombstone. */
  | { type: "post.deleted"; postId: string; byActorId: string }
  | { type: "like.created"; likeId: string }
  | { type: "like.deleted"; likeIri: string; postId: string; actorId: string }
  /** A local actor asked to follow a remote one. */
  | { type: "follow.requested"; followId: string }
  /** A local actor accepted a remote follower. */
  | { type: "follow.accepted"; followId: string }
  /** A local actor refused a remote follower (the row is gone). */
  | { type: "follow.rejected"; followIri: string; followerId: string; followeeId: string }
  /** A local actor stopped following a remote one (the row is gone). */
  | { type: "follow.undone"; followIri: string; followerId: string; followeeId: string }
  | { type: "actor.updated"; actorId: string }
  /** A moderation action taken here (moderation_actions row): federated by the outbox. */
  | { type: "moderation.acted"; actionId: string }
  /** A remote moderator's action in a local community: the group re-shares the activity as received. */
  | { type: "moderation.received"; actionId: string; activity: unknown }
  /** A report filed here: forwarded as a `Flag` where the reporter asked and where Lemmy expects it. */
  | { type: "report.filed"; reportId: string }
  /** A report closed here: a `Resolve` goes back to the server whose `Flag` it was. */
  | { type: "report.closed"; reportId: string }
  /** A local member erased themselves: the plan says where the `Delete`s go, as their rows are gone. */
  | { type: "actor.erased"; plan: ErasurePlan };

/**
 * An event as queued: its `eventId` names the activities made of it (send.ts
 * `activityId`), so an event dispatched again after a crash sends the same
 * ids, which receivers recognise. Events queued before ids existed have none.
 */
export type QueuedEvent = DomainEvent & { eventId?: string };

/**
 * Records `event` as part of the caller's transaction. `eventId` is given
 * when the event must be recorded once however often its recorder runs (a
 * batch of an erasure recording the next one).
 */
export async function recordEvent(db: Db, event: DomainEvent, eventId = newId()): Promise<void> {
  await db
    .insertInto("fedify_queue")
    .values(queueRow(EVENTS_CHANNEL, { ...event, eventId }))
    .execute();
}
