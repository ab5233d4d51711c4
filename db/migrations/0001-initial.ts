import type { Kysely } from "kysely";

// Only portable column types (text, integer) so the same migration runs on
// SQLite and PostgreSQL; see db/schema.ts for the conventions.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("instance_settings")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("actors")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("iri", "text", (c) => c.notNull().unique())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("username", "text", (c) => c.notNull())
    .addColumn("username_key", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("local", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("name", "text")
    .addColumn("summary_html", "text")
    .addColumn("url", "text")
    .addColumn("inbox_url", "text")
    .addColumn("shared_inbox_url", "text")
    .addColumn("outbox_url", "text")
    .addColumn("followers_url", "text")
    .addColumn("following_url", "text")
    .addColumn("featured_url", "text")
    .addColumn("avatar_url", "text")
    .addColumn("manually_approves_followers", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("discoverable", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("fetched_at", "text")
    .addColumn("deleted_at", "text")
    .addUniqueConstraint("actors_host_username_key", ["host", "username_key"])
    .execute();
  await db.schema.createIndex("actors_local_type").on("actors").columns(["local", "type"]).execute();

  await db.schema
    .createTable("users")
    .addColumn("actor_id", "text", (c) => c.primaryKey().references("actors.id").onDelete("cascade"))
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("email", "text")
    .addColumn("role", "text", (c) => c.notNull().defaultTo("member"))
    .addColumn("is_clinician", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("bio_source", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("communities")
    .addColumn("actor_id", "text", (c) => c.primaryKey().references("actors.id").onDelete("cascade"))
    .addColumn("description_source", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("rules_source", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("rules_html", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("visibility", "text", (c) => c.notNull().defaultTo("public"))
    .addColumn("join_policy", "text", (c) => c.notNull().defaultTo("open"))
    .addColumn("federation", "text", (c) => c.notNull().defaultTo("federated"))
    .addColumn("retention_days", "integer")
    .addColumn("created_by", "text", (c) => c.references("actors.id").onDelete("set null"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("community_moderators")
    .addColumn("community_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("actor_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("community_moderators_pk", ["community_id", "actor_id"])
    .execute();

  await db.schema
    .createTable("follows")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("iri", "text", (c) => c.notNull().unique())
    .addColumn("follower_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("followee_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("accepted_at", "text")
    .addUniqueConstraint("follows_pair", ["follower_id", "followee_id"])
    .execute();
  await db.schema.createIndex("follows_followee").on("follows").columns(["followee_id", "status"]).execute();

  await db.schema
    .createTable("posts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("iri", "text", (c) => c.notNull().unique())
    .addColumn("url", "text")
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("author_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("community_id", "text", (c) => c.references("actors.id").onDelete("cascade"))
    .addColumn("parent_id", "text", (c) => c.references("posts.id").onDelete("set null"))
    .addColumn("thread_id", "text", (c) => c.notNull())
    .addColumn("title", "text")
    .addColumn("source", "text")
    .addColumn("content_html", "text", (c) => c.notNull())
    .addColumn("summary", "text")
    .addColumn("sensitive", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("audience", "text", (c) => c.notNull().defaultTo("public"))
    .addColumn("language", "text")
    .addColumn("local", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("published_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text")
    .addColumn("deleted_at", "text")
    .addColumn("removed_at", "text")
    .addColumn("removed_by", "text")
    .addColumn("locked", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("pinned_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("posts_community_threads")
    .on("posts")
    .columns(["community_id", "parent_id", "id"])
    .execute();
  await db.schema.createIndex("posts_thread").on("posts").columns(["thread_id", "id"]).execute();
  await db.schema.createIndex("posts_author").on("posts").columns(["author_id", "id"]).execute();
  await db.schema.createIndex("posts_parent").on("posts").column("parent_id").execute();

  for (const [table, column] of [
    ["post_tags", "tag"],
    ["post_mentions", "actor_id"],
    ["post_recipients", "actor_id"],
  ] as const) {
    await db.schema
      .createTable(table)
      .addColumn("post_id", "text", (c) => c.notNull().references("posts.id").onDelete("cascade"))
      .addColumn(column, "text", (c) =>
        column === "tag" ? c.notNull() : c.notNull().references("actors.id").onDelete("cascade"),
      )
      .addPrimaryKeyConstraint(`${table}_pk`, ["post_id", column])
      .execute();
    await db.schema.createIndex(`${table}_by_${column}`).on(table).column(column).execute();
  }

  await db.schema
    .createTable("likes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("iri", "text", (c) => c.notNull().unique())
    .addColumn("post_id", "text", (c) => c.notNull().references("posts.id").onDelete("cascade"))
    .addColumn("actor_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("likes_post_actor", ["post_id", "actor_id"])
    .execute();
  await db.schema.createIndex("likes_actor").on("likes").column("actor_id").execute();

  await db.schema
    .createTable("sessions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.actor_id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("last_seen_at", "text", (c) => c.notNull())
    .addColumn("user_agent", "text")
    .execute();
  await db.schema.createIndex("sessions_user").on("sessions").column("user_id").execute();

  await db.schema
    .createTable("rate_limits")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("window_start", "text", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("actor_keys")
    .addColumn("actor_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("private_jwk", "text", (c) => c.notNull())
    .addColumn("public_jwk", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("actor_keys_pk", ["actor_id", "kind"])
    .execute();

  // No foreign key to actors: the ledger must outlive the erased actor's rows
  // until the erasure receipt is complete.
  await db.schema
    .createTable("deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("actor_id", "text", (c) => c.notNull())
    .addColumn("activity_iri", "text", (c) => c.notNull())
    .addColumn("object_iri", "text")
    .addColumn("inbox_url", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("delivered_at", "text")
    .execute();
  await db.schema.createIndex("deliveries_actor").on("deliveries").columns(["actor_id", "object_iri"]).execute();
  await db.schema
    .createIndex("deliveries_activity_inbox")
    .on("deliveries")
    .columns(["activity_iri", "inbox_url"])
    .unique()
    .execute();

  await db.schema
    .createTable("moderation_actions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("community_id", "text", (c) => c.references("actors.id").onDelete("cascade"))
    .addColumn("moderator_id", "text", (c) => c.references("actors.id").onDelete("set null"))
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target_post_id", "text", (c) => c.references("posts.id").onDelete("set null"))
    .addColumn("target_actor_id", "text", (c) => c.references("actors.id").onDelete("set null"))
    .addColumn("reason", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("moderation_actions_community")
    .on("moderation_actions")
    .columns(["community_id", "id"])
    .execute();

  await db.schema
    .createTable("reports")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("iri", "text", (c) => c.unique())
    .addColumn("reporter_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("community_id", "text", (c) => c.references("actors.id").onDelete("cascade"))
    .addColumn("target_post_id", "text", (c) => c.references("posts.id").onDelete("set null"))
    .addColumn("target_actor_id", "text", (c) => c.references("actors.id").onDelete("set null"))
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().defaultTo("open"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("resolved_at", "text")
    .addColumn("resolved_by", "text")
    .execute();

  await db.schema
    .createTable("community_bans")
    .addColumn("community_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("actor_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("banned_by", "text")
    .addColumn("reason", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addPrimaryKeyConstraint("community_bans_pk", ["community_id", "actor_id"])
    .execute();

  await db.schema
    .createTable("fedify_kv")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .execute();

  await db.schema
    .createTable("fedify_queue")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("ordering_key", "text")
    .addColumn("available_at", "text", (c) => c.notNull())
    .addColumn("lease_until", "text")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("fedify_queue_available").on("fedify_queue").columns(["available_at", "id"]).execute();
}
