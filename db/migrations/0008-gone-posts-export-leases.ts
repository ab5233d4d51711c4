import type { Kysely } from "kysely";

// Data-rights loose ends found by real peers.
// - `gone_posts`: local posts an erasure removed outright (not left as a
//   tombstone row). Their IRIs keep answering `410 Gone`, which is what makes
//   NodeBB hard-delete its copy on a `Delete`. Only the id and the kind of
//   object: nothing anyone wrote, nor who wrote it.
// - `exports.runner` and `exports.lease_until`: which process builds an
//   archive and until when it has vouched for itself, so an archive left
//   "running" by a process that died is settled when a worker starts.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("gone_posts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("gone_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.alterTable("exports").addColumn("runner", "text").execute();
  await db.schema.alterTable("exports").addColumn("lease_until", "text").execute();
}
