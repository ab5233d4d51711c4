import type { Context, DocumentLoader } from "@fedify/fedify";
import { isActor } from "@fedify/fedify/vocab";
import { findActorByIri } from "../../src/actors/remote.ts";
import type { AppContext } from "../../src/context.ts";
import { refusesMessagesFrom } from "../../src/filters/service.ts";
import { logger } from "../../src/logging.ts";
import { findPostByIri, type ReceiveResult, receivePost } from "../../src/posts/remote.ts";
import { takeAnswers } from "../answers.ts";
import {
  actorIdFor,
  audienceOf,
  instanceLoader,
  isPostObject,
  type PostObject,
  persistActor,
  postValues,
} from "../remote.ts";

const log = logger("federation", "inbox", "posts");

/** How many unknown ancestors we fetch to place a reply in its thread. */
const MAX_ANCESTORS = 8;

/**
 * Stores a remote post: finds its author, its thread (fetching missing
 * parents) and its community (its `audience`, a Group among its recipients,
 * or the group that announced it). `activity` is re-shared by a local
 * community that receives it.
 */
export async function ingestPost(
  ctx: Context<AppContext>,
  object: PostObject,
  options: {
    activity?: unknown;
    /** The activity it came in, as received: where our own terms are read (answers.ts). */
    raw?: unknown;
    announcedBy?: string;
    depth?: number;
    /** A backfill's budgeted loader: authors we hold are taken as stored, others are fetched through it. */
    loader?: DocumentLoader;
  } = {},
): Promise<ReceiveResult> {
  if (!object.id || !object.attributionId) return { stored: false, reason: "no id or author" };
  // FEP-fe34: a server speaks only for its own actors, so a post is its author's only if both live on one origin.
  if (object.id.origin !== object.attributionId.origin) return { stored: false, reason: "author on another origin" };
  const db = ctx.data.db;
  const raw = options.raw === undefined ? [] : [options.raw];
  const known = await findPostByIri(db, object.id.href);
  if (known) {
    // Held already (a backfill read it first, without our terms): a delivery of it still brings its question's marks.
    await takeAnswers(ctx, object, known.id, raw, true);
    return { stored: true, postId: known.id, created: false };
  }
  const authorId = options.loader
    ? await actorIdFor(ctx, object.attributionId, options.loader)
    : await freshAuthor(ctx, object);
  if (!authorId) return { stored: false, reason: "author unknown" };

  let parentId: string | null = null;
  if (object.replyTargetId) {
    let parent = await findPostByIri(db, object.replyTargetId.href);
    if (!parent && (options.depth ?? 0) < MAX_ANCESTORS) {
      const fetched = await ctx
        .lookupObject(object.replyTargetId, { documentLoader: options.loader ?? (await instanceLoader(ctx)) })
        .catch(() => null);
      if (isPostObject(fetched)) {
        const depth = (options.depth ?? 0) + 1;
        await ingestPost(ctx, fetched, { announcedBy: options.announcedBy, depth, loader: options.loader });
        parent = await findPostByIri(db, object.replyTargetId.href);
      }
    }
    if (!parent) return { stored: false, reason: "parent unknown" };
    parentId = parent.id;
  }

  const parentCommunity = parentId
    ? (await db.selectFrom("posts").select("community_id").where("id", "=", parentId).executeTakeFirst())?.community_id
    : null;
  const communityId = parentId ? null : await communityOf(ctx, object, options.announcedBy);
  // A followers-only post or a direct message that names a community, or
  // answers one of its posts, is not a community post: it must never be shown
  // in the community or re-shared to its followers.
  const community = communityId ?? parentCommunity ?? null;
  if (community && !(await isCommunityTraffic(ctx, object, community))) return ingestAsPrivate(ctx, object, authorId);
  // A remote community's threads hold what the community itself re-shared, not what anyone addressed to it.
  if (community && community !== options.announcedBy && !(await isLocalActor(ctx, community)))
    return { stored: false, reason: "a remote community's post not re-shared by it" };
  const recipientIds: string[] = [];
  if (!communityId && !parentCommunity) {
    // Not in a community: a direct message to local actors, or nothing for us.
    for (const iri of [...object.toIds, ...object.ccIds]) {
      const a = await findActorByIri(db, iri.href);
      if (a?.local === 1 && a.type === "Person" && !a.deleted_at) recipientIds.push(a.id);
    }
  }
  const allowedRecipients = await withoutRefusing(ctx, recipientIds, authorId);
  if (recipientIds.length > 0 && allowedRecipients.length === 0 && !communityId && !parentCommunity)
    return { stored: false, reason: "every recipient blocks the author" };
  recipientIds.splice(0, recipientIds.length, ...allowedRecipients);
  const values = await postValues(object);
  const result = await receivePost(
    db,
    {
      ...values,
      iri: object.id.href,
      authorId,
      communityId,
      parentId,
      audience: audienceOf(object),
      recipientIds,
      limited: ctx.data.policy.isSilenced(object.id.href),
    },
    options.activity,
  );
  if (!result.stored) log.debug("post {iri} not stored: {reason}", { iri: object.id.href, reason: result.reason });
  // A question's marks come with its thread (same origin as its author, checked above).
  else if (result.created) await takeAnswers(ctx, object, result.postId, raw);
  return result;
}

