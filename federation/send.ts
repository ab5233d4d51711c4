// Sending, for the outbox: activity ids, recipients, our domain policy applied
// to every delivery, and a community's re-shares to its followers.

import type { Context } from "@fedify/fedify";
import type { Recipient } from "@fedify/fedify/vocab";
import { type Activity, Announce, type Object as ApObject, Create, PUBLIC_COLLECTION } from "@fedify/fedify/vocab";
import type { AppContext } from "../src/context.ts";
import { remoteFollowers } from "../src/follows/service.ts";
import { newId } from "../src/ids.ts";
import { deliverable } from "./policy.ts";

export const activityId = (ctx: Context<AppContext>) => new URL(`/activities/${newId()}`, ctx.data.config.origin);
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
): Promise<void> {
  const group = ctx.getActorUri(groupKey);
  const followers = ctx.getFollowersUri(groupKey);
  const addressing = isPublic ? { tos: [PUBLIC_COLLECTION], ccs: [followers] } : { tos: [followers] };
  await ctx.sendActivity(
    { identifier: groupKey },
    "followers",
    new Announce({ id: activityId(ctx), actor: group, object: activity, ...addressing }),
    deliveryOptions,
  );
  if (object && activity instanceof Create) {
    await ctx.sendActivity(
      { identifier: groupKey },
      "followers",
      new Announce({ id: activityId(ctx), actor: group, object, ...addressing }),
      deliveryOptions,
    );
  }
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
