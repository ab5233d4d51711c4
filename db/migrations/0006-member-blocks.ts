import type { Kysely } from "kysely";

// A member's own filters: mute or block a person, or block a whole server.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("member_filters")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("target_actor_id", "text", (c) => c.references("actors.id").onDelete("cascade"))
    .addColumn("target_domain", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("member_filters_user").on("member_filters").columns(["user_id", "kind"]).execute();
}
