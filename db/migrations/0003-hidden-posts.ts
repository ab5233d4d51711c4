import type { Kysely } from "kysely";

// A member hides someone else's messages when they delete a conversation
// (their own messages are deleted outright).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("hidden_posts")
    .addColumn("post_id", "text", (c) => c.notNull().references("posts.id").onDelete("cascade"))
    .addColumn("actor_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("hidden_posts_pk", ["post_id", "actor_id"])
    .execute();
}
