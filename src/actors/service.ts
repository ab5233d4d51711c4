import type { Db } from "../../db/schema.ts";

/** A local user or community by its name, with what its actor document needs. */
export async function findLocalActor(db: Db, usernameKey: string) {
  return db
    .selectFrom("actors")
    .leftJoin("users", "users.actor_id", "actors.id")
    .leftJoin("communities", "communities.actor_id", "actors.id")
    .selectAll("actors")
    .select([
      "users.is_clinician as isClinician", "users.role",
      "communities.visibility", "communities.join_policy as joinPolicy", "communities.federation",
    ])
    .where("actors.username_key", "=", usernameKey.toLowerCase())
    .where("actors.local", "=", 1)
    .where("actors.deleted_at", "is", null)
    .executeTakeFirst();
}

export async function countLocalUsers(db: Db, activeSinceIso?: string): Promise<number> {
  let q = db.selectFrom("users").select((eb) => eb.fn.countAll<string | number>().as("n"));
  if (activeSinceIso) {
    q = q.where((eb) => eb.exists(eb.selectFrom("posts").select("posts.id").whereRef("posts.author_id", "=", "users.actor_id").where("posts.created_at", ">=", activeSinceIso)));
  }
  return Number((await q.executeTakeFirstOrThrow()).n);
}

export async function countLocalPosts(db: Db): Promise<{ threads: number; replies: number }> {
  const row = await db
    .selectFrom("posts")
    .select((eb) => [
      eb.fn.countAll<string | number>().as("all"),
      eb.fn.count<string | number>("parent_id").as("replies"),
    ])
    .where("local", "=", 1)
    .where("deleted_at", "is", null)
    .executeTakeFirstOrThrow();
  const replies = Number(row.replies);
  return { threads: Number(row.all) - replies, replies };
}
