import type { Context, InboxContext, RequestContext, UnverifiedActivityReason } from "@fedify/fedify";
import { type Activity, Delete } from "@fedify/fedify/vocab";
import { scrubErasedPages } from "../../db/scrub.ts";
import { findActorByIri } from "../../src/actors/remote.ts";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { receiveActorDeleted, receivePostDelete } from "../../src/posts/remote.ts";
import { fedifyQueuedDeliveries } from "../queued-deliveries.ts";
import { receiveDirectModeration } from "./moderation.ts";

const log = logger("federation", "inbox", "delete");

/**
 * A remote actor is gone: their content, our queued re-shares of it and the
 * copies of their documents in our cache (their profile text) all go.
 */
async function purgeRemoteActor(ctx: Context<AppContext>, actor: { id: string; iri: string }): Promise<void> {
  await receiveActorDeleted(ctx.data.db, actor.id);
  await fedifyQueuedDeliveries.forget(ctx.data.db, actor.iri);
  await scrubErasedPages(ctx.data.db, ctx.data.dialect);
}

export async function onDelete(ctx: InboxContext<AppContext>, del: Delete): Promise<void> {
  // A moderator's removal (Lemmy: a Delete with a summary, by someone other than the author) is not a deletion.
  if (await receiveDirectModeration(ctx, await del.toJsonLd())) return;
  await applyDelete(ctx, del, undefined, await del.toJsonLd({ format: "compact" }));
}

/**
 * `Delete` of an actor (they are gone: purge what we hold of them) or of a
 * post (by its author, a moderator, or the community `viaGroupId` announcing it).
 */
export async function applyDelete(
  ctx: Context<AppContext>,
  del: Delete,
  viaGroupId?: string,
  activity?: unknown,
): Promise<void> {
  if (!del.actorId || !del.objectId) return;
  const actor = await findActorByIri(ctx.data.db, del.actorId.href);
  // Through a community's Announce, the community's authority is enough: its
  // moderators need not be known here.
  if (actor?.local === 1 || (!actor && !viaGroupId)) return;
  if (del.objectId.href === del.actorId.href) {
    if (!actor) return;
    await purgeRemoteActor(ctx, actor);
    log.info("remote actor {actor} deleted; their content is purged", { actor: actor.iri });
    return;
  }
  const by = viaGroupId ?? actor?.id;
  if (!by) return;
  const deleted = await receivePostDelete(ctx.data.db, { iri: del.objectId.href, actorId: by }, activity);
  if (!deleted) log.debug("Delete of {object} not applied", { object: del.objectId.href });
}

/** Recent answers of `goneAtSource`, so forged Deletes cannot make us ask another server again and again. */
const goneAnswers = new Map<string, { gone: boolean; until: number }>();
const GONE_ANSWER_MS = 60_000;

/**
 * Whether the document at `iri` is gone at its own server: only a 404 or 410
 * says so. A timeout, an error or a refusal says nothing, and nothing is deleted
 * on it (a server that is down, or blocks us, has not deleted anyone).
 */
export async function goneAtSource(iri: string): Promise<boolean> {
  const known = goneAnswers.get(iri);
  if (known && known.until > Date.now()) return known.gone;
  const gone = await fetch(iri, {
    headers: { accept: "application/activity+json" },
    redirect: "manual",
    signal: AbortSignal.timeout(10_000),
  })
    .then(async (r) => {
      await r.body?.cancel().catch(() => undefined);
      return r.status === 410 || r.status === 404;
    })
    .catch(() => false);
  if (goneAnswers.size > 10_000) goneAnswers.clear();
  goneAnswers.set(iri, { gone, until: Date.now() + GONE_ANSWER_MS });
  return gone;
}

/**
 * Signatures of a deleted actor can't be checked (their key is gone, often
 * answering 410). Mastodon sends `Delete(Person)` signed by that very key; we
 * purge only what such a `Delete` names: the actor itself, fetched to confirm it is gone.
 */
export async function onUnverifiedDelete(
  ctx: RequestContext<AppContext>,
  activity: Activity,
  reason: UnverifiedActivityReason,
): Promise<Response | undefined> {
  if (!(activity instanceof Delete) || !activity.actorId || activity.objectId?.href !== activity.actorId.href) return;
  const actor = await findActorByIri(ctx.data.db, activity.actorId.href);
  if (!actor || actor.local === 1) return new Response(null, { status: 202 });
  // The IRI was fetched through Fedify's address checks when the actor was
  // first stored; this one request only asks whether it is gone now.
  const gone = await goneAtSource(actor.iri);
  if (gone) {
    await purgeRemoteActor(ctx, actor);
    log.info("remote actor {actor} gone (unverifiable Delete, {reason}); their content is purged", {
      actor: actor.iri,
      reason: String((reason as { type?: string }).type ?? reason),
    });
  }
  return new Response(null, { status: 202 });
}
