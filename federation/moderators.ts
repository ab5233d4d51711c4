// Who moderates a remote community. FEP-1b12 groups (Lemmy, Kindred) list
// their moderators in the collection their `attributedTo` names; we keep them
// as `community_moderators` rows of the remote group, so a moderator's action
// announced by the group can be told from anyone else's. The list is read
// when first needed and again on a miss at most every few minutes (one page,
// a bounded number of items, through the instance's bounded loader); the
// group's announced Add/Remove on that collection keep it current meanwhile.
import type { Context } from "@fedify/fedify";
import type { Db } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import type { AppContext } from "../src/context.ts";
import { now } from "../src/ids.ts";
import { logger } from "../src/logging.ts";
import { actorIdFor, fetchFromOrigin } from "./remote.ts";
import { idOf, originOf } from "./wire.ts";

const log = logger("federation", "moderators");

/** At most this many moderators are read from a group's collection (Lemmy communities have a handful). */
export const MODERATORS_MAX = 200;
/** A name not on the list we read is looked up again only after this long: a forged claim costs one fetch. */
const MISS_REFRESH_MS = 5 * 60_000;
/** Rows we hold are checked against the group's list again after this long (a dismissal we did not hear of). */
const HIT_REFRESH_MS = 60 * 60_000;

export interface RemoteGroup {
  id: string;
  iri: string;
}

interface Listing {
  at: number;
  /** The moderators collection the group's document names, on the group's own origin. */
  collection: string | null;
  /** The moderators listed, or null when the list could not be read (or was not shown to us). */
  iris: Set<string> | null;
}

const listings = new Map<string, Listing>();
const reading = new Map<string, Promise<Listing>>();

/** The moderators collection of a remote group, as its own document names it; null if it names none. */
export async function moderatorsCollectionOf(ctx: Context<AppContext>, group: RemoteGroup): Promise<string | null> {
  const known = listings.get(group.id);
  if (known && (known.collection || Date.now() - known.at < MISS_REFRESH_MS)) return known.collection;
  return (await refresh(ctx, group)).collection;
}

/**
 * The row id of `actorIri` when the remote `group` lists it among its
 * moderators; null otherwise. A name we hold is trusted until the list is
 * due to be read again; a name we don't hold makes us read it again at most
 * every few minutes.
 */
export async function remoteModerator(
  ctx: Context<AppContext>,
  group: RemoteGroup,
  actorIri: string,
): Promise<string | null> {
  const db = ctx.data.db;
  const last = listings.get(group.id);
  const held = await heldModerator(db, group.id, actorIri);
  if (held) {
    if (last && Date.now() - last.at < HIT_REFRESH_MS) return held;
    const listing = await refresh(ctx, group);
    // Unreadable now: the row we hold stands.
    return listing.iris === null || listing.iris.has(actorIri) ? held : null;
  }
  const listing = last && Date.now() - last.at < MISS_REFRESH_MS ? last : await refresh(ctx, group);
  if (!listing.iris?.has(actorIri)) return null;
  const actorId = await actorIdFor(ctx, safeUrl(actorIri));
  if (!actorId) return null;
  await db
    .insertInto("community_moderators")
    .values({ community_id: group.id, actor_id: actorId, created_at: now() })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return actorId;
}

/** The group's own Add or Remove of a moderator, applied: the list we read says so too from now on. */
export function noteModeratorChange(groupId: string, actorIri: string, added: boolean): void {
  const iris = listings.get(groupId)?.iris;
  if (added) iris?.add(actorIri);
  else iris?.delete(actorIri);
}

async function heldModerator(db: Db, groupId: string, actorIri: string): Promise<string | null> {
  const row = await db
    .selectFrom("community_moderators")
    .innerJoin("actors", "actors.id", "community_moderators.actor_id")
    .select("actors.id")
    .where("community_moderators.community_id", "=", groupId)
    .where("actors.iri", "=", actorIri)
    .where("actors.deleted_at", "is", null)
    .executeTakeFirst();
  return row?.id ?? null;
}

