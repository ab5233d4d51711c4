// What sanctions hide from readers, as conditions on a post query (the author
// joined as `author`): suspended accounts' posts from everyone but themselves,
// limited accounts' posts from public listings unless the reader follows them.
import type { ExpressionBuilder } from "kysely";
import type { Database, Db } from "../../db/schema.ts";

type PostEb = ExpressionBuilder<Database & { author: Database["actors"] }, "posts" | "author">;

/** Nothing of a suspended account is shown (its own holder sees only their suspension page anyway). */
export const notSuspendedFor = (viewerId: string | undefined) => (eb: PostEb) =>
  viewerId
    ? eb.or([eb("author.suspended_at", "is", null), eb("posts.author_id", "=", viewerId)])
    : eb("author.suspended_at", "is", null);

/** Mastodon's "limited": out of listings, except for the author's followers (and the author). */
export const notLimitedFor = (viewerId: string | undefined) => (eb: PostEb) =>
  viewerId
    ? eb.or([
        eb("author.limited_at", "is", null),
        eb("posts.author_id", "=", viewerId),
        eb.exists(
          eb
            .selectFrom("follows as lf")
            .select("lf.id")
            .where("lf.follower_id", "=", viewerId)
            .whereRef("lf.followee_id", "=", "posts.author_id")
            .where("lf.status", "=", "accepted"),
        ),
      ])
    : eb("author.limited_at", "is", null);

/** Whether the actor is limited: a follow they ask for needs approval (Mastodon turns it into a request). */
export async function isLimited(db: Db, actorId: string): Promise<boolean> {
  const row = await db.selectFrom("actors").select("limited_at").where("id", "=", actorId).executeTakeFirst();
  return (row?.limited_at ?? null) !== null;
}
