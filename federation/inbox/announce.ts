import type { InboxContext } from "@fedify/fedify";
import { Create, Delete, Like, Update, type Announce } from "@fedify/fedify/vocab";
import { findActorByIri } from "../../src/actors/remote.ts";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { instanceLoader, isPostObject } from "../remote.ts";
import { applyDelete } from "./delete.ts";
import { ingestPost } from "./ingest.ts";
import { applyLike } from "./like.ts";
import { applyUpdate } from "./update.ts";

const log = logger("federation", "inbox", "announce");

/**
 * An `Announce` from a remote community we follow (FEP-1b12): it wraps the
 * member's activity (Lemmy, Kindred) or the object itself (Mastodon-style).
 * Anything embedded that comes from another origin is fetched again from its
 * own server (Fedify's default), so a group cannot put words in a member's mouth.
 */
export async function onAnnounce(ctx: InboxContext<AppContext>, announce: Announce): Promise<void> {
  if (!announce.actorId || !announce.objectId) return;
  const group = await findActorByIri(ctx.data.db, announce.actorId.href);
  if (!group || group.type !== "Group" || group.local === 1) return log.debug("Announce from a non-community dropped");
  const following = await ctx.data.db.selectFrom("follows").select("id").where("followee_id", "=", group.id).where("status", "=", "accepted").executeTakeFirst();
  if (!following) return log.debug("Announce from a community nobody here follows dropped");

  // Fedify ignores embedded objects from another origin and fetches them from their id.
  const loader = await instanceLoader(ctx);
  const inner = await announce.getObject({ documentLoader: loader }).catch(() => null);
  if (inner instanceof Create) {
    const object = await inner.getObject({ documentLoader: loader }).catch(() => null);
    if (isPostObject(object)) await ingestPost(ctx, object, { announcedBy: group.id });
  } else if (isPostObject(inner)) {
    await ingestPost(ctx, inner, { announcedBy: group.id });
  } else if (inner instanceof Update) {
    await applyUpdate(ctx, inner);
  } else if (inner instanceof Delete) {
    await applyDelete(ctx, inner, group.id);
  } else if (inner instanceof Like) {
    await applyLike(ctx, inner);
  } else {
    log.debug("Announce of an unsupported object dropped");
  }
}
