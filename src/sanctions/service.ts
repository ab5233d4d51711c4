// Sanctions on one account, local or remote, as Mastodon's admins have them:
// suspend (nothing of the account is shown or accepted; a local member keeps
// only their statement of reasons, appeal, data export and log-out) and limit
// (out of public listings; their follows need approval). Every change goes
// through the moderation log (an instance-level action with no community), so
// the person is told why and may appeal to the admins.
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { conflict, DomainError, forbidden, notFound, parseInput } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { now } from "../ids.ts";
import type { Acting } from "../moderation/authority.ts";
import { logAction } from "../moderation/log.ts";

export const SANCTION_REASON_MAX = 1000;
const reasonText = z
  .string()
  .trim()
  .max(SANCTION_REASON_MAX, `must be at most ${SANCTION_REASON_MAX} characters`)
  .optional();

export type Sanction = "suspend" | "limit";
/** The actor column each sanction sets. */
const COLUMN = { suspend: "suspended_at", limit: "limited_at" } as const;
const LIFT = { suspend: "unsuspend", limit: "unlimit" } as const;

export interface SanctionTarget {
  id: string;
  iri: string;
  username: string;
  host: string;
  local: boolean;
  type: string;
  suspendedAt: string | null;
  limitedAt: string | null;
  role: string | null;
}

function targetQuery(db: Db) {
  return db
    .selectFrom("actors")
    .leftJoin("users", "users.actor_id", "actors.id")
    .select([
      "actors.id",
      "actors.iri",
      "actors.username",
      "actors.host",
      "actors.local",
      "actors.type",
      "actors.suspended_at",
      "actors.limited_at",
      "users.role",
    ])
    .where("actors.deleted_at", "is", null);
}

type TargetRow = NonNullable<Awaited<ReturnType<ReturnType<typeof targetQuery>["executeTakeFirst"]>>>;

const shape = (r: TargetRow): SanctionTarget => ({
  id: r.id,
  iri: r.iri,
  username: r.username,
  host: r.host,
  local: r.local === 1,
  type: r.type,
  suspendedAt: r.suspended_at,
  limitedAt: r.limited_at,
  role: r.role,
});

/**
 * A person by what an admin types: a local username, `name@host` for a
 * remote one we know, or an actor IRI. Communities and the instance itself
 * are not accounts (domain policy handles whole servers).
 */
export async function findSanctionTarget(db: Db, ref: string): Promise<SanctionTarget> {
  const name = ref.trim().replace(/^@/, "");
  let q = targetQuery(db).where("actors.type", "in", ["Person", "Service", "Application", "Organization"]);
  if (/^https?:\/\//i.test(name)) q = q.where("actors.iri", "=", name);
  else if (name.includes("@")) {
    const at = name.lastIndexOf("@");
    q = q
      .where("actors.username_key", "=", name.slice(0, at).toLowerCase())
      .where("actors.host", "=", name.slice(at + 1).toLowerCase())
      .where("actors.local", "=", 0);
  } else q = q.where("actors.username_key", "=", name.toLowerCase()).where("actors.local", "=", 1);
  const row = await q.executeTakeFirst();
  // A local Application is the instance actor, not an account.
  if (!row || (row.local === 1 && row.role === null)) throw notFound(`account "${ref}"`);
  return shape(row);
}

export const handleOfTarget = (t: Pick<SanctionTarget, "username" | "host" | "local">) =>
  t.local ? `@${t.username}` : `@${t.username}@${t.host}`;

/**
 * Suspends or limits an account (the CLI's admin has no person: `actorId`
 * null). Throws `conflict` when it already is; admins cannot be sanctioned
 * (demote them first), nor can one sanction oneself.
 */
export async function sanction(
  db: Db,
  origin: string,
  acting: Acting,
  target: SanctionTarget,
  kind: Sanction,
  reason?: string | null,
): Promise<string> {
  const text = parseInput(reasonText, reason ?? undefined) || null;
  if (acting.role !== "admin") throw forbidden("only admins can do this");
  if (target.role === "admin") throw forbidden("an admin cannot be sanctioned; make them a member first");
  if (acting.actorId === target.id) throw forbidden("you cannot sanction yourself");
  return inTransaction(db, async (trx) => {
    const changed = await trx
      .updateTable("actors")
      .set(kind === "suspend" ? { suspended_at: now() } : { limited_at: now() })
      .where("id", "=", target.id)
      .where(COLUMN[kind], "is", null)
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) === 0)
      throw conflict(`${handleOfTarget(target)} is already ${kind === "suspend" ? "suspended" : "limited"}`);
    const actionId = await logAction(trx, origin, {
      communityId: null,
      acting,
      action: kind,
      actorId: target.id,
      reason: text,
      localCommunity: true,
      tell: target.local ? target.id : null,
    });
    if (kind === "suspend") {
      // Other servers learn it from the actor itself (Mastodon: `Update` with `suspended: true`).
      if (target.local) await recordEvent(trx, { type: "actor.updated", actorId: target.id });
      else await endRemoteFollows(trx, target.id);
    }
    return actionId;
  });
}

/**
 * A suspended remote account stops following anyone here: each follow ends
 * with a `Reject`, as Mastodon does, so its server stops sending it our posts.
 * (There is no way to make it follow again when lifted: Mastodon has none either.)
 */
