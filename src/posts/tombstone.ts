// The one rule for what a deleted post leaves behind, whoever deletes it: its
// author or a moderator, retention, a remote `Delete`, a domain purge or an
// erasure. The row stays as a tombstone so replies keep their place in the
// thread; nothing anyone wrote stays in it. Who it was addressed to and who it
// mentioned stay too: the outbox reads them to send the `Delete` to the same
// servers as the post (an erasure removes them itself afterwards).
import type { SelectQueryBuilder } from "kysely";
import { sql } from "kysely";
import type { Database, Db } from "../../db/schema.ts";
import { forgetImagesOf } from "../media/service.ts";

/** Which posts: their ids, or a query selecting `posts.id` (no bound-parameter limit, whatever the count). */
export type PostSelection = readonly string[] | SelectQueryBuilder<Database, "posts", { id: string }>;

/**
 * Empties the selected posts to tombstones, with their hashtags, likes (and the origin's count) and images.
 * A post already deleted keeps its first deletion time.
 */
export async function tombstonePosts(db: Db, posts: PostSelection, ts: string): Promise<void> {
  if (Array.isArray(posts) && posts.length === 0) return;
  // Dependent rows first: a selection such as "not deleted yet" still matches them before the update.
  await db.deleteFrom("post_tags").where("post_id", "in", posts).execute();
  await db.deleteFrom("likes").where("post_id", "in", posts).execute();
  await db.deleteFrom("remote_counts").where("post_id", "in", posts).execute();
  await forgetImagesOf(db, posts);
  await db
    .updateTable("posts")
    .set({
      title: null,
      source: null,
      content_html: "",
      summary: null,
      sensitive: 0,
      language: null,
      url: null,
      deleted_at: sql<string>`coalesce(deleted_at, ${ts})`,
      updated_at: ts,
    })
    .where("id", "in", posts)
    .execute();
}
