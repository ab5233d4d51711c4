import type { Kysely } from "kysely";

// Data rights (GDPR Art. 15, 17, 20): export archives, erasures with their
// receipts, and whether a community lets leaving members anonymize instead.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("exports")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("actors.id").onDelete("cascade"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("progress", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("total", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("file_name", "text")
    .addColumn("size_bytes", "integer")
    .addColumn("error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .addColumn("expires_at", "text")
    .execute();
  await db.schema.createIndex("exports_user").on("exports").columns(["user_id", "created_at"]).execute();

  // No foreign key to actors: a receipt outlives everything else of the person.
  // It holds the handle and nothing more personal.
  await db.schema
    .createTable("erasures")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("actor_id", "text", (c) => c.notNull())
    .addColumn("handle", "text", (c) => c.notNull())
    /** SHA-256 of the receipt page's secret token. */
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("mode", "text", (c) => c.notNull())
    /** The `Delete` of the actor, as sent. */
    .addColumn("activity_iri", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    /** Set once the outbox has handed every `Delete` to the delivery queue. */
    .addColumn("sent_at", "text")
    /** Set once every delivery was made or given up; the actor's keys are destroyed then. */
    .addColumn("completed_at", "text")
    .execute();
  await db.schema.createIndex("erasures_actor").on("erasures").column("actor_id").execute();

  await db.schema
    .alterTable("communities")
    .addColumn("allow_anonymize", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}
