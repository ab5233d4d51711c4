// Statements of reasons (DSA Art. 17) and appeals (Art. 20) over the web: the
// person concerned reads why and appeals once; the community's moderators
// grant or uphold, and what they uphold goes to the instance's admins.
import { Hono } from "hono";
import { type AppealCard, appealQueuePage, statementPage } from "../../views/pages/appeals.ts";
import type { FormState } from "../../views/pages/auth.ts";
import { conflict, DomainError, forbidden, invalid, notFound } from "../errors.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { AT, formFields } from "../web/forms.ts";
import { requireAdmin, requireUser } from "../web/session.ts";
import { APPEAL_MAX, APPEALABLE, decideAppeal, fileAppeal, findAppeal } from "./appeals.ts";
import type { Acting } from "./authority.ts";
import { ACTION_LABELS, statementOfReasons } from "./modlog.ts";
import { type AppealItem, listAppeals, type QueueScope } from "./queues.ts";
import { reviewing } from "./report-routes.ts";

export const appealRoutes = new Hono<WebEnv>();

const PAGE = 25;

async function isLocalCommunity(c: WebContext, communityId: string): Promise<boolean> {
  const row = await c
    .get("app")
    .db.selectFrom("communities")
    .select("actor_id")
    .where("actor_id", "=", communityId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Only the person concerned, the community's moderators and admins read it: anyone else gets 404. */
async function renderStatement(c: WebContext, state: FormState = {}, status: 200 | 422 = 200) {
  const user = requireUser(c);
  const s = await statementOfReasons(c.get("app").db, c.req.param("id") ?? "", user.actorId);
  // Where the community hides its moderators' names, the decision is theirs together.
  const moderator = s.moderator === "a moderator" ? "the moderators" : s.moderator;
  return c.html(
    statementPage(
      pageContext(c),
      {
        ...s,
        moderator,
        appealableKind: (APPEALABLE as readonly string[]).includes(s.action),
      },
      state,
    ),
    status,
  );
}

appealRoutes.get("/moderation/actions/:id", (c) => renderStatement(c));

appealRoutes.post("/moderation/actions/:id/appeal", async (c) => {
  const user = requireUser(c);
  const db = c.get("app").db;
  const id = c.req.param("id");
  // Who may not read the statement learns nothing from the appeal either.
  await statementOfReasons(db, id, user.actorId);
  const form = await formFields(c);
  try {
    await fileAppeal(db, user.actorId, id, form.text ?? "");
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    const reason = e.fields.input ?? e.message;
    return renderStatement(c, { values: form, errors: { text: reason }, message: `text: ${reason}` }, 422);
  }
  return c.redirect(`/moderation/actions/${id}`, 303);
});

function appealCard(a: AppealItem, decideAction: string, ourHost: string): AppealCard {
  const community =
    a.communityUsername === null
      ? null
      : a.communityHost === ourHost
        ? a.communityUsername
        : `${a.communityUsername}@${a.communityHost}`;
  return {
    id: a.id,
    text: a.text,
    appellant: a.appellantLocal === 1 ? `@${a.appellantUsername}` : `@${a.appellantUsername}@${a.appellantHost}`,
    label: ACTION_LABELS[a.action] ?? a.action,
    reason: a.reason,
    actedAt: a.actedAt,
    createdAt: a.createdAt,
    statementHref: `/moderation/actions/${a.actionId}`,
    post: a.postId
      ? {
          label: a.postTitle ? `“${a.postTitle}”` : "the post",
          href: a.threadId && a.threadId !== a.postId ? `/posts/${a.threadId}#post-${a.postId}` : `/posts/${a.postId}`,
        }
      : null,
    community,
    moderatorNote: a.status === "escalated" ? a.moderatorNote : null,
    decideAction,
  };
}

async function renderQueue(c: WebContext, scope: QueueScope, title: string, base: string) {
  const page = await listAppeals(c.get("app").db, scope, { cursor: c.req.query("cursor"), limit: PAGE });
  const ourHost = new URL(c.get("app").config.origin).host;
  // Nobody decides their own appeal: a moderator's goes to the other moderators and the admins.
  const viewer = c.get("user")?.username.toLowerCase();
  const items = page.items.filter((a) => a.appellantLocal !== 1 || a.appellantUsername.toLowerCase() !== viewer);
  return c.html(
    appealQueuePage(pageContext(c), {
      title,
      admin: !("communityId" in scope),
      items: items.map((a) => appealCard(a, `${base}/${a.id}`, ourHost)),
      nextHref: page.nextCursor ? `${base}?cursor=${encodeURIComponent(page.nextCursor)}` : null,
      reportsHref: base.replace(/appeals$/, "reports"),
    }),
  );
}

type Other = "uphold" | "deny";

/** Grant, or the other answer of this queue (uphold with the moderators, deny with the admins), with a note. */
async function decide(c: WebContext, acting: Acting, appeal: { id: string; appellant_id: string }, other: Other) {
  if (appeal.appellant_id === acting.actorId) throw forbidden("you cannot decide your own appeal");
  const form = await formFields(c);
  if (form.decision !== "grant" && form.decision !== other)
    throw invalid(`decision: choose grant or ${other}`, { decision: `choose grant or ${other}` });
  const note = form.note?.trim() ?? "";
  if (note.length > APPEAL_MAX)
    throw invalid(`note: must be at most ${APPEAL_MAX} characters`, { note: `must be at most ${APPEAL_MAX}` });
  const app = c.get("app");
  await decideAppeal(app.db, app.config.origin, acting, appeal.id, form.decision === "grant", note);
}

appealRoutes.get(`${AT}/appeals`, async (c) => {
  const { community } = await reviewing(c);
  return renderQueue(c, { communityId: community.id }, `Appeals in ${community.name}`, `/@${community.slug}/appeals`);
});

appealRoutes.post(`${AT}/appeals/:id`, async (c) => {
  const { community, acting } = await reviewing(c);
  const appeal = await findAppeal(c.get("app").db, c.req.param("id"));
  if (appeal.community_id !== community.id) throw notFound("appeal");
  await decide(c, acting, appeal, "uphold");
  return c.redirect(`/@${community.slug}/appeals`, 303);
});

appealRoutes.get("/admin/appeals", async (c) => {
  requireAdmin(c);
  return renderQueue(c, { instance: true }, "Appeals for the admins", "/admin/appeals");
});

appealRoutes.post("/admin/appeals/:id", async (c) => {
  const admin = requireAdmin(c);
  const appeal = await findAppeal(c.get("app").db, c.req.param("id"));
  // An appeal still with a local community's moderators is decided in its queue (/@slug/appeals), where
  // "uphold" means "send to the admins"; here "deny" is final.
  if (appeal.status === "open" && appeal.community_id && (await isLocalCommunity(c, appeal.community_id)))
    throw conflict("this appeal is still with the community's moderators: decide it in the community's queue");
  await decide(c, { role: "admin", actorId: admin.actorId }, appeal, "deny");
  return c.redirect("/admin/appeals", 303);
});
