import type { Kysely } from "kysely";

// Instance-level federation policy, with Mastodon's semantics and CSV columns.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("domain_blocks")
    .addColumn("domain", "text", (c) => c.primaryKey())
    .addColumn("severity", "text", (c) => c.notNull())
    .addColumn("reject_media", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("reject_reports", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("public_comment", "text")
    .addColumn("private_comment", "text")
    .addColumn("obfuscate", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("domain_allows")
    .addColumn("domain", "text", (c) => c.primaryKey())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("actors_host").on("actors").column("host").execute();
}
