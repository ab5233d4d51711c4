import type { Kysely } from "kysely";

// Content-warning categories per community (issue 13): defined by its
// moderators, possibly required, chosen in the composer, and each member's
// choice per category (expand, collapse, hide); the crisis resources' per-community parts.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("warning_categories")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("community_id", "text", (c) => c.notNull().references("actors.id"))
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("label_key", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    // Shows the instance's crisis resources on every thread carrying it (issue 13, item 2).
    .addColumn("crisis", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("warning_categories_label_key", ["community_id", "label_key"])
    .execute();
  await db.schema
    .createTable("warning_preferences")
    .addColumn("user_id", "text", (c) => c.notNull().references("users.actor_id"))
    .addColumn("category_id", "text", (c) => c.notNull().references("warning_categories.id"))
    .addColumn("choice", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("warning_preferences_pk", ["user_id", "category_id"])
    .execute();
  // "never", "threads" (every thread must carry a category) or "all" (replies too).
  await db.schema
    .alterTable("communities")
    .addColumn("warning_required", "text", (c) => c.notNull().defaultTo("never"))
    .execute();
  await db.schema.alterTable("posts").addColumn("warning_category_id", "text").execute();
  // Crisis resources (issue 13, item 2): the community's own addition to the instance's notice, and
  // whether its moderators get a "self-harm risk" report when a post matches the crisis keywords.
  await db.schema
    .alterTable("communities")
    .addColumn("crisis_addition", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema
    .alterTable("communities")
    .addColumn("crisis_alert", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}
