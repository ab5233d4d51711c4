import type { Kysely } from "kysely";

// Like counts of remote posts as their origin publishes them (issue 12): a
// Mastodon `Note`'s `likes.totalItems`, read when a thread is backfilled. Only
// the likes we don't hold are kept, so a page shows our likes plus these and
// never counts one like twice (src/posts/like-counts.ts).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("remote_counts")
    .addColumn("post_id", "text", (c) => c.primaryKey().references("posts.id").onDelete("cascade"))
    // The origin's count, as read.
    .addColumn("likes", "integer", (c) => c.notNull())
    // Of those, how many were not among the likes we held when it was read (never negative).
    .addColumn("likes_elsewhere", "integer", (c) => c.notNull())
    .addColumn("counted_at", "text", (c) => c.notNull())
    .execute();
}
