import type { Kysely } from "kysely";

// Account sanctions and password resets (issue 13, item 5). An admin may
// suspend or limit one account, local or remote, as Mastodon does; the
// moderation log holds why (statement of reasons, appeals), the actor row only
// the current state, which every read of posts and every inbox delivery checks.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("actors").addColumn("suspended_at", "text").execute();
  // Limited (Mastodon's "silenced"): out of public listings, and their follows need approval.
  await db.schema.alterTable("actors").addColumn("limited_at", "text").execute();
  await db.schema
    .createTable("password_resets")
    // SHA-256 of the emailed token: a leaked database does not leak live links.
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.actor_id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("used_at", "text")
    .execute();
  await db.schema.createIndex("password_resets_user").on("password_resets").column("user_id").execute();
}
