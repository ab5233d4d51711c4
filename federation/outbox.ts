// The outbox: it consumes domain events recorded in the same transaction as
// each change (src/events.ts) and hands activities to Fedify, whose persistent
// queue does the deliveries and retries. Nothing else sends: activities about
// posts are built here, those about people in outbox-actors.ts, both through
// send.ts.
import type { Context, Federation } from "@fedify/fedify";
import type { Recipient } from "@fedify/fedify/vocab";
import { Activity, type Object as ApObject, Create, Delete, PUBLIC_COLLECTION, Update } from "@fedify/fedify/vocab";
import { KyselyMessageQueue } from "../db/message-queue.ts";
import { findActorById } from "../src/actors/remote.ts";
import type { AppContext } from "../src/context.ts";
import { type DomainEvent, EVENTS_CHANNEL, type QueuedEvent } from "../src/events.ts";
import { logger } from "../src/logging.ts";
import { postForFederation, postRouting } from "../src/posts/outbound.ts";
import { toApObject } from "./objects.ts";
import { actorUpdated, followActivity, followEnded, likeActivity } from "./outbox-actors.ts";
import { actorErased } from "./outbox-erasure.ts";
import { moderationActivity } from "./outbox-moderation.ts";
import { activityId, announce, forEvent, recipient, sendTo, sendToFollowersAs } from "./send.ts";

const log = logger("federation", "outbox");

/** Consumes domain events until `signal` aborts. */
export function startOutbox(federation: Federation<AppContext>, data: AppContext, signal: AbortSignal): Promise<void> {
  const events = new KyselyMessageQueue(data.db, {
    dialect: data.dialect,
    channel: EVENTS_CHANNEL,
    pollIntervalMs: 200,
    leaseMs: data.config.queueLeaseMs,
  });
  const ctx = federation.createContext(new URL(data.config.origin), data);
  return events.listen((event: QueuedEvent) => dispatch(ctx, event, federation), { signal });
}

/**
 * Turns one event into activities. An event may be dispatched again (its
 * worker crashed before the event was settled): its activities then carry
 * the same ids, and the deliveries already queued are not queued again (ledger.ts).
 */
export function dispatch(ctx: Context<AppContext>, event: QueuedEvent, federation: Federation<AppContext>) {
  return forEvent(event.eventId, () => activitiesOf(ctx, event, federation));
}

async function activitiesOf(
  ctx: Context<AppContext>,
  event: DomainEvent,
  federation: Federation<AppContext>,
): Promise<void> {
  switch (event.type) {
    case "post.created":
      return postActivity(
        ctx,
        event.postId,
        (object, actor) =>
          new Create({
            id: new URL(`${object.id?.href}#create`),
            actor,
            object,
            tos: object.toIds,
            ccs: object.ccIds,
            published: object.published,
          }),
      );
    case "post.updated":
      return postActivity(
        ctx,
        event.postId,
        (object, actor) =>
          new Update({
            id: activityId(ctx, "update"),
            actor,
            object,
            tos: object.toIds,
            ccs: object.ccIds,
            updated: object.updated,
          }),
      );
    case "post.deleted":
      return postDeleted(ctx, event.postId, event.byActorId);
    case "post.received":
      return reshare(ctx, event.postId, event.activity);
    case "like.created":
    case "like.deleted":
      return likeActivity(ctx, event);
    case "follow.requested":
    case "follow.accepted":
      return followActivity(ctx, event.followId, event.type);
    case "follow.rejected":
    case "follow.undone":
      return followEnded(ctx, event);
    case "actor.updated":
      return actorUpdated(ctx, federation, event.actorId);
    case "actor.erased":
      return actorErased(ctx, event.plan);
    case "moderation.acted":
    case "moderation.received":
    case "report.filed":
    case "report.closed":
      return moderationActivity(ctx, event);
  }
}

/**
 * Sends an activity about a local post. In a local community the author's
 * activity reaches the community's followers twice over: as the group's
 * `Announce(activity)` (FEP-1b12, Lemmy) and as `Announce(object)` (what
 * Mastodon and Pleroma render). In a remote community it goes to the group,
 * which re-shares it. A remote parent author is always told directly.
 */
