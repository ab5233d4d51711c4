import type { Kysely } from "kysely";
import { sql } from "kysely";

// Moderation (issue 11): reports from members, visitors and other servers,
// the moderation log with what each action needs to be federated and undone,
// appeals, and the notification store that tells people about all of it.
export async function up(db: Kysely<any>): Promise<void> {
  // Nothing wrote `reports` before this migration (Flags were dropped, there
  // was no report form), so the table is made again in its new shape: a
  // visitor's report has no reporter, and one report may name several posts.
  await db.schema.dropTable("reports").execute();
  await db.schema
    .createTable("reports")
    .addColumn("id", "text", (c) => c.primaryKey())
    // Our Flag's IRI, or the Flag's id on the server that sent it.
    .addColumn("iri", "text", (c) => c.unique())
    .addColumn("reporter_id", "text", (c) => c.references("actors.id").onDelete("set null"))
    // A logged-out visitor's optional address for the outcome (DSA Art. 16); never shown to the reported person.
    .addColumn("reporter_contact", "text")
    .addColumn("community_id", "text", (c) => c.references("actors.id").onDelete("cascade"))
    .addColumn("target_actor_id", "text", (c) => c.references("actors.id").onDelete("set null"))
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("comment", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("forward", "integer", (c) => c.notNull().defaultTo(0))
    // 1 when it arrived as a Flag from another server.
    .addColumn("remote", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("status", "text", (c) => c.notNull().defaultTo("open"))
    .addColumn("resolution_note", "text")
    .addColumn("resolved_by", "text", (c) => c.references("actors.id").onDelete("set null"))
    .addColumn("resolved_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("reports_queue").on("reports").columns(["status", "community_id", "id"]).execute();
  await db.schema
    .createTable("report_posts")
    .addColumn("report_id", "text", (c) => c.notNull().references("reports.id").onDelete("cascade"))
    .addColumn("post_id", "text", (c) => c.notNull().references("posts.id").onDelete("cascade"))
    .addPrimaryKeyConstraint("report_posts_pk", ["report_id", "post_id"])
    .execute();
  await db.schema.createIndex("report_posts_post").on("report_posts").column("post_id").execute();

  // Who acted: a moderator, an instance admin (the CLI has no person: moderator_id stays null), or the community.
  await db.schema
    .alterTable("moderation_actions")
    .addColumn("by_role", "text", (c) => c.notNull().defaultTo("moderator"))
    .execute();
  // The activity that carried the action (ours or the remote one): an Undo names it.
  await db.schema.alterTable("moderation_actions").addColumn("activity_iri", "text").execute();
  await db.schema.alterTable("moderation_actions").addColumn("expires_at", "text").execute();
  // The action this one reverses (a restore, an unban, an appeal granted); and the one that reversed it.
  await db.schema.alterTable("moderation_actions").addColumn("reverses_id", "text").execute();
  await db.schema.alterTable("moderation_actions").addColumn("reversed_at", "text").execute();
  await db.schema.alterTable("moderation_actions").addColumn("report_id", "text").execute();
  // 1 when it was received from another server.
  await db.schema
    .alterTable("moderation_actions")
    .addColumn("remote", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  // Received actions are applied once, looked up by the activity that carried them.
  await db.schema.createIndex("moderation_actions_activity").on("moderation_actions").column("activity_iri").execute();
  await db.schema
    .createIndex("moderation_actions_target")
    .on("moderation_actions")
    .columns(["target_actor_id", "id"])
    .execute();

  // lemmy#1580: a community may keep its moderators' names from non-moderators in its log.
  await db.schema
    .alterTable("communities")
    .addColumn("hide_modlog_names", "integer", (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable("appeals")
    .addColumn("id", "text", (c) => c.primaryKey())
    // Once per action.
    .addColumn("action_id", "text", (c) => c.notNull().unique().references("moderation_actions.id").onDelete("cascade"))
    .addColumn("appellant_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("community_id", "text", (c) => c.references("actors.id").onDelete("cascade"))
    .addColumn("text", "text", (c) => c.notNull())
    // open (with the moderators) → escalated (moderators upheld it; with the admins) → granted | denied.
    .addColumn("status", "text", (c) => c.notNull().defaultTo("open"))
    .addColumn("moderator_note", "text")
    .addColumn("admin_note", "text")
    .addColumn("decided_by", "text", (c) => c.references("actors.id").onDelete("set null"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("escalated_at", "text")
    .addColumn("decided_at", "text")
    .execute();
  await db.schema.createIndex("appeals_queue").on("appeals").columns(["status", "community_id", "id"]).execute();

  await db.schema
    .createTable("notifications")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    // Who or what it is about; any may be null.
    .addColumn("actor_id", "text", (c) => c.references("actors.id").onDelete("cascade"))
    .addColumn("post_id", "text", (c) => c.references("posts.id").onDelete("cascade"))
    .addColumn("community_id", "text", (c) => c.references("actors.id").onDelete("cascade"))
    .addColumn("report_id", "text", (c) => c.references("reports.id").onDelete("cascade"))
    .addColumn("action_id", "text", (c) => c.references("moderation_actions.id").onDelete("cascade"))
    .addColumn("appeal_id", "text", (c) => c.references("appeals.id").onDelete("cascade"))
    .addColumn("read_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("notifications_user").on("notifications").columns(["user_id", "id"]).execute();
  await db.schema
    .createIndex("notifications_unread")
    .on("notifications")
    .columns(["user_id"])
    .where(sql.ref("read_at"), "is", null)
    .execute();
}
