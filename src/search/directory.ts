// Search by name: people, communities and hashtags (full-text search of posts is service.ts).
import type { Db } from "../../db/schema.ts";
import { findActorById } from "../actors/remote.ts";

// Wildcards are dropped rather than escaped: SQLite's LIKE has no default escape character.
const cleaned = (q: string) => q.toLowerCase().replace(/[%_\\]/g, "");
const contains = (q: string) => `%${cleaned(q)}%`;

/** Local communities whose name or handle contains `q` (case-insensitive). */
export async function searchCommunities(db: Db, q: string, limit = 20) {
  // Nothing left to look for (only wildcards): not a list of everything.
  if (!cleaned(q)) return [];
  const pattern = contains(q);
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

/**
 * People, local and remote ones we know, whose name or handle contains `q`.
 * Only those who let themselves be discovered (`discoverable`, as Mastodon's
 * directory): the search must not become a list of a community's members.
 */
export async function searchPeople(db: Db, q: string, limit = 20) {
  if (!cleaned(q.replace(/^@/, ""))) return [];
  const pattern = contains(q.replace(/^@/, ""));
  const rows = await db
    .selectFrom("actors")
    .select(["username", "host", "local", "name"])
    .where("type", "=", "Person")
    .where("discoverable", "=", 1)
    .where("deleted_at", "is", null)
    .where((eb) => eb.or([eb(eb.fn("lower", ["name"]), "like", eb.val(pattern)), eb("username_key", "like", pattern)]))
    .orderBy("local", "desc")
    .orderBy("username_key")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, local: r.local === 1 }));
}

/** Hashtags starting with `q` on public posts still shown, most used first. */
export async function searchHashtags(db: Db, q: string, limit = 20) {
  const prefix = q
    .replace(/^#/, "")
    .toLowerCase()
    .replace(/[%_\\]/g, "");
  if (!prefix) return [];
  const rows = await db
    .selectFrom("post_tags")
    .innerJoin("posts", "posts.id", "post_tags.post_id")
    .select((eb) => ["post_tags.tag", eb.fn.countAll<string | number>().as("uses")])
    .where("post_tags.tag", "like", `${prefix}%`)
    .where("posts.audience", "=", "public")
    .where("posts.deleted_at", "is", null)
    .where("posts.removed_at", "is", null)
    .groupBy("post_tags.tag")
    .orderBy("uses", "desc")
    .orderBy("post_tags.tag")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ tag: r.tag, uses: Number(r.uses) }));
}

/** The page of a stored remote actor: `/@name@host`. */
export async function remoteActorPath(db: Db, actorId: string): Promise<string | null> {
  const a = await findActorById(db, actorId);
  return a ? `/@${a.username}@${a.host}` : null;
}
