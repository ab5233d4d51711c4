// What the IRI of a local post an erasure removed outright answers: `410
// Gone` with a `Tombstone`, like a post deleted in place. NodeBB hard-deletes
// its copy only on a `Delete` whose object is a bare IRI that answers 410, so
// a post's IRI must never fall back to 404 once the row is gone. Only the id
// and the kind of object are kept: nothing anyone wrote, nor who wrote it.
import type { Db } from "../../db/schema.ts";

/** Notes `actorId`'s local posts as gone, before their rows go (in the erasure's transaction). */
export async function recordGonePosts(db: Db, actorId: string, ts: string): Promise<void> {
  await db
    .insertInto("gone_posts")
    .columns(["id", "type", "gone_at"])
    .expression((eb) =>
      eb
        .selectFrom("posts")
        .select((s) => ["posts.id", "posts.type", s.val(ts).as("gone_at")])
        .where("posts.author_id", "=", actorId)
        .where("posts.local", "=", 1)
        .where("posts.type", "in", ["Page", "Note"]),
    )
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
}

/** Of the posts just noted, those whose tombstone rows stayed (others replied to them): their rows answer. */
export async function forgetKeptPosts(db: Db, actorId: string): Promise<void> {
  await db
    .deleteFrom("gone_posts")
    .where("id", "in", db.selectFrom("posts").select("id").where("author_id", "=", actorId))
    .execute();
}

/** The kind of object a local post removed outright was, if `id` is one. */
export async function gonePost(db: Db, id: string): Promise<{ type: "Page" | "Note" } | undefined> {
  return db.selectFrom("gone_posts").select("type").where("id", "=", id).executeTakeFirst();
}
