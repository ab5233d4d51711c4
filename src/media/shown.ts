import type { AppContext } from "../context.ts";
import { imagesOfPosts, type ShownImage } from "./service.ts";

/**
 * The images of the posts a page shows, in one query; a remote image whose
 * server's media we refuse (reject_media, or a suspended server) is withheld.
 */
export function postImages(
  ctx: Pick<AppContext, "db" | "policy">,
  postIds: readonly string[],
): Promise<Map<string, ShownImage[]>> {
  return imagesOfPosts(ctx.db, postIds, (host) => ctx.policy.check(host).rejectMedia || ctx.policy.isSuspended(host));
}

/** Posts of a list with their images (one query): in full under a reply, a count beside a thread's title. */
export async function withImages<P extends { id: string }>(
  ctx: Pick<AppContext, "db" | "policy">,
  posts: P[],
): Promise<(P & { images: ShownImage[] | undefined })[]> {
  const images = await postImages(
    ctx,
    posts.map((p) => p.id),
  );
  return posts.map((p) => ({ ...p, images: images.get(p.id) }));
}
