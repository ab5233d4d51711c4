import type { Kysely } from "kysely";

// A community may name the only servers it federates with (one domain per
// line; empty means any server the instance federates with).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("communities")
    .addColumn("allowed_servers", "text", (c) => c.notNull().defaultTo(""))
    .execute();
}
