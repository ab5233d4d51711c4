import { Hono } from "hono";
import { z } from "zod";
import { communityForm, communityPage } from "../../views/pages/communities.ts";
import { directoryPage } from "../../views/pages/directory.ts";
import { moderationPage } from "../../views/pages/moderation.ts";
import { findLocalUser } from "../accounts/service.ts";
import type { RemoteLookup } from "../context.ts";
import { DomainError, forbidden, notFound, parseInput } from "../errors.ts";
import { followRemote, unfollowRemote } from "../follows/service.ts";
import { now } from "../ids.ts";
import { actingIn } from "../moderation/action-routes.ts";
import { ACTION_LABELS } from "../moderation/modlog.ts";
import { addModerator, removeModerator } from "../moderation/people.ts";
import { listThreads } from "../posts/queries.ts";
import { TOP_PERIODS, type TopPeriod } from "../posts/thread-order.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { AT, formFields, handleOf } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import { communityDirectory, DIRECTORY_DAYS } from "./directory.ts";
import {
  decideMembership,
  hasMemberOnServer,
  join,
  leave,
  mayRead,
  membership,
  moderators,
  pendingMembers,
} from "./membership.ts";
import {
  type Community,
  createCommunity,
  getCommunity,
  mayCreateCommunity,
  memberCount,
  updateCommunity,
} from "./service.ts";

export const communityRoutes = new Hono<WebEnv>();

/** The directory of this instance's communities, with member and activity counts. */
communityRoutes.get("/communities", async (c) => {
  const app = c.get("app");
  const user = c.get("user");
  const page = await communityDirectory(app.db, { cursor: c.req.query("cursor") });
  return c.html(
    directoryPage(pageContext(c), {
      communities: page.items,
      nextHref: page.nextCursor ? `/communities?cursor=${page.nextCursor}` : null,
      mayCreate: user ? await mayCreateCommunity(app.db, user) : false,
      days: DIRECTORY_DAYS,
    }),
  );
});

communityRoutes.get("/communities/new", async (c) => {
  const user = requireUser(c);
  if (!(await mayCreateCommunity(c.get("app").db, user)))
    throw forbidden("only admins may create communities on this instance");
  return c.html(communityForm(pageContext(c), { kind: "create" }));
});

communityRoutes.post("/communities", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const form = await formFields(c);
  try {
    const created = await createCommunity(app.db, app.config.origin, user, {
      slug: form.slug ?? "",
      name: form.name ?? "",
      description: form.description,
      rules: form.rules,
      visibility: form.visibility as "public",
      join: form.join as "open",
      federation: form.federation as "federated",
      allowedServers: form.allowedServers,
      retentionDays: form.retentionDays ?? "",
      allowAnonymize: form.allowAnonymize === "1",
    });
    return c.redirect(`/@${created.slug}`, 303);
  } catch (e) {
    if (!(e instanceof DomainError) || (e.code !== "invalid" && e.code !== "conflict")) throw e;
    return c.html(
      communityForm(pageContext(c), { kind: "create" }, { values: form, errors: e.fields, message: e.message }),
      httpStatus(e.code),
    );
  }
});

const sortQuery = z.object({
  sort: z.enum(["new", "active", "top"]).default("new"),
  period: z.enum(Object.keys(TOP_PERIODS) as [TopPeriod, ...TopPeriod[]]).default("week"),
});
/** How long a page waits for a remote community's threads to be refreshed before showing what it has. */
const REFRESH_WAIT_MS = 3_000;

