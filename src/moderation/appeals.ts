// Appeals (DSA Art. 20): the person a removal or a ban is about may appeal it
// once. The community's moderators decide first; if they uphold it, it goes to
// the instance's admins. An appeal granted reverses the action, on every
// server that heard of it.
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { conflict, forbidden, notFound, parseInput } from "../errors.ts";
import { newId, now } from "../ids.ts";
import { notify } from "../notifications/service.ts";
import { findSanctionTarget, liftSanction } from "../sanctions/service.ts";
import { type Acting, assertMayModerate } from "./authority.ts";
import { unbanPerson } from "./people.ts";
import { restorePost } from "./posts.ts";

/** What can be appealed: what takes something away from a person. */
export const APPEALABLE = ["remove_post", "ban", "suspend", "limit"] as const;
export const APPEAL_MAX = 2000;

const appealText = z.string().trim().min(1, "is required").max(APPEAL_MAX, `must be at most ${APPEAL_MAX} characters`);

/** The action, if `userId` may appeal it: it is about them, appealable, not reversed, not appealed yet. */
export async function appealableAction(db: Db, actionId: string, userId: string) {
  const action = await db
    .selectFrom("moderation_actions")
    .leftJoin("appeals", "appeals.action_id", "moderation_actions.id")
    .select([
      "moderation_actions.id",
      "moderation_actions.action",
      "moderation_actions.community_id",
      "moderation_actions.target_actor_id",
      "moderation_actions.target_post_id",
      "moderation_actions.reversed_at",
      "appeals.id as appealId",
    ])
    .where("moderation_actions.id", "=", actionId)
    .executeTakeFirst();
  if (!action || action.target_actor_id !== userId) throw notFound("moderation action");
  // A community elsewhere decides there: no server carries appeals between instances.
  const local = action.community_id
    ? await db
        .selectFrom("communities")
        .select("actor_id")
        .where("actor_id", "=", action.community_id)
        .executeTakeFirst()
    : undefined;
  if (action.community_id && !local)
    throw forbidden("this was decided on the community's own server; appeal to its moderators there");
  if (!(APPEALABLE as readonly string[]).includes(action.action)) throw forbidden("this action cannot be appealed");
  if (action.reversed_at) throw conflict("this action was already reversed");
  if (action.appealId) throw conflict("you already appealed this action");
  return action;
}

export async function fileAppeal(db: Db, userId: string, actionId: string, text: string): Promise<string> {
  const body = parseInput(appealText, text);
  return inTransaction(db, async (trx) => {
    const action = await appealableAction(trx, actionId, userId);
    const id = newId();
    // A decision on a whole account was the admins': its appeal goes straight to them.
    const toAdmins = action.community_id === null;
    await trx
      .insertInto("appeals")
      .values({
        id,
        action_id: action.id,
        appellant_id: userId,
        community_id: action.community_id,
        text: body,
        status: toAdmins ? "escalated" : "open",
        moderator_note: null,
        admin_note: null,
        decided_by: null,
        created_at: now(),
        escalated_at: toAdmins ? now() : null,
        decided_at: null,
      })
      .execute();
    const mods = action.community_id
      ? await trx
          .selectFrom("community_moderators")
          .select("actor_id")
          .where("community_id", "=", action.community_id)
          .execute()
      : await trx.selectFrom("users").select("actor_id").where("role", "=", "admin").execute();
    await notify(
      trx,
      mods.map((m) => ({
        userId: m.actor_id,
        kind: "appeal_filed" as const,
        appealId: id,
        communityId: action.community_id,
      })),
    );
    return id;
  });
}

export async function findAppeal(db: Db, appealId: string) {
  const appeal = await db
    .selectFrom("appeals")
    .innerJoin("moderation_actions as action", "action.id", "appeals.action_id")
    .select([
      "appeals.id",
      "appeals.status",
      "appeals.appellant_id",
      "appeals.community_id",
      "appeals.text",
      "action.id as actionId",
      "action.action",
      "action.target_post_id as postId",
      "action.target_actor_id as actorId",
      "action.reversed_at as reversedAt",
    ])
    .where("appeals.id", "=", appealId)
    .executeTakeFirst();
  if (!appeal) throw notFound("appeal");
  return appeal;
}

/**
 * A decision on an appeal. With the moderators (`open`): grant, or uphold,
 * which sends it to the admins. With the admins (`escalated`): grant or deny.
 */
export async function decideAppeal(
  db: Db,
  origin: string,
  acting: Acting,
  appealId: string,
  grant: boolean,
  note?: string | null,
): Promise<void> {
  const text = parseInput(z.string().trim().max(APPEAL_MAX).optional(), note ?? undefined) || null;
  const appeal = await findAppeal(db, appealId);
  if (appeal.status === "granted" || appeal.status === "denied")
    throw conflict(`this appeal was already ${appeal.status}`);
  if (appeal.status === "escalated" && acting.role !== "admin") throw forbidden("the admins decide this appeal now");
  if (appeal.community_id) await assertMayModerate(db, acting, appeal.community_id);
  else if (acting.role !== "admin") throw forbidden("only admins decide this appeal");
  if (grant && !appeal.reversedAt) {
    const reason = text ? `Appeal granted: ${text}` : "Appeal granted";
    if (appeal.action === "remove_post" && appeal.postId)
      await restorePost(db, origin, acting, appeal.postId, { reason, quiet: true }).catch(ignoreConflict);
    else if (appeal.action === "ban" && appeal.actorId && appeal.community_id)
      await unbanPerson(db, origin, acting, appeal.community_id, appeal.actorId, { reason }).catch(ignoreConflict);
    else if ((appeal.action === "suspend" || appeal.action === "limit") && appeal.actorId) {
      const target = await findSanctionTarget(db, await actorIri(db, appeal.actorId));
      await liftSanction(db, origin, acting, target, appeal.action, reason).catch(ignoreConflict);
    }
  }
  const escalate = !grant && appeal.status === "open";
  await inTransaction(db, async (trx) => {
    const ts = now();
    await trx
      .updateTable("appeals")
      .set(
        escalate
          ? { status: "escalated", moderator_note: text, escalated_at: ts }
          : {
              status: grant ? "granted" : "denied",
              decided_by: acting.actorId,
              decided_at: ts,
              ...(appeal.status === "open" ? { moderator_note: text } : { admin_note: text }),
            },
      )
      .where("id", "=", appealId)
      .execute();
    await notify(trx, {
      userId: appeal.appellant_id,
      kind: "appeal_decided",
      appealId,
      communityId: appeal.community_id,
    });
    if (escalate) {
      const admins = await trx.selectFrom("users").select("actor_id").where("role", "=", "admin").execute();
      await notify(
        trx,
        admins.map((a) => ({
          userId: a.actor_id,
          kind: "appeal_filed" as const,
          appealId,
          communityId: appeal.community_id,
        })),
      );
    }
  });
}

async function actorIri(db: Db, actorId: string): Promise<string> {
  const row = await db.selectFrom("actors").select("iri").where("id", "=", actorId).executeTakeFirst();
  if (!row) throw notFound("account");
  return row.iri;
}

const ignoreConflict = (e: unknown) => {
  if (!(e instanceof Error && (e as { code?: string }).code === "conflict")) throw e;
};
