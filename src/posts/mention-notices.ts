// Mentions added by an edit (issue 12): the people an edited post names for
// the first time are told, as they would have been had it named them at once;
// those it named before, or whom the post already told of anything (a reply,
// an earlier mention), are not told again.
import type { Db } from "../../db/schema.ts";
import { notify } from "../notifications/service.ts";

/** Links of a received post looked at for mentions of local people: enough for any real post, bounded for the rest. */
const MAX_MENTION_LINKS = 50;

/**
 * The local people a received post's HTML names: a mention is a link to their
 * profile (Mastodon, Lemmy, Kindred), whether or not they are also addressed.
 */
export async function localPeopleLinkedIn(db: Db, contentHtml: string): Promise<string[]> {
  const linked = [...contentHtml.matchAll(/\shref="([^"]{1,2048})"/g)]
    .slice(0, MAX_MENTION_LINKS)
    .map((m) => m[1] ?? "");
  if (linked.length === 0) return [];
  const named = await db
    .selectFrom("actors")
    .select("id")
    .where("local", "=", 1)
    .where("type", "=", "Person")
    .where((eb) => eb.or([eb("iri", "in", linked), eb("url", "in", linked)]))
    .execute();
  return named.map((a) => a.id);
}

/** Tells the people `after` names and `before` did not, unless the post already told them of something. */
export async function notifyAddedMentions(
  db: Db,
  post: { id: string; authorId: string; communityId: string | null },
  before: string[],
  after: string[],
): Promise<void> {
  const named = new Set(before);
  const added = [...new Set(after)].filter((id) => !named.has(id) && id !== post.authorId);
  if (added.length === 0) return;
  const told = await db
    .selectFrom("notifications")
    .select("user_id")
    .where("post_id", "=", post.id)
    .where("user_id", "in", added)
    .execute();
  const already = new Set(told.map((t) => t.user_id));
  const about = { actorId: post.authorId, postId: post.id, communityId: post.communityId };
  await notify(
    db,
    added.filter((id) => !already.has(id)).map((userId) => ({ ...about, userId, kind: "mention" as const })),
  );
}
