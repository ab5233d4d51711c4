import type { InboxContext } from "@fedify/fedify";
import { type Accept, Announce, Collection, Create, Follow, type Reject } from "@fedify/fedify/vocab";
import { findActorByIri } from "../../src/actors/remote.ts";
import type { AppContext } from "../../src/context.ts";
import { answerOurFollow, receiveFollow } from "../../src/follows/service.ts";
import { logger } from "../../src/logging.ts";
import { instanceLoader, isPostObject, persistActor } from "../remote.ts";
import { ingestPost } from "./ingest.ts";

const log = logger("federation", "inbox", "follow");

/** `Follow` of a local user or community. */
export async function onFollow(ctx: InboxContext<AppContext>, follow: Follow): Promise<void> {
  if (!follow.id || !follow.objectId || !follow.actorId) return log.debug("malformed Follow dropped");
  const target = ctx.parseUri(follow.objectId);
  if (target?.type !== "actor")
    return log.debug("Follow of a non-local object {object} dropped", { object: follow.objectId.href });
  const followee = await findActorByIri(ctx.data.db, follow.objectId.href);
  const follower = await follow.getActor();
  if (!followee || !follower) return log.debug("Follow with unknown parties dropped");
  const followerId = await persistActor(ctx, follower);
  if (!followerId) return;
  const outcome = await receiveFollow(ctx.data.db, {
    iri: follow.id.href,
    followerId,
    followeeId: followee.id,
    requireApproval: ctx.data.policy.isSilenced(follow.actorId.href),
  });
  log.info("Follow {follow} of {followee}: {outcome}", { follow: follow.id.href, followee: followee.iri, outcome });
}

/** The remote side accepted one of our follows (a join of a remote community). */
export async function onAccept(ctx: InboxContext<AppContext>, accept: Accept): Promise<void> {
  await answer(ctx, accept, true);
}

export async function onReject(ctx: InboxContext<AppContext>, reject: Reject): Promise<void> {
  await answer(ctx, reject, false);
}

async function answer(ctx: InboxContext<AppContext>, activity: Accept | Reject, accepted: boolean): Promise<void> {
  if (!activity.actorId || !activity.objectId) return;
  const followee = await findActorByIri(ctx.data.db, activity.actorId.href);
  if (!followee) return log.debug("answer from an unknown actor dropped");
  // The Follow may be embedded (Lemmy, Mastodon) or only referenced by id.
  const inner = await activity.getObject({ crossOrigin: "trust" }).catch(() => null);
  const follower =
    inner instanceof Follow && inner.actorId ? await findActorByIri(ctx.data.db, inner.actorId.href) : undefined;
  const done = await answerOurFollow(
    ctx.data.db,
    {
      iri: activity.objectId.href,
      followerId: follower?.local === 1 ? follower.id : undefined,
      followeeId: followee.id,
    },
    accepted,
  );
  if (!done) return log.debug("answer to an unknown follow {follow} dropped", { follow: activity.objectId.href });
  if (accepted && followee.type === "Group" && followee.outbox_url)
    await backfill(ctx, new URL(followee.outbox_url), followee.id);
}

/** How many of a newly joined community's latest threads we fetch, so its page isn't empty. */
const BACKFILL = 20;

/** Reads the latest threads from a remote community's outbox (Lemmy, Kindred: Announce or Create items). */
async function backfill(ctx: InboxContext<AppContext>, outbox: URL, groupId: string): Promise<void> {
  try {
    const loader = await instanceLoader(ctx);
    const collection = await ctx.lookupObject(outbox, { documentLoader: loader });
    if (!(collection instanceof Collection)) return;
    let seen = 0;
    for await (const item of ctx.traverseCollection(collection, { documentLoader: loader, suppressError: true })) {
      if (++seen > BACKFILL) break;
      const activity =
        item instanceof Announce ? await item.getObject({ documentLoader: loader }).catch(() => null) : item;
      const object =
        activity instanceof Create ? await activity.getObject({ documentLoader: loader }).catch(() => null) : activity;
      if (isPostObject(object) && !object.replyTargetId) await ingestPost(ctx, object, { announcedBy: groupId });
    }
  } catch (error) {
    log.info("backfill of {outbox} failed: {error}", { outbox: outbox.href, error: String(error) });
  }
}
