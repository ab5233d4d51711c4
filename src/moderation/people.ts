// Moderating people in a community: ban and unban (optionally removing their
// posts there, optionally until a date), appoint and dismiss moderators.
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { conflict, forbidden, invalid, notFound, parseInput } from "../errors.ts";
import { now } from "../ids.ts";
import {
  type Acting,
  assertMayModerate,
  isCommunityModerator,
  moderatedCommunity,
  type Received,
} from "./authority.ts";
import { logAction } from "./log.ts";
import { reasonInput, removePost } from "./posts.ts";

/** A ban removes at most this many of the person's posts in the community, newest first. */
export const BAN_REMOVES_AT_MOST = 500;
export const BAN_DAYS_MAX = 3650;

export interface BanOptions {
  reason?: string | null;
  removeContent?: boolean;
  /** Days until the ban ends; none for a permanent ban. */
  days?: number | null;
  /** The end of a received ban (Lemmy's `endTime`). */
  expiresAt?: string | null;
  reportId?: string | null;
  received?: Received;
}

async function person(db: Db, actorId: string) {
  const row = await db
    .selectFrom("actors")
    .select(["id", "type", "deleted_at"])
    .where("id", "=", actorId)
    .executeTakeFirst();
  if (!row || row.type === "Group") throw notFound("person");
  return row;
}

function expiry(options: BanOptions): string | null {
  if (options.expiresAt) {
    const t = Date.parse(options.expiresAt);
    // Never read a ban meant to end as a permanent one.
    if (Number.isNaN(t)) throw invalid("the ban's end is not a date");
    return new Date(t).toISOString();
  }
  if (options.days === undefined || options.days === null) return null;
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > BAN_DAYS_MAX)
    throw invalid(`days: must be a whole number from 1 to ${BAN_DAYS_MAX}`, { days: "must be 1 to 3650" });
  return new Date(Date.now() + options.days * 86_400_000).toISOString();
}

/** Bans a person from a community: they can no longer post there, and their membership ends. */
export async function banPerson(
  db: Db,
  origin: string,
  acting: Acting,
  communityId: string,
  actorId: string,
  options: BanOptions = {},
): Promise<string> {
  const reason = parseInput(reasonInput, options.reason ?? undefined);
  const expiresAt = expiry(options);
  // One transaction: the ban and the removal of their posts land together or not at all.
  return inTransaction(db, async (trx) => {
    await assertMayModerate(trx, acting, communityId);
    const community = await moderatedCommunity(trx, communityId);
    await person(trx, actorId);
    if (actorId === acting.actorId) throw forbidden("you cannot ban yourself");
    if (community.ownerId === actorId) throw forbidden("the owner of a community cannot be banned from it");
    // In our communities nobody bans a moderator, a remote moderator included; a community elsewhere decides its own.
    if ((community.local || !options.received) && (await isCommunityModerator(trx, communityId, actorId)))
      throw forbidden("a moderator cannot be banned; remove them as moderator first");
    await trx
      .deleteFrom("community_bans")
      .where("community_id", "=", communityId)
      .where("actor_id", "=", actorId)
      .execute();
    await trx
      .insertInto("community_bans")
      .values({
        community_id: communityId,
        actor_id: actorId,
        banned_by: acting.actorId,
        reason,
        created_at: now(),
        expires_at: expiresAt,
      })
      .execute();
    if (community.local)
      await trx
        .deleteFrom("follows")
        .where("followee_id", "=", communityId)
        .where("follower_id", "=", actorId)
        .execute();
    const actionId = await logAction(trx, origin, {
      communityId,
      acting,
      action: "ban",
      actorId,
      reason,
      expiresAt,
      reportId: options.reportId,
      received: options.received,
      localCommunity: community.local,
      tell: actorId,
    });
    if (options.removeContent) await removeAllPosts(trx, origin, acting, communityId, actorId, reason, options);
    return actionId;
  });
}

