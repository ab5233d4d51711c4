// Sending, for the outbox: activity ids, recipients, our domain policy applied
// to every delivery, and a community's re-shares to its followers.

import { AsyncLocalStorage } from "node:async_hooks";
import type { Context } from "@fedify/fedify";
import type { Recipient } from "@fedify/fedify/vocab";
import { type Activity, Announce, type Object as ApObject, Create, PUBLIC_COLLECTION } from "@fedify/fedify/vocab";
import type { AppContext } from "../src/context.ts";
import { remoteFollowers } from "../src/follows/service.ts";
import { newId } from "../src/ids.ts";
import { deliverable } from "./policy.ts";

/** The domain event being dispatched, and how often each kind of activity was named for it so far. */
const dispatching = new AsyncLocalStorage<{ eventId: string; named: Map<string, number> }>();

/** Runs `send` as the dispatch of the event `eventId`: the activities it makes take their ids from the event. */
export function forEvent<T>(eventId: string | undefined, send: () => Promise<T>): Promise<T> {
  return eventId ? dispatching.run({ eventId, named: new Map() }, send) : send();
}

/**
 * A new activity's id. During an event's dispatch it is derived from the
 * event and `kind` (numbered when one dispatch makes several of a kind, in
 * the order it makes them), so an event dispatched again after a crash
 * carries the same ids: receivers (and our queue, see ledger.ts) know them
 * for the same activities.
 */
export function activityId(ctx: Context<AppContext>, kind: string): URL {
  const event = dispatching.getStore();
  if (!event) return new URL(`/activities/${newId()}`, ctx.data.config.origin);
  const n = (event.named.get(kind) ?? 0) + 1;
  event.named.set(kind, n);
  return new URL(`/activities/${event.eventId}/${kind}${n > 1 ? `-${n}` : ""}`, ctx.data.config.origin);
}
export const recipient = (iri: string, inbox: string | null, sharedInbox: string | null): Recipient => ({
  id: new URL(iri),
  inboxId: inbox ? new URL(inbox) : null,
  endpoints: sharedInbox ? { sharedInbox: new URL(sharedInbox) } : null,
});
/** Content goes one request per shared inbox. */
export const deliveryOptions = { preferSharedInbox: true } as const;

/**
 * Sends to the recipients whose servers our domain policy lets us reach.
 * Content goes one request per shared inbox; follow handshakes go to the
 * actor's own inbox, where Lemmy and others expect them.
 */
export async function sendTo(
  ctx: Context<AppContext>,
  sender: { identifier: string },
  recipients: Recipient | Recipient[],
  activity: Activity,
  handshake = false,
): Promise<void> {
  const reachable = deliverable(ctx.data.policy, Array.isArray(recipients) ? recipients : [recipients]);
  if (reachable.length > 0) await ctx.sendActivity(sender, reachable, activity, handshake ? {} : deliveryOptions);
}

/** The group re-shares an activity (and, for Mastodon, the object) to all its followers. */
export async function announce(
  ctx: Context<AppContext>,
  groupKey: string,
  activity: Activity,
  object: ApObject | undefined,
  isPublic: boolean,
  exclude: URL[] = [],
): Promise<void> {
  // No one to re-share to: building and signing the Announces (a Linked Data signature each) would be wasted.
  if (!(await hasRemoteFollowers(ctx, groupKey))) return;
  const group = ctx.getActorUri(groupKey);
  const followers = ctx.getFollowersUri(groupKey);
  const addressing = isPublic ? { tos: [PUBLIC_COLLECTION], ccs: [followers] } : { tos: [followers] };
  await ctx.sendActivity(
    { identifier: groupKey },
    "followers",
    new Announce({ id: activityId(ctx, "announce"), actor: group, object: activity, ...addressing }),
    { ...deliveryOptions, excludeBaseUris: exclude },
  );
  if (object && activity instanceof Create) {
    await ctx.sendActivity(
      { identifier: groupKey },
      "followers",
      new Announce({ id: activityId(ctx, "announce-object"), actor: group, object, ...addressing }),
      { ...deliveryOptions, excludeBaseUris: exclude },
    );
  }
}

async function hasRemoteFollowers(ctx: Context<AppContext>, groupKey: string): Promise<boolean> {
  const row = await ctx.data.db
    .selectFrom("follows")
    .innerJoin("actors as group", "group.id", "follows.followee_id")
    .innerJoin("actors as follower", "follower.id", "follows.follower_id")
    .select("follows.id")
    .where("group.local", "=", 1)
    .where("group.username_key", "=", groupKey)
    .where("follows.status", "=", "accepted")
    .where("follower.local", "=", 0)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function sendToFollowersAs(
  ctx: Context<AppContext>,
  sender: { identifier: string },
  groupId: string,
  activity: Activity,
): Promise<void> {
  const rows = await remoteFollowers(ctx.data.db, groupId);
  await sendTo(
    ctx,
    sender,
    rows.map((r) => recipient(r.iri, r.inboxUrl, r.sharedInboxUrl)),
    activity,
  );
}