/** The community page (`/@slug` when the name belongs to a community), its threads sorted as asked. */
export async function renderCommunity(c: WebContext, community: Community) {
  const app = c.get("app");
  const user = c.get("user");
  const viewerId = user?.actorId;
  const { sort, period } = parseInput(sortQuery, { sort: c.req.query("sort"), period: c.req.query("period") });
  const canRead = await mayRead(app.db, community, viewerId);
  const cursor = c.req.query("cursor");
  const mod = (await actingIn(app.db, community.id, viewerId)) !== null;
  // Members only, so a visitor cannot make us fetch from other servers.
  if (user && community.local !== 1 && !cursor) await refreshed(app.remote, community.id);
  const threads = canRead
    ? await listThreads(app.db, community.id, { cursor, viewerId, moderator: mod, sort, period })
    : { items: [], pinned: [], nextCursor: null };
  // The next page keeps the order (and its period) it continues.
  const order: Record<string, string> = sort === "new" ? {} : sort === "top" ? { sort, period } : { sort };
  const query = (q: Record<string, string>) => `/@${community.slug}?${new URLSearchParams({ ...order, ...q })}`;
  return c.html(
    communityPage(pageContext(c), {
      community: { ...community, members: await memberCount(app.db, community.id) },
      membership: viewerId ? await membership(app.db, community.id, viewerId) : null,
      isModerator: mod,
      canRead,
      moderators: await moderators(app.db, community.id),
      threads: threads.items,
      pinned: threads.pinned,
      nextHref: threads.nextCursor ? query({ cursor: threads.nextCursor }) : null,
      pendingCount: mod ? (await pendingMembers(app.db, community.id)).length : 0,
      loggedIn: user !== undefined,
      sort: { current: sort, period, periods: Object.keys(TOP_PERIODS) },
    }),
  );
}

/** Waits for a refresh at most REFRESH_WAIT_MS; it carries on in the background, and its failure is not the page's. */
async function refreshed(remote: RemoteLookup | undefined, communityId: string): Promise<void> {
  if (!remote?.refreshCommunity) return;
  const refresh = Promise.resolve()
    .then(() => remote.refreshCommunity?.(communityId))
    .catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, REFRESH_WAIT_MS);
  });
  await Promise.race([refresh, timeout]);
  clearTimeout(timer);
}

// Joining a remote community is a Follow of its Group, pending until it answers.
communityRoutes.post(`${AT}/join`, async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const community = await getCommunity(app.db, handleOf(c));
  if (community.local === 1) await join(app.db, app.config.origin, community, user.actorId);
  else await followRemote(app.db, app.config.origin, user.actorId, community.id);
  return c.redirect(`/@${community.slug}`, 303);
});

communityRoutes.post(`${AT}/leave`, async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const community = await getCommunity(app.db, handleOf(c));
  if (community.local === 1) await leave(app.db, community.id, user.actorId);
  else await unfollowRemote(app.db, user.actorId, community.id);
  return c.redirect(`/@${community.slug}`, 303);
});

/** The community in the path, moderated by the reader: one of its moderators, or an admin. */
async function moderatedCommunity(c: WebContext) {
  const user = requireUser(c);
  const community = await getCommunity(c.get("app").db, handleOf(c));
  const acting = await actingIn(c.get("app").db, community.id, user.actorId);
  if (!acting) throw forbidden("only moderators of this community can do this");
  return { user, community, acting };
}

communityRoutes.get(`${AT}/moderation`, async (c) => {
  const { community } = await moderatedCommunity(c);
  const db = c.get("app").db;
  const log = await db
    .selectFrom("moderation_actions")
    .leftJoin("actors as m", "m.id", "moderation_actions.moderator_id")
    .leftJoin("actors as t", "t.id", "moderation_actions.target_actor_id")
    .select([
      "moderation_actions.action",
      "moderation_actions.created_at as createdAt",
      "m.username as moderator",
      "t.username as target",
    ])
    .where("moderation_actions.community_id", "=", community.id)
    .orderBy("moderation_actions.id", "desc")
    .limit(100)
    .execute();
  const pending = await pendingMembers(db, community.id);
  // Approving the first member from a server lets that server's admins read the community.
  const newServers = new Set<string>();
  for (const p of pending)
    if (p.local === 0 && !(await hasMemberOnServer(db, community.id, p.host))) newServers.add(p.host);
  const owner = community.local === 1 ? await ownerOf(c, community.id) : null;
  return c.html(
    moderationPage(pageContext(c), {
      slug: community.slug,
      name: community.name,
      local: community.local === 1,
      visibility: community.visibility,
      pending,
      newServers: [...newServers],
      bans: await activeBans(c, community.id),
      moderators: (await moderators(db, community.id)).map((m) => ({
        actorId: m.id,
        handle: m.local === 1 ? `@${m.username}` : `@${m.username}@${m.host}`,
        name: m.name,
        owner: m.id === owner,
      })),
      log: log.map((l) => ({ ...l, label: ACTION_LABELS[l.action] })),
    }),
  );
});

