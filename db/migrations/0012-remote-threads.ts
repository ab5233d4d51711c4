import type { Kysely } from "kysely";

// What backfilling remote threads and communities keeps (issue 12): when each
// was last read from its origin, so opening a page never fetches it more than
// once every few minutes however many people open it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("remote_refreshes")
    // A remote community's actor id or a remote thread's post id (either table, so no foreign key).
    .addColumn("subject_id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("refreshed_at", "text", (c) => c.notNull())
    .execute();
}
