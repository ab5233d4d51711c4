import type { Context, InboxContext } from "@fedify/fedify";
import type { Like } from "@fedify/fedify/vocab";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { findPostByIri, receiveLike } from "../../src/posts/remote.ts";
import { actorIdFor } from "../remote.ts";

const log = logger("federation", "inbox", "like");

export async function onLike(ctx: InboxContext<AppContext>, like: Like): Promise<void> {
  await applyLike(ctx, like, await like.toJsonLd({ format: "compact" }));
}

/** Records a like of a post we hold; a local community re-shares it (`activity`). */
export async function applyLike(ctx: Context<AppContext>, like: Like, activity?: unknown): Promise<void> {
  if (!like.id || !like.objectId || !like.actorId) return;
  // A like relayed by a community is taken on its word: not from servers we suspend.
  if (ctx.data.policy.isSuspended(like.actorId.href)) return;
  const post = await findPostByIri(ctx.data.db, like.objectId.href);
  if (!post || post.deleted_at) return log.debug("Like of an unknown post dropped");
  const actorId = await actorIdFor(ctx, like.actorId);
  if (!actorId) return;
  await receiveLike(ctx.data.db, { iri: like.id.href, postId: post.id, actorId }, activity);
}