/** The banned person's posts in the community, removed one by one so every server hears of each. */
async function removeAllPosts(
  db: Db,
  origin: string,
  acting: Acting,
  communityId: string,
  actorId: string,
  reason: string | null,
  options: BanOptions,
): Promise<void> {
  const posts = await db
    .selectFrom("posts")
    .select("id")
    .where("community_id", "=", communityId)
    .where("author_id", "=", actorId)
    .where("removed_at", "is", null)
    .where("deleted_at", "is", null)
    .orderBy("id", "desc")
    .limit(BAN_REMOVES_AT_MOST)
    .execute();
  // Received with the ban (Lemmy's `removeData`): removed here, not announced again one by one.
  const received = options.received ? { activityIri: options.received.activityIri } : undefined;
  for (const p of posts)
    await removePost(db, origin, acting, p.id, { reason, quiet: true, received }).catch((e) => {
      if (!(e instanceof Error && "code" in e && e.code === "conflict")) throw e;
    });
}

export async function unbanPerson(
  db: Db,
  origin: string,
  acting: Acting,
  communityId: string,
  actorId: string,
  options: { reason?: string | null; received?: Received } = {},
): Promise<string> {
  const reason = parseInput(reasonInput, options.reason ?? undefined);
  return inTransaction(db, async (trx) => {
    await assertMayModerate(trx, acting, communityId);
    const community = await moderatedCommunity(trx, communityId);
    const removed = await trx
      .deleteFrom("community_bans")
      .where("community_id", "=", communityId)
      .where("actor_id", "=", actorId)
      .executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0) throw conflict("this person is not banned from this community");
    return logAction(trx, origin, {
      communityId,
      acting,
      action: "unban",
      actorId,
      reason,
      received: options.received,
      localCommunity: community.local,
      tell: actorId,
    });
  });
}

/** Appoints a moderator: a member of a local community; anyone a remote community names. */
export async function addModerator(
  db: Db,
  origin: string,
  acting: Acting,
  communityId: string,
  actorId: string,
  options: { received?: Received } = {},
): Promise<string> {
  return inTransaction(db, async (trx) => {
    await assertMayModerate(trx, acting, communityId);
    const community = await moderatedCommunity(trx, communityId);
    await person(trx, actorId);
    if (await isCommunityModerator(trx, communityId, actorId)) throw conflict("already a moderator of this community");
    if (community.local) {
      const member = await trx
        .selectFrom("follows")
        .select("status")
        .where("followee_id", "=", communityId)
        .where("follower_id", "=", actorId)
        .executeTakeFirst();
      if (member?.status !== "accepted") throw forbidden("only members can become moderators");
    }
    await trx
      .insertInto("community_moderators")
      .values({ community_id: communityId, actor_id: actorId, created_at: now() })
      .execute();
    return logAction(trx, origin, {
      communityId,
      acting,
      action: "add_moderator",
      actorId,
      received: options.received,
      localCommunity: community.local,
    });
  });
}

/** Dismisses a moderator; the owner stays, and so does the last moderator. */
export async function removeModerator(
  db: Db,
  origin: string,
  acting: Acting,
  communityId: string,
  actorId: string,
  options: { received?: Received } = {},
): Promise<string> {
  return inTransaction(db, async (trx) => {
    await assertMayModerate(trx, acting, communityId);
    const community = await moderatedCommunity(trx, communityId);
    if (!(await isCommunityModerator(trx, communityId, actorId))) throw notFound("moderator");
    if (community.local && community.ownerId === actorId)
      throw forbidden("the owner of a community stays its moderator");
    const count = await trx
      .selectFrom("community_moderators")
      .select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("community_id", "=", communityId)
      .executeTakeFirstOrThrow();
    if (community.local && Number(count.n) <= 1) throw forbidden("a community keeps at least one moderator");
    await trx
      .deleteFrom("community_moderators")
      .where("community_id", "=", communityId)
      .where("actor_id", "=", actorId)
      .execute();
    return logAction(trx, origin, {
      communityId,
      acting,
      action: "remove_moderator",
      actorId,
      received: options.received,
      localCommunity: community.local,
    });
  });
}
