// The outbox's moderation activities, in Lemmy's shapes (FEP-1b12): removals
// (`Delete` with `summary`) and restores (`Undo`), `Lock`, featured `Add` and
// `Remove`, bans (`Block` with `target`), moderators `Add`/`Remove`; reports
// (`Flag`) and their resolution (`Resolve`) are in outbox-reports.ts.
import type { Context } from "@fedify/fedify";
import { Activity, Add, Announce, Block, Delete, PUBLIC_COLLECTION, Remove, Undo } from "@fedify/fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import type { Db } from "../db/schema.ts";
import type { AppContext } from "../src/context.ts";
import type { DomainEvent } from "../src/events.ts";
import { newId } from "../src/ids.ts";
import { logger } from "../src/logging.ts";
import { postForFederation } from "../src/posts/outbound.ts";
import { moderationActivityIri } from "../src/urls.ts";
import { lastBoost, queuedAs } from "./ledger.ts";
import { toApObject } from "./objects.ts";
import { reportClosed, reportFiled } from "./outbox-reports.ts";
import { activityId, announce, deliveryOptions, recipient, sendTo } from "./send.ts";
import { originOf } from "./wire.ts";

const log = logger("federation", "outbox", "moderation");

export async function moderationActivity(
  ctx: Context<AppContext>,
  event: Extract<DomainEvent, { type: "moderation.acted" | "moderation.received" | "report.filed" | "report.closed" }>,
): Promise<void> {
  switch (event.type) {
    case "moderation.acted":
      return acted(ctx, event.actionId);
    case "moderation.received":
      return received(ctx, event.actionId, event.activity);
    case "report.filed":
      return reportFiled(ctx, event.reportId);
    case "report.closed":
      return reportClosed(ctx, event.reportId);
  }
}

/** A moderation_actions row with what its activity names: community, actor, post, person, reversed action. */
function actionRow(db: Db, actionId: string) {
  return db
    .selectFrom("moderation_actions as a")
    .innerJoin("actors as community", "community.id", "a.community_id")
    .leftJoin("communities", "communities.actor_id", "a.community_id")
    .leftJoin("actors as moderator", "moderator.id", "a.moderator_id")
    .leftJoin("posts as post", "post.id", "a.target_post_id")
    .leftJoin("actors as target", "target.id", "a.target_actor_id")
    .leftJoin("moderation_actions as reversed", "reversed.id", "a.reverses_id")
    .leftJoin("actors as reversedBy", "reversedBy.id", "reversed.moderator_id")
    .select([
      "a.action",
      "a.by_role as byRole",
      "a.reason",
      "a.activity_iri as activityIri",
      "a.expires_at as expiresAt",
      "a.remote",
      "community.iri as communityIri",
      "community.local as communityLocal",
      "community.username_key as communityKey",
      "community.inbox_url as communityInbox",
      "community.shared_inbox_url as communitySharedInbox",
      "community.featured_url as communityFeatured",
      "communities.federation",
      "communities.visibility",
      "moderator.iri as moderatorIri",
      "moderator.local as moderatorLocal",
      "moderator.username_key as moderatorKey",
      "post.id as postId",
      "post.iri as postIri",
      "target.iri as targetIri",
      "target.local as targetLocal",
      "target.inbox_url as targetInbox",
      "target.shared_inbox_url as targetSharedInbox",
      "reversed.activity_iri as reversedIri",
      "reversed.reason as reversedReason",
      "reversed.expires_at as reversedExpiresAt",
      "reversed.by_role as reversedRole",
      "reversedBy.iri as reversedByIri",
      "reversedBy.local as reversedByLocal",
    ])
    .where("a.id", "=", actionId)
    .executeTakeFirst();
}
type ActionRow = NonNullable<Awaited<ReturnType<typeof actionRow>>>;

/**
 * Who signs a local action: the moderator (or admin) who took it; the
 * community itself for an admin at the command line (Lemmy accepts a mod
 * action from the community's own server). In a remote community only a
 * local moderator speaks; an admin's action there stays here.
 */
