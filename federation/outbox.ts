// The one module that sends activities. It consumes domain events recorded in
// the same transaction as each change (src/events.ts) and hands activities to
// Fedify, whose persistent queue does the deliveries and retries.
import type { Context, Federation } from "@fedify/fedify";
import type { Recipient } from "@fedify/fedify/vocab";
import {
  Accept,
  Activity,
  Announce,
  type Object as ApObject,
  Create,
  Delete,
  Follow,
  Like,
  PUBLIC_COLLECTION,
  Reject,
  Tombstone,
  Undo,
  Update,
} from "@fedify/fedify/vocab";
import { KyselyMessageQueue } from "../db/message-queue.ts";
import { findActorById } from "../src/actors/remote.ts";
import type { AppContext } from "../src/context.ts";
import { markUndeliverable } from "../src/deliveries/ledger.ts";
import type { ErasurePlan } from "../src/erasure/plan.ts";
import { erasureSent, markErasureSent } from "../src/erasure/service.ts";
import { type DomainEvent, EVENTS_CHANNEL, recordEvent } from "../src/events.ts";
import { remoteFollowers } from "../src/follows/service.ts";
import { newId } from "../src/ids.ts";
import { logger } from "../src/logging.ts";
import { followForFederation, likeForFederation, postRouting } from "../src/posts/outbound.ts";
import { postForFederation } from "../src/posts/service.ts";
import { keyPairsOf } from "./keys.ts";
import { toApObject } from "./objects.ts";
import { deliverable } from "./policy.ts";

const log = logger("federation", "outbox");

/** Consumes domain events until `signal` aborts. */
export function startOutbox(federation: Federation<AppContext>, data: AppContext, signal: AbortSignal): Promise<void> {
  const events = new KyselyMessageQueue(data.db, {
    dialect: data.dialect,
    channel: EVENTS_CHANNEL,
    pollIntervalMs: 200,
  });
  const ctx = federation.createContext(new URL(data.config.origin), data);
  return events.listen((event: DomainEvent) => dispatch(ctx, event, federation), { signal });
}

const activityId = (ctx: Context<AppContext>) => new URL(`/activities/${newId()}`, ctx.data.config.origin);
const recipient = (iri: string, inbox: string | null, sharedInbox: string | null): Recipient => ({
  id: new URL(iri),
  inboxId: inbox ? new URL(inbox) : null,
  endpoints: sharedInbox ? { sharedInbox: new URL(sharedInbox) } : null,
});
const options = { preferSharedInbox: true } as const;

/**
 * Sends to the recipients whose servers our domain policy lets us reach.
 * Content goes one request per shared inbox; follow handshakes go to the
 * actor's own inbox, where Lemmy and others expect them.
 */
async function sendTo(
  ctx: Context<AppContext>,
  sender: { identifier: string },
  recipients: Recipient | Recipient[],
  activity: Activity,
  handshake = false,
): Promise<void> {
  const reachable = deliverable(ctx.data.policy, Array.isArray(recipients) ? recipients : [recipients]);
  if (reachable.length > 0) await ctx.sendActivity(sender, reachable, activity, handshake ? {} : options);
}

export async function dispatch(
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
            id: activityId(ctx),
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

/** The group re-shares an activity (and, for Mastodon, the object) to all its followers. */
async function announce(
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
    options,
  );
  if (object && activity instanceof Create) {
    await ctx.sendActivity(
      { identifier: groupKey },
      "followers",
      new Announce({ id: activityId(ctx), actor: group, object, ...addressing }),
      options,
    );
  }
}

async function sendToFollowersAs(
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
  await announce(
    ctx,
    route.communityKey,
    activity,
    object ?? undefined,
    post.audience === "public" || post.audience === "unlisted",
  );
}

