// Moderation over the web: bans (a confirmation page first) and unbans here;
// post actions in ./action-routes.ts; the public moderation log in ./modlog-routes.ts.
import { Hono } from "hono";
import type { FormState } from "../../views/pages/auth.ts";
import { banPage } from "../../views/pages/moderation.ts";
import { getCommunity } from "../communities/service.ts";
import { DomainError, forbidden, invalid, notFound } from "../errors.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { AT, formFields, handleOf } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import { actingIn, actionRoutes, reachOf } from "./action-routes.ts";
import { isCommunityModerator, type ModeratedCommunity, moderatedCommunity } from "./authority.ts";
import { modlogRoutes } from "./modlog-routes.ts";
import { BAN_DAYS_MAX, banPerson, unbanPerson } from "./people.ts";

export const moderationRoutes = new Hono<WebEnv>();
moderationRoutes.route("/", actionRoutes);
moderationRoutes.route("/", modlogRoutes);

/** The community in the path and how the reader moderates it (403 if they do not). */
async function moderating(c: WebContext) {
  const user = requireUser(c);
  const db = c.get("app").db;
  const community = await getCommunity(db, handleOf(c));
  const acting = await actingIn(db, community.id, user.actorId);
  if (!acting) throw forbidden("only moderators of this community can do this");
  return { community, acting, moderated: await moderatedCommunity(db, community.id) };
}

/** The person to ban: anyone but a Group; the page refuses up front what the ban itself would refuse. */
async function banTarget(c: WebContext, community: ModeratedCommunity, actingId: string | null) {
  const db = c.get("app").db;
  const person = await db
    .selectFrom("actors")
    .select(["id", "username", "host", "local", "name", "type"])
    .where("id", "=", c.req.param("actorId") ?? "")
    .executeTakeFirst();
  if (!person || person.type === "Group") throw notFound("person");
  if (person.id === actingId) throw forbidden("you cannot ban yourself");
  if (person.id === community.ownerId) throw forbidden("the owner of a community cannot be banned from it");
  if (await isCommunityModerator(db, community.id, person.id))
    throw forbidden("a moderator cannot be banned; remove them as moderator first");
  const handle = person.local === 1 ? `@${person.username}` : `@${person.username}@${person.host}`;
  return { id: person.id, handle, name: person.name };
}

async function renderBan(c: WebContext, state?: FormState, status: 200 | 422 = 200) {
  const { community, acting, moderated } = await moderating(c);
  const db = c.get("app").db;
  const person = await banTarget(c, moderated, acting.actorId);
  const posts = await db
    .selectFrom("posts")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("community_id", "=", community.id)
    .where("author_id", "=", person.id)
    .where("removed_at", "is", null)
    .where("deleted_at", "is", null)
    .executeTakeFirstOrThrow();
  return c.html(
    banPage(pageContext(c), {
      person,
      community: { slug: community.slug, name: community.name },
      reach: await reachOf(db, moderated, acting),
      posts: Number(posts.n),
      reportId: state?.values?.report ?? c.req.query("report"),
      state,
    }),
    status,
  );
}

/** Days of a ban as typed: empty for a permanent ban, else a whole number. */
function banDays(text: string | undefined): number | null {
  const t = (text ?? "").trim();
  if (t === "") return null;
  const days = /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!(days >= 1 && days <= BAN_DAYS_MAX)) {
    const why = `must be a whole number from 1 to ${BAN_DAYS_MAX}, or empty for a permanent ban`;
    throw invalid(`days: ${why}`, { days: why });
  }
  return days;
}

moderationRoutes.get(`${AT}/ban/:actorId`, (c) => renderBan(c));

moderationRoutes.post(`${AT}/ban/:actorId`, async (c) => {
  const { community, acting, moderated } = await moderating(c);
  const app = c.get("app");
  const form = await formFields(c);
  try {
    const person = await banTarget(c, moderated, acting.actorId);
    await banPerson(app.db, app.config.origin, acting, community.id, person.id, {
      reason: form.reason,
      removeContent: form.removeContent === "1",
      days: banDays(form.days),
      reportId: form.report || null,
    });
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return renderBan(c, { values: form, errors: e.fields, message: e.message }, 422);
  }
  return c.redirect(`/@${community.slug}/moderation`, 303);
});

moderationRoutes.post(`${AT}/unban/:actorId`, async (c) => {
  const { community, acting } = await moderating(c);
  const app = c.get("app");
  const form = await formFields(c);
  await unbanPerson(app.db, app.config.origin, acting, community.id, c.req.param("actorId") ?? "", {
    reason: form.reason,
  });
  return c.redirect(`/@${community.slug}/moderation`, 303);
});
