import type { Db } from "../../db/schema.ts";

/** A local user or community by its name, with what its actor document needs. */
export async function findLocalActor(db: Db, usernameKey: string) {
  return db
    .selectFrom("actors")
    .leftJoin("users", "users.actor_id", "actors.id")
    .leftJoin("communities", "communities.actor_id", "actors.id")
    .leftJoin("clinician_badges as badge", "badge.user_id", "actors.id")
    .selectAll("actors")
    .select([
      "users.is_clinician as isClinician",
      "badge.profession as clinicianProfession",
      "badge.registration as clinicianRegistration",
      "users.role",
      "communities.visibility",
      "communities.join_policy as joinPolicy",
      "communities.federation",
    ])
    .where("actors.username_key", "=", usernameKey.toLowerCase())
    .where("actors.local", "=", 1)
    .where("actors.deleted_at", "is", null)
    .executeTakeFirst();
}

/**
 * An erased member whose `Delete`s are still on their way: their keys are kept
 * until then, so other servers can check the signatures.
 */
export async function findErasingActor(db: Db, usernameKey: string) {
  return db
    .selectFrom("actors")
    .select(["actors.id", "actors.username", "actors.type"])
    .where("actors.username_key", "=", usernameKey.toLowerCase())
    .where("actors.local", "=", 1)
    .where("actors.deleted_at", "is not", null)
    .where((eb) =>
      eb.exists(
        eb.selectFrom("actor_keys").select("actor_keys.actor_id").whereRef("actor_keys.actor_id", "=", "actors.id"),
      ),
    )
    .executeTakeFirst();
}

export async function countLocalUsers(db: Db, activeSinceIso?: string): Promise<number> {
  let q = db.selectFrom("users").select((eb) => eb.fn.countAll<string | number>().as("n"));
  if (activeSinceIso) {
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom("posts")
          .select("posts.id")
          .whereRef("posts.author_id", "=", "users.actor_id")
          .where("posts.created_at", ">=", activeSinceIso),
      ),
    );
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

/** Local actors a local actor follows, for the `following` collection. */
export async function followingOf(db: Db, actorId: string) {
  return db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.followee_id")
    .select("actors.iri")
    .where("follows.follower_id", "=", actorId)
    .where("follows.status", "=", "accepted")
    .orderBy("follows.id")
    .execute();
}

export async function followerCount(db: Db, actorId: string): Promise<number> {
  const row = await db
    .selectFrom("follows")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("followee_id", "=", actorId)
    .where("status", "=", "accepted")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Public, live posts by a local actor (or in a local community), newest first, for outboxes and featured lists. */
export async function publicPostIds(
  db: Db,
  filter: { authorId?: string; communityId?: string; pinnedOnly?: boolean },
  limit = 20,
) {
  let q = db
    .selectFrom("posts")
    .select("id")
    .where("local", "=", 1)
    .where("audience", "=", "public")
    .where("deleted_at", "is", null)
    .where("removed_at", "is", null)
    // Nothing from local-only communities leaves the instance.
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("communities as c")
            .select("c.actor_id")
            .whereRef("c.actor_id", "=", "posts.community_id")
            .where("c.federation", "=", "local"),
        ),
      ),
    )
    .orderBy("id", "desc")
    .limit(limit);
  if (filter.authorId) q = q.where("author_id", "=", filter.authorId);
  if (filter.communityId) q = q.where("community_id", "=", filter.communityId).where("parent_id", "is", null);
  if (filter.pinnedOnly) q = q.where("pinned_at", "is not", null);
  return (await q.execute()).map((r) => r.id);
}

/** Actors named by mentions that we know: local ones by name, remote ones by `name@host` (fetched earlier). */
export async function mentionedActorIds(
  db: Db,
  localHost: string,
  refs: { username: string; host: string | null }[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const host = ref.host ?? localHost;
    const row = await db
      .selectFrom("actors")
      .select("id")
      .where("username_key", "=", ref.username.toLowerCase())
      .where("host", "=", host)
      .where("deleted_at", "is", null)
      .where("type", "in", ["Person", "Group"])
      .executeTakeFirst();
    if (row) ids.push(row.id);
  }
  return [...new Set(ids)];
}
