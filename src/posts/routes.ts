import { Hono } from "hono";
import type { FormState } from "../../views/pages/auth.ts";
import { deletePage } from "../../views/pages/moderation.ts";
import { composePage, editPage, threadPage } from "../../views/pages/posts.ts";
import { answersView } from "../answers/thread-view.ts";
import { assertMayPost, communityOfPost, mayRead, moderators } from "../communities/membership.ts";
import { getCommunity } from "../communities/service.ts";
import { extractMentions } from "../content/markdown.ts";
import { afterPosting, beforePosting } from "../crisis/gate.ts";
import { DomainError, notFound } from "../errors.ts";
import { existingImageChanges, imageLimits, readUploads, withStoredImages } from "../media/form.ts";
import { postImages } from "../media/shown.ts";
import { actingIn, quote, reachOf } from "../moderation/action-routes.ts";
import { moderatedCommunity } from "../moderation/authority.ts";
import { editedWarning } from "../warnings/service.ts";
import { composerWarnings, crisisFor, expandedFor } from "../warnings/thread-view.ts";
import { pageContext, type WebContext, type WebEnv, wantsActivityJson } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { AT, formBody, formFields, handleOf } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import { getPost, listReplies, type PostView, readablePost } from "./queries.ts";
import { removedPosts } from "./removals-view.ts";
import { createReply, createThread, deletePost, editPost, like, unlike } from "./service.ts";

export const postRoutes = new Hono<WebEnv>();

postRoutes.get(`${AT}/submit`, async (c) => {
  const user = requireUser(c);
  const community = await getCommunity(c.get("app").db, handleOf(c));
  await assertMayPost(c.get("app").db, community, user.actorId);
  return c.html(composePage(pageContext(c), community, {}, await threadWarnings(c, community.id)));
});

/** The warning choices of a new thread's composer. */
async function threadWarnings(c: WebContext, communityId: string) {
  const w = await composerWarnings(c.get("app").db, communityId);
  return { categories: w.categories, required: w.requiredOnThreads };
}

postRoutes.post(`${AT}/submit`, async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const community = await getCommunity(app.db, handleOf(c));
  const body = await formBody(c);
  const form = await formFields(c);
  await resolveMentions(c, form.body);
  try {
    const gate = await beforePosting(c, user.actorId, {
      communityId: community.id,
      kind: "thread",
      text: `${form.title ?? ""}\n${form.body ?? ""}`,
      fields: form,
      action: `/@${community.slug}/submit`,
      back: `/@${community.slug}/submit`,
      hasImages: hasFiles(body),
    });
    if ("notice" in gate) return gate.notice;
    const { warning } = gate;
    const uploads = await readUploads(body);
    const post = await withStoredImages(app.media, uploads, imageLimits(app.config), (images) =>
      createThread(
        app.db,
        app.config.origin,
        community,
        user.actorId,
        {
          title: form.title ?? "",
          body: form.body,
          cw: warning.summary ?? undefined,
          sensitive: warning.sensitive || form.sensitive === "1",
          warningCategoryId: warning.categoryId,
          question: form.question === "1",
        },
        images,
      ),
    );
    await afterPosting(c, community.id, post.id, gate.crisis);
    return c.redirect(`/posts/${post.id}`, 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return c.html(
      composePage(
        pageContext(c),
        community,
        { values: form, errors: e.fields, message: e.message },
        await threadWarnings(c, community.id),
      ),
      httpStatus(e.code),
    );
  }
});

/** Whether a multipart form carries any file (files can't ride through the crisis notice). */
const hasFiles = (body: Record<string, unknown>) => Object.values(body).some((v) => v instanceof File && v.size > 0);

/**
 * Fetches people mentioned as `@name@host` that we don't know yet, so the post
 * can name them (best effort, bounded: a slow server never holds up a post).
 */