/** Reads the group's list once for everyone asking at the same moment. */
function refresh(ctx: Context<AppContext>, group: RemoteGroup): Promise<Listing> {
  const pending = reading.get(group.id);
  if (pending) return pending;
  const read = readListing(ctx, group)
    .catch((error: unknown) => {
      log.debug("moderators of {group} not read: {error}", { group: group.iri, error });
      return { at: Date.now(), collection: null, iris: null };
    })
    .then((listing) => {
      if (listings.size > 10_000) listings.clear();
      listings.set(group.id, listing);
      return listing;
    })
    .finally(() => reading.delete(group.id));
  reading.set(group.id, read);
  return read;
}

async function readListing(ctx: Context<AppContext>, group: RemoteGroup): Promise<Listing> {
  const origin = originOf(group.iri);
  const none: Listing = { at: Date.now(), collection: null, iris: null };
  const doc = await fetchFromOrigin(ctx, group.iri);
  const attributed = doc ? (Array.isArray(doc.attributedTo) ? doc.attributedTo : [doc.attributedTo]) : [];
  // The group's server speaks for the group's moderators, from its own origin only (FEP-fe34).
  const collection = attributed.map(idOf).find((iri) => iri !== null && originOf(iri) === origin) ?? null;
  if (!collection) return none;
  const listed = await listedIris(ctx, collection, origin);
  if (!listed) return { ...none, collection };
  await reconcile(ctx.data.db, group.id, listed);
  return { at: Date.now(), collection, iris: new Set(listed.iris) };
}

interface Listed {
  iris: string[];
  /** The list is the whole of it: rows not on it are dismissed moderators. */
  complete: boolean;
}

/** The first page of the collection; null when it shows no names but says it has some (not shown to us). */
async function listedIris(ctx: Context<AppContext>, collection: string, origin: string | null): Promise<Listed | null> {
  const doc = await fetchFromOrigin(ctx, collection);
  if (!doc) return null;
  let page: Record<string, unknown> = doc;
  if (!Array.isArray(doc.orderedItems ?? doc.items) && doc.first !== undefined) {
    const first = idOf(doc.first);
    const embedded = doc.first && typeof doc.first === "object" ? (doc.first as Record<string, unknown>) : null;
    const fetched = embedded ?? (first && originOf(first) === origin ? await fetchFromOrigin(ctx, first) : null);
    if (!fetched) return null;
    page = fetched;
  }
  const raw = page.orderedItems ?? page.items;
  const items = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(idOf);
  const iris = [...new Set(items.filter((iri): iri is string => iri !== null && originOf(iri) !== null))];
  const total = typeof doc.totalItems === "number" ? doc.totalItems : null;
  if (iris.length === 0 && total !== null && total > 0) return null;
  const complete =
    iris.length <= MODERATORS_MAX && page.next === undefined && (total === null || total === iris.length);
  return { iris: iris.slice(0, MODERATORS_MAX), complete };
}

/** Rows for the listed moderators we already hold as actors; a complete list also dismisses the others. */
async function reconcile(db: Db, groupId: string, listed: Listed): Promise<void> {
  await inTransaction(db, async (trx) => {
    const held = await trx
      .selectFrom("community_moderators")
      .innerJoin("actors", "actors.id", "community_moderators.actor_id")
      .select(["actors.id", "actors.iri"])
      .where("community_moderators.community_id", "=", groupId)
      .execute();
    const wanted = new Set(listed.iris);
    const gone = held.filter((r) => !wanted.has(r.iri)).map((r) => r.id);
    if (listed.complete && gone.length > 0)
      await trx
        .deleteFrom("community_moderators")
        .where("community_id", "=", groupId)
        .where("actor_id", "in", gone)
        .execute();
    const heldIris = new Set(held.map((r) => r.iri));
    const missing = listed.iris.filter((iri) => !heldIris.has(iri));
    if (missing.length === 0) return;
    const known = await trx
      .selectFrom("actors")
      .select("id")
      .where("iri", "in", missing)
      .where("deleted_at", "is", null)
      .execute();
    if (known.length > 0)
      await trx
        .insertInto("community_moderators")
        .values(known.map((a) => ({ community_id: groupId, actor_id: a.id, created_at: now() })))
        .onConflict((oc) => oc.doNothing())
        .execute();
  });
}

const safeUrl = (iri: string): URL | null => {
  try {
    return new URL(iri);
  } catch {
    return null;
  }
};
