// Lists of communities for the home page and the directory: the ones a member
// joined (here and on other servers), and the ones this instance hosts, with
// counts. Counts only: who the members are is never listed.
import type { Db } from "../../db/schema.ts";
import { memberCountOf } from "./service.ts";

/** How far back "recent" activity counts in the directory. */
export const DIRECTORY_DAYS = 30;
/** How far back the home page counts a joined community's new threads. */
export const NEW_THREAD_DAYS = 7;

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

export interface JoinedCommunity {
  id: string;
  /** The handle in our URLs: `slug` here, `name@host` elsewhere. */
  handle: string;
  name: string | null;
  host: string;
  local: boolean;
  /** Threads published in the last NEW_THREAD_DAYS days that this instance holds. */
  newThreads: number;
}

/**
 * The communities `actorId` is a member of (accepted follows of Group actors,
 * local and remote, FEP-1b12), by name. Bounded: a member of more sees the first 200.
 */
export async function joinedCommunities(db: Db, actorId: string): Promise<JoinedCommunity[]> {
  const since = daysAgo(NEW_THREAD_DAYS);
  const rows = await db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.followee_id")
    .select(["actors.id", "actors.username", "actors.host", "actors.local", "actors.name"])
    .select((eb) =>
      eb
        .selectFrom("posts")
        .select((e) => e.fn.countAll<string | number>().as("n"))
        .whereRef("posts.community_id", "=", "actors.id")
        .where("posts.parent_id", "is", null)
        .where("posts.deleted_at", "is", null)
        .where("posts.removed_at", "is", null)
        .where("posts.published_at", ">=", since)
        .as("recent"),
    )
    .where("follows.follower_id", "=", actorId)
    .where("follows.status", "=", "accepted")
    .where("actors.type", "=", "Group")
    .where("actors.deleted_at", "is", null)
    .orderBy("actors.username_key")
    .orderBy("actors.host")
    .limit(200)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    handle: r.local === 1 ? r.username : `${r.username}@${r.host}`,
    name: r.name,
    host: r.host,
    local: r.local === 1,
    newThreads: Number(r.recent ?? 0),
  }));
}

/**
 * The communities this instance hosts, newest first, with member counts,
 * threads of the last DIRECTORY_DAYS days and the time of their latest post.
 */
export async function communityDirectory(db: Db, options: { cursor?: string; limit?: number } = {}) {
  const limit = options.limit ?? 50;
  let q = db
    .selectFrom("communities")
    .innerJoin("actors", "actors.id", "communities.actor_id")
    .select([
      "actors.id",
      "actors.username as slug",
      "actors.name",
      "actors.summary_html as descriptionHtml",
      "communities.visibility",
      "communities.join_policy as joinPolicy",
      "communities.federation",
    ])
    .select((eb) => [
      memberCountOf(eb),
      eb
        .selectFrom("posts")
        .select((e) => e.fn.countAll<string | number>().as("n"))
        .whereRef("posts.community_id", "=", "actors.id")
        .where("posts.parent_id", "is", null)
        .where("posts.deleted_at", "is", null)
        .where("posts.removed_at", "is", null)
        .where("posts.published_at", ">=", daysAgo(DIRECTORY_DAYS))
        .as("recent"),
      eb
        .selectFrom("posts")
        .select((e) => e.fn.max("posts.published_at").as("t"))
        .whereRef("posts.community_id", "=", "actors.id")
        .where("posts.deleted_at", "is", null)
        .where("posts.removed_at", "is", null)
        .as("latest"),
    ])
    .where("actors.deleted_at", "is", null)
    // Driven by the communities table, not every actor this instance knows.
    .orderBy("communities.actor_id", "desc")
    .limit(limit + 1);
  if (options.cursor) q = q.where("communities.actor_id", "<", options.cursor);
  const rows = await q.execute();
  const items = rows.slice(0, limit).map((r) => ({
    ...r,
    members: Number(r.members ?? 0),
    recentThreads: Number(r.recent ?? 0),
    latestActivity: r.latest ?? null,
  }));
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