function actingActor(row: ActionRow): { iri: string; key: string } | null {
  const person =
    row.moderatorLocal === 1 && row.moderatorIri && row.moderatorKey
      ? { iri: row.moderatorIri, key: row.moderatorKey }
      : null;
  if (row.communityLocal !== 1) return row.byRole === "moderator" ? person : null;
  return row.byRole !== "group" && person ? person : { iri: row.communityIri, key: row.communityKey };
}

/**
 * A local action: in a local community, the community announces it to its
 * followers (and the banned person is told directly); in a remote one, it
 * goes to the community, which announces it.
 */
async function acted(ctx: Context<AppContext>, actionId: string): Promise<void> {
  const row = await actionRow(ctx.data.db, actionId);
  if (!row || row.remote === 1 || !row.activityIri) return;
  if (row.communityLocal === 1 && row.federation === "local") return;
  const sender = actingActor(row);
  const activity = sender && build(ctx, row, sender.iri);
  if (!sender || !activity) return;
  const from = { identifier: sender.key };
  if (row.communityLocal !== 1)
    await sendTo(ctx, from, recipient(row.communityIri, row.communityInbox, row.communitySharedInbox), activity);
  else await announce(ctx, row.communityKey, activity, undefined, row.visibility !== "members");
  if ((row.action === "ban" || row.action === "unban") && row.targetLocal === 0 && row.targetIri)
    await sendTo(ctx, from, recipient(row.targetIri, row.targetInbox, row.targetSharedInbox), activity);
  await boostFollows(ctx, row);
}

/**
 * A remote moderator's action in a local community: the community re-shares
 * the activity exactly as received. Fedify's vocabulary would drop what it
 * does not know (Lemmy's `Lock` inside an `Undo`, `removeData`), so the
 * received JSON is put back into the `Announce` as it is queued.
 */
async function received(ctx: Context<AppContext>, actionId: string, raw: unknown): Promise<void> {
  const row = await actionRow(ctx.data.db, actionId);
  if (row?.communityLocal !== 1 || row.federation === "local") return;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return;
  const { "@context": context, ...embedded } = raw as Record<string, unknown>;
  const activity = await Activity.fromJsonLd(
    { "@context": context ?? "https://www.w3.org/ns/activitystreams", ...embedded },
    {
      documentLoader: await ctx.getDocumentLoader({ identifier: row.communityKey }),
      contextLoader: ctx.contextLoader,
    },
  ).catch(() => null);
  if (!activity?.id) return log.warn("could not re-read the received activity of action {actionId}", { actionId });
  const id = activityId(ctx, "announce");
  const reshare = new Announce({
    id,
    actor: ctx.getActorUri(row.communityKey),
    object: activity,
    ...groupAddressing(ctx, row),
  });
  await queuedAs(
    id.href,
    (json) => ({ ...json, object: embedded }),
    () =>
      // Never back to the server the moderator acted from: it has the activity already.
      ctx.sendActivity({ identifier: row.communityKey }, "followers", reshare, {
        ...deliveryOptions,
        fanout: "skip",
        excludeBaseUris: activity.actorId ? [new URL(activity.actorId.origin)] : [],
      }),
  );
  await boostFollows(ctx, row);
}

/** How a community addresses what it sends its followers: publicly, unless it is members-only. */
function groupAddressing(ctx: Context<AppContext>, row: ActionRow) {
  const followers = ctx.getFollowersUri(row.communityKey);
  return row.visibility === "members" ? { tos: [followers] } : { tos: [PUBLIC_COLLECTION], ccs: [followers] };
}

/**
 * Mastodon shows a community's thread as the community's boost
 * (`Announce(Page)`) and applies a `Delete` only from the author; it ignores
 * an `Announce(Delete)`. So a removal also takes the boost back
 * (`Undo(Announce)` of the id the ledger remembered), and a restore boosts
 * the post again.
 */
async function boostFollows(ctx: Context<AppContext>, row: ActionRow): Promise<void> {
  if (row.communityLocal !== 1 || !row.postId || !row.postIri) return;
  if (row.action !== "remove_post" && row.action !== "restore_post") return;
  const group = ctx.getActorUri(row.communityKey);
  let activity: Activity;
  if (row.action === "remove_post") {
    const boost = await lastBoost(ctx.data.db, group.href, row.postIri);
    if (!boost) return;
    activity = new Undo({
      id: activityId(ctx, "undo-boost"),
      actor: group,
      object: new Announce({ id: new URL(boost), actor: group, object: new URL(row.postIri) }),
      ...groupAddressing(ctx, row),
    });
  } else {
    const post = await postForFederation(ctx.data.db, row.postId);
    if (!post || post.deletedAt || post.removedAt || post.audience === "direct") return;
    const object = toApObject(ctx, post);
    activity = new Announce({ id: activityId(ctx, "boost"), actor: group, object, ...groupAddressing(ctx, row) });
  }
  await ctx.sendActivity({ identifier: row.communityKey }, "followers", activity, deliveryOptions);
}