async function postActivity(
  ctx: Context<AppContext>,
  postId: string,
  build: (object: ApObject, actor: URL) => Activity,
): Promise<void> {
  const route = await postRouting(ctx.data.db, postId);
  const post = await postForFederation(ctx.data.db, postId);
  if (!route || !post || route.authorLocal !== 1 || post.deletedAt) return;
  if (route.communityLocal === 1 && route.communityFederation === "local") return;
  const object = toApObject(ctx, post);
  const activity = build(object, new URL(route.authorIri));
  const author = { identifier: route.authorKey };
  const direct: Recipient[] = [];
  if (post.audience === "direct") {
    for (const r of post.recipients) if (r.local === 0) direct.push(recipient(r.iri, r.inboxUrl, r.sharedInboxUrl));
  } else {
    if (route.parentAuthorIri && route.parentAuthorLocal === 0)
      direct.push(recipient(route.parentAuthorIri, route.parentAuthorInbox, route.parentAuthorSharedInbox));
    // Mentioned people elsewhere are told directly, as Mastodon does (members-only posts stay inside).
    if (post.audience !== "followers")
      for (const m of post.mentions)
        if (m.local === 0 && m.iri !== route.communityIri) direct.push(recipient(m.iri, m.inboxUrl, m.sharedInboxUrl));
  }
  if (route.communityLocal === 0 && route.communityIri)
    direct.push(recipient(route.communityIri, route.communityInbox, route.communitySharedInbox));
  await sendTo(ctx, author, direct, activity);
  if (route.communityLocal === 1 && route.communityKey && route.communityId) {
    await announce(
      ctx,
      route.communityKey,
      activity,
      object instanceof Activity ? undefined : object,
      post.audience === "public",
    );
    // Mastodon applies edits only when the author sends them.
    if (activity instanceof Update) await sendToFollowersAs(ctx, author, route.communityId, activity);
  }
}

/** A remote member's activity in a local community, re-shared exactly as received. */
async function reshare(ctx: Context<AppContext>, postId: string, raw: unknown): Promise<void> {
  const route = await postRouting(ctx.data.db, postId);
  if (!route?.communityKey || route.communityLocal !== 1 || route.communityFederation === "local") return;
  const activity = await Activity.fromJsonLd(raw, {
    documentLoader: await ctx.getDocumentLoader({ identifier: route.communityKey }),
    contextLoader: ctx.contextLoader,
  }).catch(() => null);
  if (!activity) return log.warn("could not re-read a received activity for post {postId}", { postId });
  const object = activity instanceof Create ? await activity.getObject().catch(() => null) : null;
  // Addressed as the post is: only public posts are re-shared publicly.
  const post = await postForFederation(ctx.data.db, postId);
  if (!post || post.audience === "direct") return;
  // Never back to the server it came from: it holds the activity already (NodeBB refuses it with 424).
  const origins = [activity.actorId, object?.attributionId].flatMap((id) => (id ? [new URL(id.origin)] : []));
  await announce(
    ctx,
    route.communityKey,
    activity,
    object ?? undefined,
    post.audience === "public" || post.audience === "unlisted",
    origins,
  );
}

/**
 * A post's deletion, by its author, a moderator or retention. The object is
 * the bare IRI, as Lemmy sends it: Mastodon, Lemmy, Misskey and Kindred read
 * either shape, and NodeBB hard-deletes its copy only for a bare IRI that
 * answers `410 Gone` (ours do, with a `Tombstone`; see objects.ts).
 */
async function postDeleted(ctx: Context<AppContext>, postId: string, byActorId: string): Promise<void> {
  const route = await postRouting(ctx.data.db, postId);
  const by = await findActorById(ctx.data.db, byActorId);
  if (!route || !by || by.local !== 1 || (route.local !== 1 && route.communityLocal !== 1)) return;
  const del = new Delete({
    id: activityId(ctx, "delete"),
    actor: new URL(by.iri),
    object: new URL(route.iri),
    tos: [PUBLIC_COLLECTION],
  });
  const sender = { identifier: by.username_key };
  if (!route.communityId) {
    const post = await postForFederation(ctx.data.db, postId);
    await sendTo(
      ctx,
      sender,
      (post?.recipients ?? []).filter((r) => r.local === 0).map((r) => recipient(r.iri, r.inboxUrl, r.sharedInboxUrl)),
      del,
    );
    return;
  }
  if (route.communityLocal === 0 && route.communityIri)
    await sendTo(ctx, sender, recipient(route.communityIri, route.communityInbox, route.communitySharedInbox), del);
  if (route.communityLocal === 1 && route.communityKey && route.communityId && route.communityFederation !== "local") {
    await announce(ctx, route.communityKey, del, undefined, true);
    await sendToFollowersAs(ctx, sender, route.communityId, del);
  }
}
