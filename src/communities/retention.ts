// Retention: a community may keep threads for a set number of days. Older
// threads (the opening post and every reply) become tombstones, and their
// deletion is federated like any other: by the author where they are ours,
// by the community otherwise (as a Lemmy moderator's removal).
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { recordEvent } from "../events.ts";
import { now } from "../ids.ts";
import { tombstonePosts } from "../posts/tombstone.ts";

const BATCH = 200;

/** Deletes expired threads in every community with a retention period; returns how many threads went. */
export async function applyRetention(db: Db, at: Date = new Date()): Promise<number> {
  const communities = await db
    .selectFrom("communities")
    .select(["actor_id", "retention_days"])
    .where("retention_days", "is not", null)
    .execute();
  let expired = 0;
  for (const c of communities) {
    if (c.retention_days === null) continue;
    const cutoff = new Date(at.getTime() - c.retention_days * 86_400_000).toISOString();
    for (;;) {
      const threads = await db
        .selectFrom("posts")
        .select("id")
        .where("community_id", "=", c.actor_id)
        .where("parent_id", "is", null)
        .where("published_at", "<", cutoff)
        // A thread is done with once its opening post and every reply are tombstones.
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom("posts as p")
              .select("p.id")
              .whereRef("p.thread_id", "=", "posts.id")
              .where("p.deleted_at", "is", null),
          ),
        )
        .orderBy("published_at")
        .limit(BATCH)
        .execute();
      for (const t of threads) await expireThread(db, c.actor_id, t.id);
      expired += threads.length;
      if (threads.length < BATCH) break;
    }
  }
  return expired;
}

async function expireThread(db: Db, communityId: string, threadId: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const posts = await trx
      .selectFrom("posts")
      .innerJoin("actors", "actors.id", "posts.author_id")
      .select(["posts.id", "posts.author_id", "actors.local"])
      .where("posts.thread_id", "=", threadId)
      .where("posts.deleted_at", "is", null)
      .execute();
    const ts = now();
    const ids = posts.map((p) => p.id);
    if (ids.length === 0) return;
    await tombstonePosts(trx, ids, ts);
    for (const p of posts)
      await recordEvent(trx, {
        type: "post.deleted",
        postId: p.id,
        byActorId: p.local === 1 ? p.author_id : communityId,
      });
  });
}
