import type { Kysely } from "kysely";

// One table, several queues: Fedify's messages and our domain events (written
// in the same transaction as the change they announce).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("fedify_queue")
    .addColumn("queue", "text", (c) => c.notNull().defaultTo("fedify"))
    .execute();
  await db.schema.dropIndex("fedify_queue_available").execute();
  await db.schema
    .createIndex("fedify_queue_channel_available")
    .on("fedify_queue")
    .columns(["queue", "available_at", "id"])
    .execute();
}