async function resolveMentions(c: WebContext, source: string | undefined): Promise<void> {
  const remote = c.get("app").remote;
  if (!remote || !source) return;
  const refs = extractMentions(source)
    .filter((m) => m.host !== null)
    .slice(0, 10);
  const lookups = Promise.all(refs.map((m) => remote.resolveActor(`@${m.username}@${m.host}`).catch(() => null)));
  await Promise.race([lookups, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
}

/** Community of a post, with the reader's rights in it. */
async function postContext(c: WebContext, postId: string) {
  const app = c.get("app");
  const viewerId = c.get("user")?.actorId;
  const post = await readablePost(app.db, postId, viewerId);
  if (!post.communityId) throw notFound("post");
  const community = await communityOfPost(app.db, post.communityId);
  if (!community) throw notFound("post");
  return { post, community, viewerId };
}

/** Posts outside communities (a followed person's status, a direct message) are read-only pages here. */
async function renderStandalone(c: WebContext, postId: string) {
  const viewerId = c.get("user")?.actorId;
  const post = await readablePost(c.get("app").db, postId, viewerId);
  if (post.audience === "direct")
    return c.redirect(
      `/messages/${post.authorLocal ? post.authorUsername : `${post.authorUsername}@${post.authorHost}`}`,
      302,
    );
  const images = await postImages(c.get("app"), [post.id]);
  return c.html(
    threadPage(pageContext(c), {
      community: null,
      root: { ...post, images: images.get(post.id) },
      replies: [],
      nextHref: null,
      viewerId,
      viewerAuthorOf: () => false,
      isModerator: false,
      canReply: false,
      removals: new Map(),
    }),
  );
}

async function renderThread(
  c: WebContext,
  rootId: string,
  extra: { replyTo?: string; state?: FormState; status?: 200 | 422 } = {},
) {
  const app = c.get("app");
  const { post: root, community, viewerId } = await postContext(c, rootId);
  const replies = await listReplies(app.db, root.id, { cursor: c.req.query("cursor"), viewerId });
  const canReply =
    viewerId !== undefined &&
    !root.locked &&
    !root.deletedAt &&
    !root.removedAt &&
    (await mayPost(c, community, viewerId));
  const moderates = (await actingIn(app.db, community.id, viewerId)) !== null;
  const answers = await answersView(app.db, root, replies.items, viewerId, moderates);
  const all = [root, ...replies.items, ...answers.answers];
  const { removals, shown: visible } = await removedPosts(c, all, moderates);
  // One query for the page's images; postBody never shows those of a post it shows as a placeholder.
  const images = await postImages(app, [...new Set(all.map((p) => p.id))]);
  const expanded = await expandedFor(app.db, viewerId, all);
  const shown = (p: PostView) => ({ ...visible(p), images: images.get(p.id), expanded: expanded.has(p.id) });
  const warnings = await composerWarnings(app.db, community.id);
  // Moderators are not banned (the ban page says why): their posts offer no "Ban".
  const mods = moderates ? new Set((await moderators(app.db, community.id)).map((m) => m.id)) : new Set<string>();
  return c.html(
    threadPage(pageContext(c), {
      community,
      root: shown(root),
      replies: replies.items.map(shown),
      nextHref: replies.nextCursor ? `/posts/${root.id}?cursor=${replies.nextCursor}` : null,
      viewerId,
      viewerAuthorOf: (p) => viewerId !== undefined && p.authorId === viewerId,
      isModerator: moderates,
      canReply,
      removals,
      bannable: (p) => moderates && p.authorId !== viewerId && !mods.has(p.authorId) && !p.authorDeletedAt,
      warnings: { categories: warnings.categories, required: warnings.requiredOnReplies },
      crisis: await crisisFor(app.db, app.config.origin, root, c.req.header("accept-language")),
      answers: { ...answers, answers: answers.answers.map(shown) },
      ...extra,
    }),
    extra.status ?? 200,
  );
}

async function mayPost(c: WebContext, community: Parameters<typeof assertMayPost>[1], actorId: string) {
  try {
    await assertMayPost(c.get("app").db, community, actorId);
    return true;
  } catch {
    return false;
  }
}

// Post IRIs. Fedify answers ActivityPub requests for them; browsers get HTML.
// Fedify serves live public posts to ActivityPub clients; for anything else
// they get 410 (deleted) or 404, never the HTML page or a redirect to another object.
postRoutes.on("GET", ["/replies/:id", "/posts/:id"], async (c, next) => {
  if (!wantsActivityJson(c)) return next();
  const post = await getPost(c.get("app").db, c.req.param("id")).catch(() => undefined);
  return c.json({ error: post?.deletedAt ? "gone" : "not found" }, post?.deletedAt ? 410 : 404);
});

postRoutes.get("/replies/:id", async (c) => {
  const { post } = await postContext(c, c.req.param("id"));
  return c.redirect(`/posts/${post.threadId}#post-${post.id}`, 302);
});

postRoutes.get("/posts/:id", async (c) => {
  const standalone = await getPost(c.get("app").db, c.req.param("id")).catch(() => undefined);
  if (standalone && !standalone.communityId) return renderStandalone(c, standalone.id);
  const { post } = await postContext(c, c.req.param("id"));
  if (post.threadId !== post.id) return c.redirect(`/posts/${post.threadId}#post-${post.id}`, 302);
  if (!post.local && c.get("user")) await refreshRemoteThread(c, post.id);
  return renderThread(c, post.id);
});

/** How long a reader waits for a remote thread's replies before the page shows what we hold. */
const REFRESH_WAIT_MS = 3_000;

/**
 * Asks the thread's server for replies we missed (the port reads it at most
 * every few minutes per thread); only for signed-in readers, so visitors and
 * crawlers never make us fetch. A slow server never holds the page up: the
 * refresh goes on in the background and the next view shows what it stored.
 */
async function refreshRemoteThread(c: WebContext, postId: string): Promise<void> {
  const refresh = c
    .get("app")
    .remote?.refreshThread?.(postId)
    .catch(() => undefined);
  if (!refresh) return;
  await Promise.race([refresh, new Promise((resolve) => setTimeout(resolve, REFRESH_WAIT_MS).unref())]);
}

postRoutes.post("/posts/:id/replies", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const { post: parent, community } = await postContext(c, c.req.param("id"));
  const body = await formBody(c);
  const form = await formFields(c);
  await resolveMentions(c, form.body);
  try {
    const gate = await beforePosting(c, user.actorId, {
      communityId: community.id,
      kind: "reply",
      text: form.body ?? "",
      fields: form,
      action: `/posts/${parent.id}/replies`,
      back: `/posts/${parent.threadId}`,
      hasImages: hasFiles(body),
    });
    if ("notice" in gate) return gate.notice;
    const { warning } = gate;
    const uploads = await readUploads(body);
    const reply = await withStoredImages(app.media, uploads, imageLimits(app.config), (images) =>
      createReply(
        app.db,
        app.config.origin,
        community,
        user.actorId,
        parent.id,
        {
          body: form.body ?? "",
          cw: warning.summary ?? undefined,
          sensitive: warning.sensitive || form.sensitive === "1",
          warningCategoryId: warning.categoryId,
        },
        images,
      ),
    );
    await afterPosting(c, community.id, reply.id, gate.crisis);
    return c.redirect(`/posts/${reply.threadId}#post-${reply.id}`, 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return renderThread(c, parent.threadId, {
      replyTo: parent.id,
      state: { values: form, errors: e.fields, message: e.message },
      status: 422,
    });
  }
});

postRoutes.get("/posts/:id/edit", async (c) => {
  const user = requireUser(c);
  const post = await getPost(c.get("app").db, c.req.param("id"));
  if (post.authorId !== user.actorId || post.deletedAt)
    throw new DomainError("forbidden", "only the author can edit a post");
  const values = { title: post.title ?? "", body: post.source ?? "", cw: post.summary ?? "" };
  return c.html(
    editPage(
      pageContext(c),
      { id: post.id, isThread: post.parentId === null, images: await editableImages(c, post.id) },
      { values: { ...values, sensitive: post.sensitive && !post.summary ? "1" : "" } },
    ),
  );
});

postRoutes.post("/posts/:id/edit", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const post = await getPost(app.db, c.req.param("id"));
  // Refused before any upload is decoded and stored.
  if (post.deletedAt) throw notFound("post");
  if (post.authorId !== user.actorId) throw new DomainError("forbidden", "only the author can edit a post");
  const body = await formBody(c);
  const form = await formFields(c);
  try {
    const kept = await editedWarning(app.db, post, form.cw);
    const uploads = await readUploads(body);
    const text = {
      title: post.parentId === null ? (form.title ?? "") : undefined,
      body: form.body ?? "",
      cw: kept ? kept.cw : form.cw,
      sensitive: kept?.sensitive || form.sensitive === "1",
    };
    await withStoredImages(app.media, uploads, imageLimits(app.config), (added) =>
      editPost(app.db, app.config.origin, post.id, user.actorId, text, { ...existingImageChanges(body), added }),
    );
    return c.redirect(`/posts/${post.threadId}#post-${post.id}`, 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return c.html(
      editPage(
        pageContext(c),
        { id: post.id, isThread: post.parentId === null, images: await editableImages(c, post.id) },
        { values: form, errors: e.fields, message: e.message },
      ),
      422,
    );
  }
});

/** The images the edit form offers to describe again or remove. */
async function editableImages(c: WebContext, postId: string) {
  return (await postImages(c.get("app"), [postId])).get(postId) ?? [];
}

/** The author's delete asks first, saying which servers the deletion goes to. */
postRoutes.get("/posts/:id/delete", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const { post, community } = await postContext(c, c.req.param("id"));
  if (post.authorId !== user.actorId || post.deletedAt)
    throw new DomainError("forbidden", "only the author can delete a post; moderators remove posts instead");
  const moderated = await moderatedCommunity(app.db, community.id);
  return c.html(
    deletePage(pageContext(c), {
      post: quote(post),
      community: { slug: community.slug, name: community.name },
      reach: await reachOf(app.db, moderated, null),
    }),
  );
});

// Moderators may still delete here (older pages and clients); the thread page offers them "Remove".
postRoutes.post("/posts/:id/delete", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const { post, community } = await postContext(c, c.req.param("id"));
  await deletePost(app.db, post.id, user.actorId);
  return c.redirect(post.threadId === post.id ? `/@${community.slug}` : `/posts/${post.threadId}`, 303);
});

for (const action of ["like", "unlike"] as const) {
  postRoutes.post(`/posts/:id/${action}`, async (c) => {
    const user = requireUser(c);
    const app = c.get("app");
    const { post, community } = await postContext(c, c.req.param("id"));
    if (!(await mayRead(app.db, community, user.actorId))) throw notFound("post");
    if (action === "like") await like(app.db, app.config.origin, post.id, user.actorId);
    else await unlike(app.db, post.id, user.actorId);
    return c.redirect(`/posts/${post.threadId}#post-${post.id}`, 303);
  });
}
