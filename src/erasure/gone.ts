// What the IRI of a local post an erasure removed outright answers: `410
// Gone` with a `Tombstone`, like a post deleted in place. NodeBB hard-deletes
// its copy only on a `Delete` whose object is a bare IRI that answers 410, so
// a post's IRI must never fall back to 404 once the row is gone. Only the id
// and the kind of object are kept: nothing anyone wrote, nor who wrote it.
import type { Db } from "../../db/schema.ts";

/** The kind of object a local post removed outright was, if `id` is one. */
export async function gonePost(db: Db, id: string): Promise<{ type: "Page" | "Note" } | undefined> {
  return db.selectFrom("gone_posts").select("type").where("id", "=", id).executeTakeFirst();
}
