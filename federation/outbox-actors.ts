// The outbox's activities about people rather than posts: likes, follows,
// profile updates (the Deletes of an erasure are in outbox-erasure.ts).

import type { Context, Federation } from "@fedify/fedify";
import type { Recipient } from "@fedify/fedify/vocab";
import { Accept, type Activity, Follow, Like, PUBLIC_COLLECTION, Reject, Undo, Update } from "@fedify/fedify/vocab";
import { findActorById } from "../src/actors/remote.ts";
import type { AppContext } from "../src/context.ts";
import type { DomainEvent } from "../src/events.ts";
import { logger } from "../src/logging.ts";
import { followForFederation, likeForFederation, postRouting } from "../src/posts/outbound.ts";

import { activityId, announce, deliveryOptions, recipient, sendTo } from "./send.ts";

const _log = logger("federation", "outbox");

export async function likeActivity(
  ctx: Context<AppContext>,
  event: Extract<DomainEvent, { type: "like.created" | "like.deleted" }>,
): Promise<void> {
  // The liker and the like's IRI: from the row, or from the event once the row is gone.
  const liker =
    event.type === "like.created"
      ? await likeForFederation(ctx.data.db, event.likeId).then(
          (r) => r && { iri: r.actorIri, key: r.actorKey, local: r.actorLocal, likeIri: r.iri, postId: r.postId },
        )
      : await findActorById(ctx.data.db, event.actorId).then(
          (a) => a && { iri: a.iri, key: a.username_key, local: a.local, likeIri: event.likeIri, postId: event.postId },
        );
  if (liker?.local !== 1) return;
  const route = await postRouting(ctx.data.db, liker.postId);
  if (!route || (route.communityLocal === 1 && route.communityFederation === "local")) return;
  const like = new Like({ id: new URL(liker.likeIri), actor: new URL(liker.iri), object: new URL(route.iri) });
  const activity: Activity =
    event.type === "like.created" ? like : new Undo({ id: activityId(ctx, "undo"), actor: like.actorId, object: like });
  const direct: Recipient[] = [];
  if (route.authorLocal === 0) direct.push(recipient(route.authorIri, route.authorInbox, route.authorSharedInbox));
  if (route.communityLocal === 0 && route.communityIri)
    direct.push(recipient(route.communityIri, route.communityInbox, route.communitySharedInbox));
  await sendTo(ctx, { identifier: liker.key }, direct, activity);
  if (route.communityLocal === 1 && route.communityKey)
    await announce(ctx, route.communityKey, activity, undefined, route.communityVisibility !== "members");
}

const followOf = (f: { iri: string; followerIri: string; followeeIri: string }) =>
  new Follow({ id: new URL(f.iri), actor: new URL(f.followerIri), object: new URL(f.followeeIri) });

export async function followActivity(
  ctx: Context<AppContext>,
  followId: string,
  type: "follow.requested" | "follow.accepted",
): Promise<void> {
  const f = await followForFederation(ctx.data.db, followId);
  if (!f) return;
  if (type === "follow.requested" && f.followerLocal === 1 && f.followeeLocal === 0) {
    await sendTo(
      ctx,
      { identifier: f.followerKey },
      recipient(f.followeeIri, f.followeeInbox, f.followeeSharedInbox),
      followOf(f),
      true,
    );
  } else if (type === "follow.accepted" && f.followeeLocal === 1 && f.followerLocal === 0) {
    // The embedded Follow carries only what Lemmy checks: id, actor, object.
    const accept = new Accept({
      id: activityId(ctx, "accept"),
      actor: new URL(f.followeeIri),
      object: followOf(f),
      to: new URL(f.followerIri),
    });
    await sendTo(
      ctx,
      { identifier: f.followeeKey },
      recipient(f.followerIri, f.followerInbox, f.followerSharedInbox),
      accept,
      true,
    );
  }
}

export async function followEnded(
  ctx: Context<AppContext>,
  event: Extract<DomainEvent, { type: "follow.rejected" | "follow.undone" }>,
): Promise<void> {
  const follower = await findActorById(ctx.data.db, event.followerId);
  const followee = await findActorById(ctx.data.db, event.followeeId);
  if (!follower || !followee) return;
  const follow = followOf({ iri: event.followIri, followerIri: follower.iri, followeeIri: followee.iri });
  if (event.type === "follow.rejected" && followee.local === 1 && follower.local === 0) {
    await sendTo(
      ctx,
      { identifier: followee.username_key },
      recipient(follower.iri, follower.inbox_url, follower.shared_inbox_url),
      new Reject({ id: activityId(ctx, "reject"), actor: new URL(followee.iri), object: follow }),
      true,
    );
  } else if (event.type === "follow.undone" && follower.local === 1 && followee.local === 0) {
    await sendTo(
      ctx,
      { identifier: follower.username_key },
      recipient(followee.iri, followee.inbox_url, followee.shared_inbox_url),
      new Undo({ id: activityId(ctx, "undo"), actor: new URL(follower.iri), object: follow }),
      true,
    );
  }
}

export async function actorUpdated(
  ctx: Context<AppContext>,
  federation: Federation<AppContext>,
  actorId: string,
): Promise<void> {
  const actor = await findActorById(ctx.data.db, actorId);
  if (actor?.local !== 1 || actor.deleted_at) return;
  // The actor document comes from its dispatcher, which needs a request context.
  const object = await federation.createContext(new Request(actor.iri), ctx.data).getActor(actor.username_key);
  if (!object) return;
  await ctx.sendActivity(
    { identifier: actor.username_key },
    "followers",
    new Update({ id: activityId(ctx, "update"), actor: object.id, object, tos: [PUBLIC_COLLECTION] }),
    deliveryOptions,
  );
}
