import type { Db } from "../../db/schema.ts";
import { findActorById } from "../actors/remote.ts";

/** Local communities whose name or handle contains `q` (case-insensitive), public first. */
export async function searchCommunities(db: Db, q: string, limit = 20) {
  // Wildcards are dropped rather than escaped: SQLite's LIKE has no default escape character.
  const pattern = `%${q.toLowerCase().replace(/[%_\\]/g, "")}%`;
  return db
    .selectFrom("communities")
    .innerJoin("actors", "actors.id", "communities.actor_id")
    .select(["actors.username as slug", "actors.name", "communities.visibility"])
    .where((eb) =>
      eb.or([eb(eb.fn("lower", ["actors.name"]), "like", eb.val(pattern)), eb("actors.username_key", "like", pattern)]),
    )
    .where("actors.deleted_at", "is", null)
    .orderBy("actors.username_key")
    .limit(limit)
    .execute();
}

/** The page of a stored remote actor: `/@name@host`. */
export async function remoteActorPath(db: Db, actorId: string): Promise<string | null> {
  const a = await findActorById(db, actorId);
  return a ? `/@${a.username}@${a.host}` : null;
}
