import type { Kysely } from "kysely";

// Policy changes reach every process at once (issue 14, item 5). One row
// counts the changes to the domain policy (blocks, allow list, federation
// mode): every change bumps it in its own transaction, and each process
// compares it with the snapshot it holds before using that snapshot.
// An actor marked deleted by a domain suspension's purge names that block, so
// lifting the suspension revives it; an actor deleted by its own
// `Delete(Person)` has none and stays deleted.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("policy_version")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("version", "bigint", (c) => c.notNull())
    .execute();
  await db.insertInto("policy_version").values({ id: 1, version: 0 }).execute();
  await db.schema.alterTable("actors").addColumn("purged_by_block", "text").execute();
}
