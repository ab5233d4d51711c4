import type { Kysely } from "kysely";

// Account recovery without email (issue 13): patients often sign up under a
// pseudonym with no address, so one-time recovery codes stand in for it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("recovery_codes")
    .addColumn("user_id", "text", (c) => c.notNull().references("users.actor_id"))
    // SHA-256 of the code: codes carry 80 random bits, so a slow hash adds nothing.
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("used_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("recovery_codes_pk", ["user_id", "code_hash"])
    .execute();
}