async function ownerOf(c: WebContext, communityId: string) {
  const row = await c
    .get("app")
    .db.selectFrom("communities")
    .select("created_by")
    .where("actor_id", "=", communityId)
    .executeTakeFirst();
  return row?.created_by ?? null;
}

/** Bans in force (an expired one no longer stops anyone), newest first. */
async function activeBans(c: WebContext, communityId: string) {
  const rows = await c
    .get("app")
    .db.selectFrom("community_bans")
    .innerJoin("actors", "actors.id", "community_bans.actor_id")
    .select(["actors.id", "actors.username", "actors.host", "actors.local"])
    .select(["community_bans.reason", "community_bans.created_at", "community_bans.expires_at"])
    .where("community_bans.community_id", "=", communityId)
    .where((eb) => eb.or([eb("community_bans.expires_at", "is", null), eb("community_bans.expires_at", ">", now())]))
    .orderBy("community_bans.created_at", "desc")
    .execute();
  return rows.map((r) => ({
    actorId: r.id,
    handle: r.local === 1 ? `@${r.username}` : `@${r.username}@${r.host}`,
    reason: r.reason,
    since: r.created_at,
    until: r.expires_at,
  }));
}

for (const decision of ["approve", "reject"] as const) {
  communityRoutes.post(`${AT}/members/:actorId/${decision}`, async (c) => {
    const { user, community } = await moderatedCommunity(c);
    await decideMembership(c.get("app").db, community.id, user.actorId, c.req.param("actorId"), decision === "approve");
    return c.redirect(`/@${community.slug}/moderation`, 303);
  });
}

communityRoutes.post(`${AT}/moderation/moderators`, async (c) => {
  const { community, acting } = await moderatedCommunity(c);
  const db = c.get("app").db;
  const form = await formFields(c);
  const member = await findLocalUser(db, (form.username ?? "").replace(/^@/, "").trim());
  if (!member) throw notFound(`user "${form.username ?? ""}"`);
  await addModerator(db, c.get("app").config.origin, acting, community.id, member.actorId);
  return c.redirect(`/@${community.slug}/moderation`, 303);
});

communityRoutes.post(`${AT}/moderation/moderators/:actorId/remove`, async (c) => {
  const { community, acting } = await moderatedCommunity(c);
  const app = c.get("app");
  await removeModerator(app.db, app.config.origin, acting, community.id, c.req.param("actorId"));
  return c.redirect(`/@${community.slug}/moderation`, 303);
});

/** Only a community that lives here has settings here. */
async function settingsOf(c: WebContext) {
  const { community } = await moderatedCommunity(c);
  if (community.local !== 1) throw notFound("settings of a community on another server");
  return community;
}

communityRoutes.get(`${AT}/settings`, async (c) => {
  const community = await settingsOf(c);
  return c.html(
    communityForm(pageContext(c), { kind: "edit", slug: community.slug }, { values: formValues(community) }),
  );
});

communityRoutes.post(`${AT}/settings`, async (c) => {
  const community = await settingsOf(c);
  const app = c.get("app");
  const form = await formFields(c);
  try {
    await updateCommunity(app.db, app.config.origin, community.id, {
      name: form.name ?? "",
      description: form.description,
      rules: form.rules,
      visibility: form.visibility as "public",
      join: form.join as "open",
      federation: form.federation as "federated",
      allowedServers: form.allowedServers,
      retentionDays: form.retentionDays ?? "",
      allowAnonymize: form.allowAnonymize === "1",
      hideModlogNames: form.hideModlogNames === "1",
    });
    return c.redirect(`/@${community.slug}`, 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return c.html(
      communityForm(
        pageContext(c),
        { kind: "edit", slug: community.slug },
        { values: form, errors: e.fields, message: e.message },
      ),
      422,
    );
  }
});

const formValues = (c: Community) => ({
  name: c.name ?? "",
  description: c.descriptionSource,
  rules: c.rulesSource,
  visibility: c.visibility,
  join: c.joinPolicy,
  federation: c.federation,
  allowedServers: c.allowedServers,
  retentionDays: c.retentionDays === null ? "" : String(c.retentionDays),
  allowAnonymize: c.allowAnonymize === 1 ? "1" : "",
  hideModlogNames: c.hideModlogNames === 1 ? "1" : "",
});
