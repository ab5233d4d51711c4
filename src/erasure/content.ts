// An erased member's posts go in short transactions of a few hundred posts
// each, after the transaction that erased the account (service.ts), and the
// delivery ledger's history of them in batches of a few thousand rows: one
// transaction over tens of thousands of posts (or millions of ledger rows)
// would hold SQLite's write lock for seconds, and every other writer, the
// server beside a CLI or the CLI beside a server, would time out. Each batch
// is whole (its posts are gone, with what hangs off them, and their IRIs
// answer 410); a crash between batches leaves the rest to the next run,
// which the outbox makes before it sends the erasure's Deletes (so a
// receiver fetching a post finds it gone).
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { now } from "../ids.ts";
import { tombstonePosts } from "../posts/tombstone.ts";

/** Posts per transaction. */
const BATCH = 400;
/** Ledger rows per statement. */
const LEDGER_BATCH = 5_000;

/**
 * Removes what is left of `actorId`'s posts: a post others replied to stays
 * as a tombstone with no text (shown as "deleted"), so the replies keep
 * their place in the thread; every other one goes. Returns how many batches ran.
 */
export async function removeErasedContent(db: Db, actorId: string): Promise<number> {
  let batches = 0;
  while (await inTransaction(db, (trx) => removeBatch(trx, actorId))) batches++;
  // Tombstones of theirs deleted before the erasure (nothing left to batch) may still say whom they named.
  const theirs = db.selectFrom("posts").select("id").where("author_id", "=", actorId);
  for (const table of ["post_mentions", "post_recipients", "hidden_posts"] as const)
    await db.deleteFrom(table).where("post_id", "in", theirs).execute();
  // The ledger's history of them (one row per post per server and Announce): older than the erasure, whose
  // own rows (the receipt) stay.
  const erasure = await db
    .selectFrom("erasures")
    .select("created_at")
    .where("actor_id", "=", actorId)
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  for (;;) {
    if (!erasure) break;
    const history = db
      .selectFrom("deliveries")
      .select("id")
      .where("actor_id", "=", actorId)
      .where("created_at", "<", erasure.created_at)
      .limit(LEDGER_BATCH);
    const removed = await db.deleteFrom("deliveries").where("id", "in", history).executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0) break;
  }
  return batches;
}

/** One batch; false when nothing was left to do. */
async function removeBatch(db: Db, actorId: string): Promise<boolean> {
  // Left to do: a post not yet emptied, or an emptied one nothing hangs off any more. Newest first, so a
  // reply of theirs goes before the post of theirs it answers.
  const ids = (
    await db
      .selectFrom("posts")
      .select("id")
      .where("author_id", "=", actorId)
      .where((eb) =>
        eb.or([
          eb("deleted_at", "is", null),
          eb("content_html", "!=", ""),
          eb.not(
            eb.exists(eb.selectFrom("posts as child").select("child.id").whereRef("child.parent_id", "=", "posts.id")),
          ),
        ]),
      )
      .orderBy("id", "desc")
      .limit(BATCH)
      .execute()
  ).map((r) => r.id);
  if (ids.length === 0) return false;
  const ts = now();
  // Their IRIs answer 410 Gone whether the row stays or not (gone.ts).
  await db
    .insertInto("gone_posts")
    .columns(["id", "type", "gone_at"])
    .expression((eb) =>
      eb
        .selectFrom("posts")
        .select((s) => ["posts.id", "posts.type", s.val(ts).as("gone_at")])
        .where("posts.id", "in", ids)
        .where("posts.local", "=", 1)
        .where("posts.type", "in", ["Page", "Note"]),
    )
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  await tombstonePosts(db, ids, ts);
  // Beyond the tombstone rule: whom they wrote to and whom they named are theirs too (the plan has the inboxes).
  for (const table of ["post_mentions", "post_recipients", "hidden_posts", "answer_marks", "questions"] as const) {
    await db.deleteFrom(table).where("post_id", "in", ids).execute();
  }
  // Leaves first: a tombstone goes once nothing hangs off it (bounded by the thread depth within the batch).
  for (;;) {
    const removed = await db
      .deleteFrom("posts")
      .where("id", "in", ids)
      .where((eb) =>
        eb.not(
          eb.exists(eb.selectFrom("posts as child").select("child.id").whereRef("child.parent_id", "=", "posts.id")),
        ),
      )
      .executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0) break;
  }
  // The tombstones that stayed answer with their own rows.
  await db
    .deleteFrom("gone_posts")
    .where("id", "in", db.selectFrom("posts").select("id").where("id", "in", ids))
    .execute();
  return true;
}
