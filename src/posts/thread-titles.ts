// Which thread each reply in a list belongs to, for lists that show replies
// out of their thread (a person's profile).
import type { Db } from "../../db/schema.ts";

/**
 * The titles of the threads `replies` answer, by thread id. A thread that
 * was deleted or removed by a moderator has no title here (null): a removed
 * thread's title is for its moderators only.
 */
export async function threadTitles(
  db: Db,
  replies: { parentId: string | null; threadId: string }[],
): Promise<Record<string, string | null>> {
  const ids = [...new Set(replies.filter((p) => p.parentId !== null).map((p) => p.threadId))];
  if (ids.length === 0) return {};
  const rows = await db
    .selectFrom("posts")
    .select(["id", "title", "deleted_at", "removed_at"])
    .where("id", "in", ids)
    .execute();
  const titles: Record<string, string | null> = {};
  for (const r of rows) titles[r.id] = r.deleted_at || r.removed_at ? null : r.title;
  return titles;
}
