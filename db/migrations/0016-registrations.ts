import type { Kysely } from "kysely";

// Controlled registrations (issue 13): applications waiting for an admin,
// invite links, and when a member accepted the rules and privacy notice.
export async function up(db: Kysely<any>): Promise<void> {
  // The account is only created when an admin approves: until then nothing of
  // the applicant is visible anywhere, federated or not.
  await db.schema
    .createTable("registration_applications")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("username", "text", (c) => c.notNull())
    .addColumn("username_key", "text", (c) => c.notNull().unique())
    .addColumn("email", "text")
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("answer", "text", (c) => c.notNull())
    .addColumn("agreed_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("invites")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("code", "text", (c) => c.notNull().unique())
    // The admin who made it; null when made at the command line.
    .addColumn("created_by", "text", (c) => c.references("actors.id"))
    .addColumn("max_uses", "integer")
    .addColumn("uses", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("expires_at", "text")
    .addColumn("revoked_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.alterTable("users").addColumn("agreed_at", "text").execute();
  await db.schema.alterTable("users").addColumn("invite_id", "text").execute();
}
