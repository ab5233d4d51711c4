// Filling in what a remote community or thread already holds (issue 12): a
// community's latest threads before anyone here joined, a thread's replies
// written before we saw it. Everything is read from its own origin through
// the instance's bounded loader and stored through ingestPost, so the same
// rules hold as for delivered posts (origins, bans, locks, domain policy).
import type { Context, DocumentLoader, Federation } from "@fedify/fedify";
import { Announce, type Object as ApObject, Collection, Create, type Link } from "@fedify/fedify/vocab";
import type { AppContext, RemoteLookup } from "../src/context.ts";
import { logger } from "../src/logging.ts";
import { ingestPost } from "./inbox/ingest.ts";
import { claimRefresh } from "./refreshes.ts";
import { instanceLoader, isPostObject, type PostObject } from "./remote.ts";
import { fetchLikes, takeEmbeddedLikes } from "./remote-counts.ts";

const log = logger("federation", "backfill");

/** How much one refresh may cost the origin and us; a thread or outbox that goes on is cut at these. */
export const BUDGET = { objects: 200, requests: 20, authors: 40, ms: 20_000, outboxItems: 20 } as const;

/**
 * A document loader that refuses once the refresh spent its requests or its
 * time. Collections and posts have one budget, the documents of authors we
 * don't hold yet another, so a thread of many strangers still shows its start.
 */
function budgeted(loader: DocumentLoader, budget: { requests: number; deadline: number }): DocumentLoader {
  let spent = 0;
  return (url, options) => {
    if (++spent > budget.requests) return Promise.reject(new Error("backfill request budget spent"));
    if (Date.now() > budget.deadline) return Promise.reject(new Error("backfill time budget spent"));
    return loader(url, options);
  };
}

/** The two budgeted loaders of one refresh, sharing its deadline. */
async function loaders(ctx: Context<AppContext>): Promise<{ loader: DocumentLoader; authors: DocumentLoader }> {
  const signed = await instanceLoader(ctx);
  const deadline = Date.now() + BUDGET.ms;
  return {
    loader: budgeted(signed, { requests: BUDGET.requests, deadline }),
    authors: budgeted(signed, { requests: BUDGET.authors, deadline }),
  };
}

/** The ports src/ calls: `refreshCommunity` and `refreshThread` of RemoteLookup. */
export function backfill(
  federation: Federation<AppContext>,
  data: AppContext,
): Required<Pick<RemoteLookup, "refreshCommunity" | "refreshThread">> {
  const context = () => federation.createContext(new URL(data.config.origin), data);
  return {
    refreshCommunity: (communityId) => refreshCommunity(context(), communityId),
    refreshThread: (postId) => refreshThread(context(), postId),
  };
}

/** Reads a remote community's outbox (first page, ≤ 20 items) and stores the threads in it. */
export async function refreshCommunity(ctx: Context<AppContext>, communityId: string): Promise<void> {
  const db = ctx.data.db;
  const group = await db
    .selectFrom("actors")
    .select(["id", "iri", "outbox_url"])
    .where("id", "=", communityId)
    .where("type", "=", "Group")
    .where("local", "=", 0)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!group?.outbox_url || ctx.data.policy.isSuspended(group.iri)) return;
  // The outbox speaks for the group only from the group's own server.
  if (new URL(group.outbox_url).origin !== new URL(group.iri).origin) return;
  if (!(await claimRefresh(db, group.id, "community"))) return;
  const { loader, authors } = await loaders(ctx);
  try {
    const outbox = await ctx.lookupObject(group.outbox_url, { documentLoader: loader });
    if (!(outbox instanceof Collection)) return;
    let seen = 0;
    for await (const item of ctx.traverseCollection(outbox, { documentLoader: loader, suppressError: true })) {
      if (++seen > BUDGET.outboxItems) break;
      // Lemmy: Announce(Create(Page)); Kindred, Mastodon: Create(Note|Page). Fedify refetches from
      // its own origin anything embedded from another one, and drops what that origin denies.
      const activity =
        item instanceof Announce ? await item.getObject({ documentLoader: loader }).catch(() => null) : item;
      const object =
        activity instanceof Create ? await activity.getObject({ documentLoader: loader }).catch(() => null) : activity;
      if (!isPostObject(object) || object.replyTargetId) continue;
      const result = await ingestPost(ctx, object, { announcedBy: group.id, loader: authors });
      // Counts for the "top" order; one given by URL only waits for the thread's own refresh.
      if (result.stored) await takeEmbeddedLikes(ctx.data, object);
    }
  } catch (error) {
    log.info("refresh of community {iri} stopped: {error}", { iri: group.iri, error: String(error) });
  }
}

/**
 * Reads a remote thread's replies from its origin: the FEP-7888 `context`
 * collection when the thread has one (NodeBB, Kindred), else the `replies`
 * collections breadth-first (Mastodon, Lemmy, PieFed, Kindred). Only replies
 * to a post of this very thread are stored, so a collection cannot slip a
 * stranger's thread into the community.
 */
