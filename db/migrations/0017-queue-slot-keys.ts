import type { Kysely } from "kysely";

// Per-host delivery limits (issue 14): a queued delivery carries the host it
// goes to, so a worker's claim can pass over the messages of a host that
// already has its share of requests in flight, in the same statement.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("fedify_queue").addColumn("slot_key", "text").execute();
}
