// Who may load an image, whichever server it came from: the rules of the post
// it belongs to. Keys are unguessable (as Mastodon's media URLs), so a key is
// enough for a readable post; but an image outlives neither its post's
// deletion or removal nor its author's suspension, and images of posts not
// addressed to the public are never cached by shared caches.
import type { Db } from "../../db/schema.ts";
import { mayModerate } from "../moderation/authority.ts";

export interface ImageRow {
  id: string;
  key: string;
  local: number;
  file: string | null;
  remote_url: string | null;
  media_type: string;
  failed_at: string | null;
  audience: string;
  removed_at: string | null;
  deleted_at: string | null;
  author_id: string;
  community_id: string | null;
  host: string;
  suspended_at: string | null;
  author_deleted_at: string | null;
}

export function imageRow(db: Db, key: string) {
  return db
    .selectFrom("media")
    .innerJoin("posts", "posts.id", "media.post_id")
    .innerJoin("actors", "actors.id", "posts.author_id")
    .select([
      "media.id",
      "media.key",
      "media.local",
      "media.file",
      "media.remote_url",
      "media.media_type",
      "media.failed_at",
      "posts.audience",
      "posts.removed_at",
      "posts.deleted_at",
      "posts.author_id",
      "posts.community_id",
      "actors.host",
      "actors.suspended_at",
      "actors.deleted_at as author_deleted_at",
    ])
    .where("media.key", "=", key)
    .executeTakeFirst() as Promise<ImageRow | undefined>;
}

/**
 * "public" (any cache may keep it), "private" (only the reader's browser), or
 * null (not served). A removed post's images stay visible to its author and
 * the community's moderators, as its text does; `viewer` is asked only then.
 */
export async function imageAccess(
  db: Db,
  row: ImageRow,
  viewer: () => Promise<string | undefined>,
): Promise<"public" | "private" | null> {
  if (row.deleted_at || row.author_deleted_at || row.suspended_at) return null;
  if (row.removed_at) {
    const viewerId = await viewer();
    if (!viewerId) return null;
    const sees =
      viewerId === row.author_id || (row.community_id !== null && (await mayModerate(db, row.community_id, viewerId)));
    return sees ? "private" : null;
  }
  return row.audience === "public" || row.audience === "unlisted" ? "public" : "private";
}
