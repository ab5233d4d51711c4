import type { Context, InboxContext } from "@fedify/fedify";
import { isActor, type Update } from "@fedify/fedify/vocab";
import { findActorByIri } from "../../src/actors/remote.ts";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { receivePostUpdate } from "../../src/posts/remote.ts";
import { takeAnswers } from "../answers.ts";
import { isPostObject, persistActor, postValues } from "../remote.ts";
import { takeEmbeddedLikes } from "../remote-counts.ts";

const log = logger("federation", "inbox", "update");

export async function onUpdate(ctx: InboxContext<AppContext>, update: Update): Promise<void> {
  await applyUpdate(ctx, update, await update.toJsonLd({ format: "compact" }), undefined, await update.toJsonLd());
}

/** `Update` of a profile (refreshes the actor) or of a post (its author's edit). */
export async function applyUpdate(
  ctx: Context<AppContext>,
  update: Update,
  activity?: unknown,
  fetched?: unknown,
  /** The activities it came in, as received (an `Announce` of it): where our terms are read. */
  raw?: unknown,
): Promise<void> {
  if (!update.actorId) return;
  // `fetched`: the object as its own server serves it, when the Update came second-hand.
  const object = fetched ?? (await update.getObject().catch(() => null));
  if (isActor(object)) {
    if (object.id?.href !== update.actorId.href) return log.debug("Update of someone else's profile dropped");
    await persistActor(ctx, object);
    return;
  }
  if (!isPostObject(object) || !object.id) return log.debug("Update of an unsupported object dropped");
  const author = await findActorByIri(ctx.data.db, update.actorId.href);
  if (!author || object.attributionId?.href !== author.iri)
    return log.debug("Update by someone other than the author dropped");
  const v = await postValues(object);
  const applied = await receivePostUpdate(
    ctx.data.db,
    {
      iri: object.id.href,
      authorId: author.id,
      title: v.title,
      contentHtml: v.contentHtml,
      summary: v.summary,
      sensitive: v.sensitive,
      updatedAt: v.updatedAt ?? new Date().toISOString(),
      tags: v.tags,
      images: v.images,
    },
    activity,
  );
  // A question's marks, from the thread's own server only (its author sent the Update of it).
  if (applied && object.id.origin === update.actorId.origin) await takeAnswers(ctx, object, null, [raw]);
  // The count the author's server publishes with the edit keeps a thread's likes fresh (a URL costs nothing here).
  // Only with an edit we applied: the author's own Update, not another account of the same server.
  if (applied && object.id.origin === update.actorId.origin) await takeEmbeddedLikes(ctx.data, object);
}