/** A held profile younger than this is current enough (Mastodon refreshes after a day; `Update`s come between). */
const AUTHOR_FRESH_MS = 24 * 60 * 60 * 1000;

/** The author of a delivered post, fetched again unless we hold a recent copy of their profile; their row id. */
async function freshAuthor(ctx: Context<AppContext>, object: PostObject): Promise<string | null> {
  const iri = object.attributionId;
  const held = iri && !ctx.data.policy.isSuspended(iri.href) ? await findActorByIri(ctx.data.db, iri.href) : null;
  if (held && held.local === 0 && Date.now() - Date.parse(held.fetched_at ?? "") < AUTHOR_FRESH_MS) return held.id;
  const author = await object.getAttribution({ documentLoader: await instanceLoader(ctx) }).catch(() => null);
  return author && isActor(author) ? persistActor(ctx, author) : actorIdFor(ctx, object.attributionId);
}

/** Public posts, or posts addressed to the community's own followers (members-only communities). */
async function isCommunityTraffic(ctx: Context<AppContext>, object: PostObject, communityId: string): Promise<boolean> {
  const audience = audienceOf(object);
  if (audience === "public" || audience === "unlisted") return true;
  const community = await ctx.data.db
    .selectFrom("actors")
    .select("followers_url")
    .where("id", "=", communityId)
    .executeTakeFirst();
  const followers = community?.followers_url;
  return followers != null && [...object.toIds, ...object.ccIds].some((u) => u.href === followers);
}

/** Keeps a private post only as a direct message to the local people it names. */
async function ingestAsPrivate(ctx: Context<AppContext>, object: PostObject, authorId: string): Promise<ReceiveResult> {
  if (!object.id) return { stored: false, reason: "no id or author" };
  const recipientIds: string[] = [];
  for (const iri of [...object.toIds, ...object.ccIds]) {
    const a = await findActorByIri(ctx.data.db, iri.href);
    if (a?.local === 1 && a.type === "Person" && !a.deleted_at) recipientIds.push(a.id);
  }
  const allowed = await withoutRefusing(ctx, recipientIds, authorId);
  if (allowed.length === 0) return { stored: false, reason: "private post to a community" };
  recipientIds.splice(0, recipientIds.length, ...allowed);
  const values = await postValues(object);
  return receivePost(ctx.data.db, {
    ...values,
    iri: object.id.href,
    authorId,
    communityId: null,
    parentId: null,
    audience: "direct",
    recipientIds,
  });
}

/** The Group a top-level post belongs to, among groups we know (local, or remote ones we follow). */
async function communityOf(ctx: Context<AppContext>, object: PostObject, announcedBy?: string): Promise<string | null> {
  const db = ctx.data.db;
  const candidates = [...object.audienceIds, ...object.toIds, ...object.ccIds];
  for (const iri of candidates) {
    const a = await findActorByIri(db, iri.href);
    if (a?.type === "Group" && !a.deleted_at && (a.local === 1 || a.id === announcedBy)) return a.id;
  }
  return announcedBy ?? null;
}

async function isLocalActor(ctx: Context<AppContext>, actorId: string): Promise<boolean> {
  const actor = await ctx.data.db.selectFrom("actors").select("local").where("id", "=", actorId).executeTakeFirst();
  return actor?.local === 1;
}

/** Recipients minus those who blocked the author (or the author's server). */
async function withoutRefusing(ctx: Context<AppContext>, recipientIds: string[], authorId: string): Promise<string[]> {
  const kept: string[] = [];
  for (const id of recipientIds) if (!(await refusesMessagesFrom(ctx.data.db, id, authorId))) kept.push(id);
  return kept;
}
