import type { Kysely } from "kysely";

// Email digests of unread notifications (issue 12). A member who chose a
// digest has one row; Off is no row. The row goes with the account (erasure
// deletes the users row). `next_due_at` doubles as the claim: a worker takes a
// due digest by moving it forward with a conditional UPDATE before sending.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("email_digests")
    .addColumn("user_id", "text", (c) => c.primaryKey().references("users.actor_id").onDelete("cascade"))
    .addColumn("frequency", "text", (c) => c.notNull())
    .addColumn("unsubscribe_token", "text", (c) => c.notNull().unique())
    .addColumn("covered_until", "text", (c) => c.notNull())
    .addColumn("last_sent_at", "text")
    .addColumn("next_due_at", "text", (c) => c.notNull())
    .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("email_digests_due").on("email_digests").column("next_due_at").execute();
}