export async function refreshThread(ctx: Context<AppContext>, postId: string): Promise<void> {
  const db = ctx.data.db;
  const root = await db
    .selectFrom("posts as p")
    .innerJoin("posts as t", "t.id", "p.thread_id")
    .innerJoin("actors as c", "c.id", "t.community_id")
    .select(["t.id", "t.iri", "t.community_id", "t.deleted_at", "t.removed_at", "c.local as communityLocal"])
    .where("p.id", "=", postId)
    .executeTakeFirst();
  // Local threads are whole here; threads of local communities get their replies delivered to us.
  if (!root?.community_id || root.communityLocal === 1 || root.deleted_at || root.removed_at) return;
  if (ctx.data.policy.isSuspended(root.iri)) return;
  if (!(await claimRefresh(db, root.id, "thread"))) return;
  const known = await db.selectFrom("posts").select("iri").where("thread_id", "=", root.id).execute();
  const walk: Walk = {
    ctx,
    communityId: root.community_id,
    inThread: new Set(known.map((r) => r.iri)),
    visited: new Set(),
    objects: 0,
    likesByUrl: [],
    ...(await loaders(ctx)),
  };
  try {
    const thread = await ctx.lookupObject(root.iri, { documentLoader: walk.loader });
    if (!isPostObject(thread) || thread.id?.href !== root.iri) return;
    await countLikes(walk, thread);
    if (!(await fromContext(walk, thread))) await fromReplies(walk, thread);
    await fetchLikeCounts(walk);
  } catch (error) {
    log.info("refresh of thread {iri} stopped: {error}", { iri: root.iri, error: String(error) });
  }
}

interface Walk {
  ctx: Context<AppContext>;
  communityId: string;
  /** IRIs of the thread's posts stored here: a reply is taken only if it answers one of them. */
  inThread: Set<string>;
  /** IRIs already looked at (dedupe across collections). */
  visited: Set<string>;
  objects: number;
  /** Posts whose like count is a URL away: read last, with what is left of the budget. */
  likesByUrl: PostObject[];
  /** For collections and posts. */
  loader: DocumentLoader;
  /** For the documents of authors we don't hold yet. */
  authors: DocumentLoader;
}

/** Stores `object` if it is a reply within the thread; whether it is now there. */
async function take(walk: Walk, object: PostObject): Promise<boolean> {
  const iri = object.id?.href;
  if (!iri) return false;
  if (!walk.inThread.has(iri)) {
    const parent = object.replyTargetId?.href;
    if (!parent || !walk.inThread.has(parent)) return false;
    const result = await ingestPost(walk.ctx, object, { announcedBy: walk.communityId, loader: walk.authors });
    if (!result.stored) return false;
    walk.inThread.add(iri);
  }
  await countLikes(walk, object);
  return true;
}

/** The like count a post of the thread embeds is stored; one given by URL only is read later. */
async function countLikes(walk: Walk, object: PostObject): Promise<void> {
  const url = await takeEmbeddedLikes(walk.ctx.data, object);
  if (url) walk.likesByUrl.push(object);
}

/** Like counts given by URL only, read while the refresh's budget lasts (the replies came first). */
async function fetchLikeCounts(walk: Walk): Promise<void> {
  for (const object of walk.likesByUrl) {
    try {
      await fetchLikes(walk.ctx.data, object, walk.loader);
    } catch (error) {
      if (/budget spent/.test(String(error))) return;
      log.debug("like count of {iri} not read: {error}", { iri: object.id?.href, error: String(error) });
    }
  }
}

/** FEP-7888: the thread's `context` collection, from the thread's own origin; false when there is none. */
async function fromContext(walk: Walk, thread: PostObject): Promise<boolean> {
  const iri = thread.contextIds.find((u) => u.origin === thread.id?.origin);
  if (!iri) return false;
  const collection = await walk.ctx.lookupObject(iri, { documentLoader: walk.loader }).catch(() => null);
  if (!(collection instanceof Collection)) return false;
  // Items may come in any order: a reply whose parent is not stored yet waits for a later pass.
  let waiting: PostObject[] = [];
  for await (const item of walk.ctx.traverseCollection(collection, {
    documentLoader: walk.loader,
    suppressError: true,
  })) {
    const object = await postOf(walk, item);
    if (object) waiting.push(object);
    if (walk.objects >= BUDGET.objects) break;
  }
  for (let progress = true; progress && waiting.length > 0; ) {
    const next: PostObject[] = [];
    progress = false;
    for (const object of waiting) {
      if (await take(walk, object)) progress = true;
      else if (object.replyTargetId && !walk.inThread.has(object.replyTargetId.href)) next.push(object);
    }
    waiting = next;
  }
  return true;
}

/** Breadth-first over `replies` collections, each read from its post's own origin. */
async function fromReplies(walk: Walk, thread: PostObject): Promise<void> {
  let level: PostObject[] = [thread];
  while (level.length > 0 && walk.objects < BUDGET.objects) {
    const next: PostObject[] = [];
    for (const post of level) {
      const collection = await post.getReplies({ documentLoader: walk.loader }).catch(() => null);
      if (!collection || collection.id?.origin !== post.id?.origin) continue;
      const items = walk.ctx.traverseCollection(collection, { documentLoader: walk.loader, suppressError: true });
      for await (const item of items) {
        const reply = await postOf(walk, item);
        if (reply && (await take(walk, reply))) next.push(reply);
        if (walk.objects >= BUDGET.objects) break;
      }
    }
    level = next;
  }
}

/** A collection item as a post (a `Create` is unwrapped), counted once against the budget. */
async function postOf(walk: Walk, item: ApObject | Link): Promise<PostObject | null> {
  const object =
    item instanceof Create ? await item.getObject({ documentLoader: walk.loader }).catch(() => null) : item;
  const iri = object?.id?.href;
  if (!isPostObject(object) || !iri || walk.visited.has(iri)) return null;
  walk.visited.add(iri);
  walk.objects++;
  return object;
}
