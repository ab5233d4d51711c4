// Removed posts on a thread page: who still reads them, and why they were removed.
import type { WebContext } from "../web/env.ts";
import { type PostView, removalNotes } from "./queries.ts";

/**
 * A removed post stays readable, with why, to its author and the moderators;
 * for everyone else its words never reach the page.
 */
export async function removedPosts(c: WebContext, posts: PostView[], moderates: boolean) {
  const viewerId = c.get("user")?.actorId;
  const sees = (p: PostView) => moderates || p.authorId === viewerId;
  const notes = await removalNotes(
    c.get("app").db,
    posts.filter((p) => p.removedAt && sees(p)).map((p) => p.id),
  );
  const removals = new Map<string, { reason: string | null; statementHref: string | null }>();
  for (const p of posts) {
    if (!p.removedAt || !sees(p)) continue;
    const note = notes.get(p.id);
    const mine = p.authorId === viewerId;
    removals.set(p.id, {
      reason: note?.reason ?? null,
      statementHref: mine && note ? `/moderation/actions/${note.actionId}` : null,
    });
  }
  const shown = (p: PostView): PostView =>
    p.removedAt && !sees(p) ? { ...p, title: null, contentHtml: "", source: null, summary: null } : p;
  return { removals, shown };
}
