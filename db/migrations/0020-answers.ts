import type { Kysely } from "kysely";

// Verified clinicians and marked answers (issue 13, item 3): the badge's
// profession and registration reference, threads marked as questions, and the
// replies marked as accepted or "clinician" answers. Post and user ids carry
// no foreign keys, so erasure can remove posts and users in its own order;
// these rows go with them (src/erasure), and readers join through posts.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("clinician_badges")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("profession", "text", (c) => c.notNull())
    .addColumn("registration", "text")
    .addColumn("verified_by", "text")
    .addColumn("verified_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("questions")
    .addColumn("post_id", "text", (c) => c.primaryKey())
    .addColumn("created_at", "text", (c) => c.notNull())
    // A remote question's marks as its server published them (JSON of reply IRIs), for replies that arrive later.
    .addColumn("published_marks", "text")
    .execute();
  await db.schema
    .createTable("answer_marks")
    .addColumn("post_id", "text", (c) => c.notNull())
    .addColumn("thread_id", "text", (c) => c.notNull())
    // "accepted" (by the asker or a moderator) or "clinician" (by a moderator, on a verified clinician's reply).
    .addColumn("kind", "text", (c) => c.notNull())
    // Null for marks received from the thread's origin server.
    .addColumn("marked_by", "text")
    .addColumn("marked_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("answer_marks_pk", ["post_id", "kind"])
    .execute();
  // Badges given before professions were recorded keep showing, with a generic profession an admin can edit.
  const ts = new Date().toISOString();
  const holders = await db.selectFrom("users").select("actor_id").where("is_clinician", "=", 1).execute();
  for (const h of holders)
    await db
      .insertInto("clinician_badges")
      .values({ user_id: h.actor_id, profession: "Clinician", registration: null, verified_by: null, verified_at: ts })
      .execute();
  await db.schema.createIndex("answer_marks_thread").on("answer_marks").columns(["thread_id", "kind"]).execute();
}
