// Like counts of remote posts (issue 12). A remote post's likes are mostly
// given elsewhere; its origin publishes how many (Mastodon, Pleroma, Kindred:
// `likes.totalItems`; Lemmy publishes none). We keep, per post, the origin's
// likes we did not hold when we read it, and show our likes plus those:
// - no like counts twice: our members' likes reach the origin and are in its
//   count, but they are subtracted as held when it is read;
// - a like given here after the read shows at once (it adds to ours), and a
//   like withdrawn here drops at once;
// - at the next read the origin's count takes in what changed in between.
// Showing max(our likes, the origin's count) would hide a like given here
// until the next read; otherwise it is the same number.
import { sql } from "kysely";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { now } from "../ids.ts";

/** Beyond any real count on a patient forum's thread; a larger claim is taken as this. */
const MAX_REMOTE_LIKES = 100_000;

/**
 * A post's likes as pages show and sort them (`posts` in scope): the likes here plus the origin's others.
 * In our own communities every like reaches us (the community is where they are sent), so there only our
 * count holds: a remote author's server can't lift its member's thread to the top of ours by claiming likes.
 */
export const likeCount = sql<string | number>`((select count(*) from likes l where l.post_id = posts.id)
  + coalesce((select rc.likes_elsewhere from remote_counts rc where rc.post_id = posts.id
    and not exists (select 1 from communities lc where lc.actor_id = posts.community_id)), 0))`;

/**
 * Records the like count a remote post's origin publishes. The caller vouches
 * that the count came from the post's own origin (federation/remote-counts.ts);
 * local posts are ours to count and are left alone.
 */
export async function recordRemoteLikes(db: Db, postIri: string, total: number): Promise<void> {
  if (!Number.isSafeInteger(total) || total < 0) return;
  const likes = Math.min(total, MAX_REMOTE_LIKES);
  await inTransaction(db, async (trx) => {
    const post = await trx
      .selectFrom("posts")
      .select("id")
      .where("iri", "=", postIri)
      .where("local", "=", 0)
      .executeTakeFirst();
    if (!post) return;
    const held = await trx
      .selectFrom("likes")
      .select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("post_id", "=", post.id)
      .executeTakeFirstOrThrow();
    const values = { likes, likes_elsewhere: Math.max(0, likes - Number(held.n)), counted_at: now() };
    await trx
      .insertInto("remote_counts")
      .values({ post_id: post.id, ...values })
      .onConflict((oc) => oc.column("post_id").doUpdateSet(values))
      .execute();
  });
}
