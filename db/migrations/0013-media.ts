import type { Kysely } from "kysely";

// Images in posts (issue 12): uploads, re-encoded and stored under the data
// folder, and images of received posts, fetched into our cache on first view.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("media")
    .addColumn("id", "text", (c) => c.primaryKey())
    // The unguessable name in the image's address (`/media/{key}.jpg`, `/media/remote/{key}`).
    .addColumn("key", "text", (c) => c.notNull().unique())
    .addColumn("post_id", "text", (c) => c.notNull().references("posts.id"))
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("local", "integer", (c) => c.notNull())
    .addColumn("remote_url", "text")
    .addColumn("file", "text")
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("alt", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("width", "integer")
    .addColumn("height", "integer")
    .addColumn("bytes", "integer")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("fetched_at", "text")
    .addColumn("failed_at", "text")
    .execute();
  await db.schema.createIndex("media_post_idx").on("media").columns(["post_id", "position"]).execute();
  await db.schema.createIndex("media_fetched_idx").on("media").column("fetched_at").execute();
  // Files whose rows went with a deleted post, removed from the store by the background loop.
  await db.schema
    .createTable("media_deletions")
    .addColumn("file", "text", (c) => c.primaryKey())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
}
