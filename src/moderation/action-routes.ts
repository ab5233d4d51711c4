// Moderating posts over the web: a removal goes through a confirmation page
// saying who hears of it; restoring, locking and pinning are one button each.
// The domain (./posts.ts) checks the moderator's authority again and logs it.
import { Hono } from "hono";
import type { Db } from "../../db/schema.ts";
import type { FormState } from "../../views/pages/auth.ts";
import { type QuotedPost, type Reach, removePage } from "../../views/pages/moderation.ts";
import { followerServers } from "../communities/service.ts";
import { DomainError, forbidden, notFound } from "../errors.ts";
import { getPost, type PostView, readablePost } from "../posts/queries.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { formFields } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import {
  type Acting,
  isAdmin,
  isCommunityModerator,
  type ModeratedCommunity,
  moderatedCommunity,
} from "./authority.ts";
import { lockThread, pinThread, removePost, restorePost, unlockThread, unpinThread } from "./posts.ts";

export const actionRoutes = new Hono<WebEnv>();

/** How a person acts in a community: as its moderator when they are one, else as an admin; null if neither. */
export async function actingIn(db: Db, communityId: string, actorId: string | undefined): Promise<Acting | null> {
  if (!actorId) return null;
  if (await isCommunityModerator(db, communityId, actorId)) return { role: "moderator", actorId };
  if (await isAdmin(db, actorId)) return { role: "admin", actorId };
  return null;
}

/**
 * Which servers hear of an action in a community: a local one tells its
 * followers' servers; a remote one is asked by its moderators, while an admin
 * here (no moderator there) acts on this instance only.
 */
export async function reachOf(db: Db, community: ModeratedCommunity, acting: Acting | null): Promise<Reach> {
  if (community.local) {
    const servers = community.federation === "local" ? [] : await followerServers(db, community.id);
    return { kind: "followers", servers };
  }
  if (acting?.role === "admin") return { kind: "here" };
  return { kind: "home", host: community.slug.slice(community.slug.lastIndexOf("@") + 1) };
}

export const quote = (p: PostView): QuotedPost => ({
  id: p.id,
  threadId: p.threadId,
  isThread: p.parentId === null,
  title: p.parentId === null ? p.title : null,
  contentHtml: p.contentHtml,
  summary: p.summary,
  authorHandle: p.authorLocal ? `@${p.authorUsername}` : `@${p.authorUsername}@${p.authorHost}`,
});

const backTo = (p: { id: string; threadId: string }) => `/posts/${p.threadId}#post-${p.id}`;

/**
 * A post in a community and how the reader moderates it. Someone who may not
 * moderate gets 403, or 404 when they may not even read the post.
 */
async function moderatedPost(c: WebContext) {
  const user = requireUser(c);
  const db = c.get("app").db;
  const post = await getPost(db, c.req.param("id") ?? "", user.actorId);
  if (!post.communityId || post.deletedAt) throw notFound("post");
  const acting = await actingIn(db, post.communityId, user.actorId);
  if (!acting) {
    await readablePost(db, post.id, user.actorId);
    throw forbidden("only moderators of this community can do this");
  }
  return { post, acting, community: await moderatedCommunity(db, post.communityId) };
}

async function renderRemove(c: WebContext, state?: FormState, status: 200 | 422 = 200) {
  const { post, acting, community } = await moderatedPost(c);
  if (post.removedAt) throw new DomainError("conflict", "this post is already removed");
  const db = c.get("app").db;
  const name = (await db.selectFrom("actors").select("name").where("id", "=", community.id).executeTakeFirst())?.name;
  return c.html(
    removePage(pageContext(c), {
      post: quote(post),
      community: { slug: community.slug, name: name ?? null },
      reach: await reachOf(db, community, acting),
      reportId: state?.values?.report ?? c.req.query("report"),
      state,
    }),
    status,
  );
}

actionRoutes.get("/posts/:id/remove", (c) => renderRemove(c));

actionRoutes.post("/posts/:id/remove", async (c) => {
  const { post, acting } = await moderatedPost(c);
  const app = c.get("app");
  const form = await formFields(c);
  try {
    await removePost(app.db, app.config.origin, acting, post.id, {
      reason: form.reason,
      reportId: form.report || null,
    });
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return renderRemove(c, { values: form, errors: e.fields, message: e.message }, 422);
  }
  return c.redirect(backTo(post), 303);
});

/** Undone as easily as done: no confirmation page. Locking takes an optional reason, as any of these may. */
const direct = {
  restore: restorePost,
  lock: lockThread,
  unlock: unlockThread,
  pin: pinThread,
  unpin: unpinThread,
} as const;

for (const [name, act] of Object.entries(direct)) {
  actionRoutes.post(`/posts/:id/${name}`, async (c) => {
    const { post, acting } = await moderatedPost(c);
    const app = c.get("app");
    const form = await formFields(c);
    await act(app.db, app.config.origin, acting, post.id, { reason: form.reason });
    return c.redirect(backTo(post), 303);
  });
}