async function endRemoteFollows(db: Db, actorId: string): Promise<void> {
  const follows = await db
    .selectFrom("follows")
    .innerJoin("actors as followee", "followee.id", "follows.followee_id")
    .select(["follows.id", "follows.iri", "follows.followee_id"])
    .where("follows.follower_id", "=", actorId)
    .where("followee.local", "=", 1)
    .execute();
  for (const f of follows) {
    await db.deleteFrom("follows").where("id", "=", f.id).execute();
    await recordEvent(db, {
      type: "follow.rejected",
      followIri: f.iri,
      followerId: actorId,
      followeeId: f.followee_id,
    });
  }
}

/** Lifts a suspension or a limit (an admin's decision, or an appeal granted). */
export async function liftSanction(
  db: Db,
  origin: string,
  acting: Acting,
  target: SanctionTarget,
  kind: Sanction,
  reason?: string | null,
): Promise<string> {
  const text = parseInput(reasonText, reason ?? undefined) || null;
  if (acting.role !== "admin") throw forbidden("only admins can do this");
  return inTransaction(db, async (trx) => {
    const changed = await trx
      .updateTable("actors")
      .set(kind === "suspend" ? { suspended_at: null } : { limited_at: null })
      .where("id", "=", target.id)
      .where(COLUMN[kind], "is not", null)
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) === 0)
      throw conflict(`${handleOfTarget(target)} is not ${kind === "suspend" ? "suspended" : "limited"}`);
    const actionId = await logAction(trx, origin, {
      communityId: null,
      acting,
      action: LIFT[kind],
      actorId: target.id,
      reason: text,
      localCommunity: true,
      tell: target.local ? target.id : null,
    });
    if (kind === "suspend" && target.local) await recordEvent(trx, { type: "actor.updated", actorId: target.id });
    return actionId;
  });
}

/** Whether `acting` may delete the account (an admin, a local member who is not an admin); throws why not. */
export function assertDeletable(acting: Acting, target: SanctionTarget): void {
  if (acting.role !== "admin") throw forbidden("only admins can do this");
  if (!target.local) throw new DomainError("invalid", "only local accounts can be deleted; suspend a remote one");
  if (target.role === "admin") throw forbidden("an admin cannot be deleted; make them a member first");
  if (acting.actorId === target.id) throw forbidden("delete your own account from your settings");
}

/** The reason an admin gives for deleting an account, checked before anything is erased. */
export const deletionReason = (reason?: string | null) => parseInput(reasonText, reason ?? undefined) || null;

/**
 * Logs an admin's deletion of an account, after the erasure: erasure removes
 * every record naming the person (erasure/service.ts), so the log keeps that
 * an account was deleted and why, and no longer whose it was. The person
 * themselves is told before (by email, where they gave an address).
 */
export async function logAccountDeletion(db: Db, origin: string, acting: Acting, reason: string | null) {
  return logAction(db, origin, {
    communityId: null,
    acting,
    action: "delete_account",
    actorId: null,
    reason,
    localCommunity: true,
    tell: null,
  });
}

/** The latest standing suspension or limit of an account: its statement of reasons. */
export async function standingAction(db: Db, actorId: string, kind: Sanction): Promise<string | null> {
  const row = await db
    .selectFrom("moderation_actions")
    .select("id")
    .where("community_id", "is", null)
    .where("target_actor_id", "=", actorId)
    .where("action", "=", kind)
    .where("reversed_at", "is", null)
    .orderBy("id", "desc")
    .executeTakeFirst();
  return row?.id ?? null;
}

/** Whether a local member is suspended (the web app then shows them only their suspension page). */
export async function isSuspended(db: Db, actorId: string): Promise<boolean> {
  const row = await db.selectFrom("actors").select("suspended_at").where("id", "=", actorId).executeTakeFirst();
  return (row?.suspended_at ?? null) !== null;
}

/** Whether the actor with this IRI is suspended here: the inbox refuses its deliveries. */
export async function isSuspendedIri(db: Db, iri: string): Promise<boolean> {
  const row = await db
    .selectFrom("actors")
    .select("id")
    .where("iri", "=", iri)
    .where("suspended_at", "is not", null)
    .executeTakeFirst();
  return row !== undefined;
}

export interface SanctionedAccount {
  id: string;
  handle: string;
  local: boolean;
  suspendedAt: string | null;
  limitedAt: string | null;
}

/** Every suspended or limited account, newest accounts first (the admin's list). */
export async function listSanctioned(
  db: Db,
  options: { cursor?: string; limit?: number } = {},
): Promise<{ items: SanctionedAccount[]; nextCursor: string | null }> {
  const limit = options.limit ?? 50;
  let q = db
    .selectFrom("actors")
    .select(["id", "username", "host", "local", "suspended_at", "limited_at"])
    .where((eb) => eb.or([eb("suspended_at", "is not", null), eb("limited_at", "is not", null)]))
    .where("deleted_at", "is", null)
    .orderBy("id", "desc")
    .limit(limit + 1);
  if (options.cursor) q = q.where("id", "<", options.cursor);
  const rows = await q.execute();
  const items = rows.slice(0, limit).map((r) => ({
    id: r.id,
    handle: handleOfTarget({ username: r.username, host: r.host, local: r.local === 1 }),
    local: r.local === 1,
    suspendedAt: r.suspended_at,
    limitedAt: r.limited_at,
  }));
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