/** Lemmy's addressing of a moderation activity: public (or the members), the community in `cc` and `audience`. */
interface Addressing {
  tos: URL[];
  ccs: URL[];
  audience: URL;
}

/** The activity of a local action, in Lemmy's shape; null for actions that are not federated this way. */
function build(ctx: Context<AppContext>, row: ActionRow, actorIri: string): Activity | null {
  const community = new URL(row.communityIri);
  const local = row.communityLocal === 1;
  const addressing: Addressing = {
    tos: [local && row.visibility === "members" ? ctx.getFollowersUri(row.communityKey) : PUBLIC_COLLECTION],
    ccs: [community],
    audience: community,
  };
  const own = { id: new URL(row.activityIri ?? ""), actor: new URL(actorIri), ...addressing };
  const post = row.postIri ? new URL(row.postIri) : null;
  const person = row.targetIri ? new URL(row.targetIri) : null;
  const collection = (name: "featured" | "moderators") =>
    local
      ? name === "featured"
        ? ctx.getFeaturedUri(row.communityKey)
        : ctx.getCollectionUri("moderators", { identifier: row.communityKey })
      : new URL(name === "featured" && row.communityFeatured ? row.communityFeatured : `${row.communityIri}/${name}`);
  const undo = (object: Activity) => new Undo({ ...own, object, summary: row.reason });
  const reversed = reversedAs(ctx, row, actorIri, addressing);
  switch (row.action) {
    // Lemmy tells a removal from an author's deletion by the presence of `summary`.
    case "remove_post":
      return post && new Delete({ ...own, object: post, summary: row.reason ?? "" });
    case "restore_post":
      return post && undo(new Delete({ ...reversed("delete"), object: post, summary: row.reversedReason ?? "" }));
    case "lock":
      return post && new Activity({ ...own, object: post, summary: row.reason });
    case "unlock":
      return post && undo(new Activity({ ...reversed("lock"), object: post }));
    case "pin":
      return post && new Add({ ...own, object: post, target: collection("featured") });
    case "unpin":
      return post && new Remove({ ...own, object: post, target: collection("featured") });
    case "ban":
      return (
        person &&
        new Block({ ...own, object: person, target: community, summary: row.reason, endTime: at(row.expiresAt) })
      );
    case "unban":
      return (
        person &&
        undo(
          new Block({
            ...reversed("block"),
            object: person,
            target: community,
            summary: row.reversedReason,
            endTime: at(row.reversedExpiresAt),
          }),
        )
      );
    case "add_moderator":
      return person && new Add({ ...own, object: person, target: collection("moderators") });
    case "remove_moderator":
      return person && new Remove({ ...own, object: person, target: collection("moderators") });
    default:
      return null;
  }
}

/**
 * The id and actor of the activity an `Undo` takes back: the reversed
 * action's own when it was sent from here (Lemmy checks that the `Undo` and
 * what it undoes come from one server); otherwise, for one received from
 * elsewhere, a new one in the undoer's name.
 */
function reversedAs(ctx: Context<AppContext>, row: ActionRow, actorIri: string, addressing: Addressing) {
  const origin = ctx.data.config.origin;
  return (kind: "delete" | "lock" | "block") => {
    if (row.reversedIri && originOf(row.reversedIri) === originOf(origin)) {
      const by = row.reversedRole !== "group" && row.reversedByIri ? row.reversedByIri : row.communityIri;
      return { id: new URL(row.reversedIri), actor: new URL(by), ...addressing };
    }
    return { id: new URL(moderationActivityIri(origin, kind, newId())), actor: new URL(actorIri), ...addressing };
  };
}

const at = (iso: string | null) => (iso ? Temporal.Instant.from(iso) : null);
