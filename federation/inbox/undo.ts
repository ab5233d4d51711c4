import type { InboxContext } from "@fedify/fedify";
import { Follow, Like, type Undo } from "@fedify/fedify/vocab";
import { findActorByIri } from "../../src/actors/remote.ts";
import type { AppContext } from "../../src/context.ts";
import { receiveUnfollow } from "../../src/follows/service.ts";
import { logger } from "../../src/logging.ts";
import { findPostByIri, receiveUnlike } from "../../src/posts/remote.ts";
import { receiveDirectModeration } from "./moderation.ts";

const log = logger("federation", "inbox", "undo");

/** `Undo` of a `Follow` (leaving), a `Like`, or a moderator's removal, lock or ban in one of our communities. */
export async function onUndo(ctx: InboxContext<AppContext>, undo: Undo): Promise<void> {
  if (!undo.actorId) return;
  // Fedify cannot read an embedded Lock (not in its vocabulary): moderation is read from the JSON as received.
  if (await receiveDirectModeration(ctx, await undo.toJsonLd())) return;
  const actor = await findActorByIri(ctx.data.db, undo.actorId.href);
  if (!actor) return log.debug("Undo from an unknown actor dropped");
  const inner = await undo.getObject().catch(() => null);
  if (inner instanceof Follow) {
    const followee = inner.objectId ? await findActorByIri(ctx.data.db, inner.objectId.href) : undefined;
    await receiveUnfollow(ctx.data.db, {
      iri: inner.id?.href ?? undo.objectId?.href,
      followerId: actor.id,
      followeeId: followee?.id,
    });
  } else if (inner instanceof Like) {
    const post = inner.objectId ? await findPostByIri(ctx.data.db, inner.objectId.href) : undefined;
    await receiveUnlike(ctx.data.db, { iri: inner.id?.href, postId: post?.id, actorId: actor.id });
  } else if (undo.objectId) {
    // Only the id: it names a follow or a like of this actor.
    if (!(await receiveUnfollow(ctx.data.db, { iri: undo.objectId.href, followerId: actor.id }))) {
      await receiveUnlike(ctx.data.db, { iri: undo.objectId.href, actorId: actor.id });
    }
  }
}