async function postDeleted(ctx: Context<AppContext>, postId: string, byActorId: string): Promise<void> {
  const route = await postRouting(ctx.data.db, postId);
  const by = await findActorById(ctx.data.db, byActorId);
  if (!route || !by || by.local !== 1 || (route.local !== 1 && route.communityLocal !== 1)) return;
  const del = new Delete({
    id: activityId(ctx),
    actor: new URL(by.iri),
    object: new Tombstone({ id: new URL(route.iri) }),
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

async function likeActivity(
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
    event.type === "like.created" ? like : new Undo({ id: activityId(ctx), actor: like.actorId, object: like });
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

async function followActivity(
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
      id: activityId(ctx),
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

async function followEnded(
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
      new Reject({ id: activityId(ctx), actor: new URL(followee.iri), object: follow }),
      true,
    );
  } else if (event.type === "follow.undone" && follower.local === 1 && followee.local === 0) {
    await sendTo(
      ctx,
      { identifier: follower.username_key },
      recipient(followee.iri, followee.inbox_url, followee.shared_inbox_url),
      new Undo({ id: activityId(ctx), actor: new URL(follower.iri), object: follow }),
      true,
    );
  }
}

async function actorUpdated(
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
    new Update({ id: activityId(ctx), actor: object.id, object, tos: [PUBLIC_COLLECTION] }),
    options,
  );
}

/** Post deletions announced per event: each event stays well inside the queue's lease however many posts there are. */
const ERASURE_BATCH = 200;

/**
 * An erased member: `Delete(Person)` to every server that holds anything of
 * theirs (Lemmy's `removeData` is added on the wire, see wire.ts), and a
 * `Delete` of each of their posts through its community, so copies held by the
 * community's followers go too. Large accounts go in batches, each batch
 * recording the next as a new event; the last marks the erasure sent.
 */
async function actorErased(ctx: Context<AppContext>, plan: ErasurePlan): Promise<void> {
  if (await erasureSent(ctx.data.db, plan.erasureId)) return;
  // Keys are made when first needed; a member whose posts only ever went out
  // through community re-shares may have none yet, and the Delete must be signed.
  await keyPairsOf(ctx.data.db, plan.actorId);
  const sender = { identifier: plan.identifier };
  const actor = new URL(plan.actorIri);
  if (plan.inboxes.length > 0) {
    const byInbox = (inbox: string): Recipient => ({ id: new URL(inbox), inboxId: new URL(inbox), endpoints: null });
    const reachable = deliverable(ctx.data.policy, plan.inboxes.map(byInbox));
    const refused = plan.inboxes.filter((inbox) => !reachable.some((r) => r.inboxId?.href === new URL(inbox).href));
    // Servers we may no longer reach (suspended since) are settled at once in the receipt.
    if (refused.length > 0)
      await markUndeliverable(ctx.data.db, plan.deleteIri, refused, "not sent: the server is blocked by this instance");
    if (reachable.length > 0)
      await ctx.sendActivity(
        sender,
        reachable,
        new Delete({ id: new URL(plan.deleteIri), actor, object: actor, tos: [PUBLIC_COLLECTION] }),
      );
  }
  let budget = ERASURE_BATCH;
  const rest: ErasurePlan["communities"] = [];
  for (const group of plan.communities) {
    const now = group.postIris.slice(0, budget);
    budget -= now.length;
    if (now.length < group.postIris.length) rest.push({ ...group, postIris: group.postIris.slice(now.length) });
    for (const postIri of now) {
      const del = new Delete({
        id: activityId(ctx),
        actor,
        object: new Tombstone({ id: new URL(postIri) }),
        tos: [PUBLIC_COLLECTION],
      });
      if (group.groupKey) await announce(ctx, group.groupKey, del, undefined, true);
      else if (group.inbox) await sendTo(ctx, sender, recipient(group.groupIri, group.inbox, null), del);
    }
  }
  if (rest.length > 0)
    await recordEvent(ctx.data.db, { type: "actor.erased", plan: { ...plan, inboxes: [], communities: rest } });
  else await markErasureSent(ctx.data.db, plan.erasureId);
}
