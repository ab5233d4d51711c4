import { readFileSync } from "node:fs";
import { Hono } from "hono";
import { adminPage } from "../../views/pages/admin.ts";
import { memberHome, visitorHome } from "../../views/pages/home.ts";
import { aboutPage, erasedAccountPage, profilePage } from "../../views/pages/misc.ts";
import { feedPage, tagPage } from "../../views/pages/posts.ts";
import { findLocalUser } from "../accounts/service.ts";
import { findRemoteActorByHandle } from "../actors/remote.ts";
import { clinicianBadge } from "../answers/clinicians.ts";
import { communityDirectory, DIRECTORY_DAYS, joinedCommunities, NEW_THREAD_DAYS } from "../communities/directory.ts";
import { membership } from "../communities/membership.ts";
import { renderCommunity } from "../communities/routes.ts";
import { findCommunityByHandle, mayCreateCommunity } from "../communities/service.ts";
import { renderMarkdown } from "../content/markdown.ts";
import { isErased } from "../erasure/receipt.ts";
import { DomainError, notFound } from "../errors.ts";
import { filterOf } from "../filters/service.ts";
import { followRemote, unfollowRemote } from "../follows/service.ts";
import { withImages } from "../media/shown.ts";
import { listByAuthor, listByTag, listFeed } from "../posts/queries.ts";
import { threadTitles } from "../posts/thread-titles.ts";
import { profileSanctions } from "../sanctions/routes.ts";
import { actorIri } from "../urls.ts";
import type { WebContext } from "../web/env.ts";
import { pageContext, type WebEnv, wantsActivityJson } from "../web/env.ts";
import { AT, formFields, handleOf } from "../web/forms.ts";
import { requireAdmin, requireUser } from "../web/session.ts";
import { getSettings, updateSettings } from "./settings.ts";

export const instanceRoutes = new Hono<WebEnv>();

const stylesheet = readFileSync(new URL("../../views/static/style.css", import.meta.url));
const icon = readFileSync(new URL("../../views/static/icon.svg", import.meta.url));

instanceRoutes.get("/static/style.css", (c) =>
  c.body(stylesheet, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=3600" }),
);
instanceRoutes.get("/static/icon.svg", (c) =>
  c.body(icon, 200, { "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400" }),
);
// Browsers ask for /favicon.ico regardless of the <link rel="icon">.
instanceRoutes.get("/favicon.ico", (c) => c.redirect("/static/icon.svg", 301));

// A member's home is their communities and what is new in them; a visitor's, the instance and its directory.
instanceRoutes.get("/", async (c) => {
  const app = c.get("app");
  const user = c.get("user");
  if (user) {
    const joined = await joinedCommunities(app.db, user.actorId);
    const handles = new Map(joined.map((j) => [j.id, j.handle]));
    const feed = await listFeed(app.db, user.actorId, { limit: 20, communitiesOnly: true });
    return c.html(
      memberHome(pageContext(c), {
        joined,
        feed: feed.items.map((p) => ({ ...p, communitySlug: handles.get(p.communityId ?? "") })),
        moreHref: feed.nextCursor ? "/feed" : null,
        newDays: NEW_THREAD_DAYS,
        directory: await directoryData(c, await mayCreateCommunity(app.db, user)),
      }),
    );
  }
  const settings = await getSettings(app.db);
  return c.html(
    visitorHome(pageContext(c), {
      descriptionHtml: renderMarkdown(settings.description, app.config.origin),
      ...(await directoryData(c, false)),
    }),
  );
});

/** A page of the directory; the next one is on /communities. */
async function directoryData(c: WebContext, mayCreate: boolean) {
  const page = await communityDirectory(c.get("app").db, { cursor: c.req.query("cursor") });
  const nextHref = page.nextCursor ? `/communities?cursor=${page.nextCursor}` : null;
  return { communities: page.items, nextHref, mayCreate, days: DIRECTORY_DAYS };
}

instanceRoutes.get("/feed", async (c) => {
  const user = requireUser(c);
  const page = await listFeed(c.get("app").db, user.actorId, { cursor: c.req.query("cursor") });
  const items = await withImages(c.get("app"), page.items);
  return c.html(feedPage(pageContext(c), items, page.nextCursor ? `/feed?cursor=${page.nextCursor}` : null));
});

instanceRoutes.get("/about", async (c) => {
  const db = c.get("app").db;
  const settings = await getSettings(db);
  const count = async (table: "users" | "communities") =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string | number>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const admins = await db
    .selectFrom("users")
    .innerJoin("actors", "actors.id", "users.actor_id")
    .select("actors.username")
    .where("users.role", "=", "admin")
    .orderBy("actors.id")
    .execute();
  return c.html(
    aboutPage(pageContext(c), {
      descriptionHtml: renderMarkdown(settings.description, c.get("app").config.origin),
      users: await count("users"),
      communities: await count("communities"),
      admins: admins.map((a) => a.username),
    }),
  );
});

instanceRoutes.get("/tags/:tag", async (c) => {
  const tag = c.req.param("tag").toLowerCase().slice(0, 64);
  const page = await listByTag(c.get("app").db, tag, {
    cursor: c.req.query("cursor"),
    viewerId: c.get("user")?.actorId,
  });
  return c.html(
    tagPage(
      pageContext(c),
      tag,
      await withImages(c.get("app"), page.items),
      page.nextCursor ? `/tags/${encodeURIComponent(tag)}?cursor=${page.nextCursor}` : null,
    ),
  );
});

instanceRoutes.get("/admin", async (c) => {
  requireAdmin(c);
  return c.html(adminPage(pageContext(c), await getSettings(c.get("app").db), { saved: c.req.query("saved") === "1" }));
});

instanceRoutes.post("/admin", async (c) => {
  requireAdmin(c);
  const form = await formFields(c);
  const patch = {
    description: form.description,
    communityCreation: form.communityCreation as "admins",
    registrations: form.registrations as "open",
    applicationQuestion: form.applicationQuestion,
    rules: form.rules,
    privacyNotice: form.privacyNotice,
    // A checkbox: absent when unticked.
    requireAgreement: form.requireAgreement === "1",
  };
  try {
    await updateSettings(c.get("app").db, patch);
    return c.redirect("/admin?saved=1", 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    const current = await getSettings(c.get("app").db);
    return c.html(
      adminPage(
        pageContext(c),
        {
          ...current,
          description: form.description ?? "",
          applicationQuestion: form.applicationQuestion ?? "",
          rules: form.rules ?? "",
          privacyNotice: form.privacyNotice ?? "",
        },
        { errors: e.fields, message: e.message },
      ),
      422,
    );
  }
});

// Following people on other servers.
for (const action of ["follow", "unfollow"] as const) {
  instanceRoutes.post(`${AT}/${action}`, async (c) => {
    const user = requireUser(c);
    const app = c.get("app");
    const handle = handleOf(c);
    const at = handle.lastIndexOf("@");
    const actor = at > 0 ? await findRemoteActorByHandle(app.db, handle.slice(0, at), handle.slice(at + 1)) : undefined;
    if (!actor) throw notFound(`@${handle}`);
    if (action === "follow") await followRemote(app.db, app.config.origin, user.actorId, actor.id);
    else await unfollowRemote(app.db, user.actorId, actor.id);
    return c.redirect(`/@${handle}`, 303);
  });
}

// `/@name` is an actor IRI: Fedify answers ActivityPub requests, browsers get
// the community page or the profile, whichever owns the name.
instanceRoutes.get(AT, async (c) => {
  const app = c.get("app");
  const name = handleOf(c);
  // An erased member's name stays reserved and answers 410 Gone, as Mastodon does for deleted accounts.
  if (!name.includes("@") && (await isErased(app.db, name))) {
    if (wantsActivityJson(c))
      return c.json(
        {
          "@context": "https://www.w3.org/ns/activitystreams",
          id: actorIri(app.config.origin, name.toLowerCase()),
          type: "Tombstone",
          formerType: "Person",
        },
        410,
        { "Content-Type": "application/activity+json" },
      );
    return c.html(erasedAccountPage(pageContext(c)), 410);
  }
  // No actor document was served (a local-only community, an unknown name): not an HTML page either.
  if (wantsActivityJson(c)) return c.json({ error: "not found" }, 404);
  const community = await findCommunityByHandle(app.db, name);
  if (community) return renderCommunity(c, community);
  if (name.includes("@")) return renderRemoteProfile(c, name);
  const user = await findLocalUser(app.db, name);
  if (!user) throw notFound(`@${name}`);
  const sanctions = await profileSanctions(c, user.actorId);
  if (sanctions.hidden) throw notFound(`@${name}`);
  const viewer = c.get("user");
  const posts = await listByAuthor(app.db, user.actorId, { cursor: c.req.query("cursor"), viewerId: viewer?.actorId });
  return c.html(
    profilePage(pageContext(c), {
      username: user.username,
      name: user.name,
      bioHtml: user.bioHtml,
      avatarUrl: user.avatarUrl,
      createdAt: user.createdAt,
      isClinician: user.isClinician === 1,
      clinician: user.isClinician === 1 ? await clinicianBadge(app.db, user.actorId) : null,
      role: user.role,
      posts: await withImages(app, posts.items),
      threadTitles: await threadTitles(app.db, posts.items),
      nextHref: posts.nextCursor ? `/@${user.username}?cursor=${posts.nextCursor}` : null,
      viewerIsAdmin: viewer?.role === "admin",
      adminPanel: sanctions.panel,
      canMessage: viewer !== undefined && viewer.actorId !== user.actorId,
      filter:
        viewer && viewer.actorId !== user.actorId
          ? { current: await filterOf(app.db, viewer.actorId, user.actorId) }
          : undefined,
    }),
  );
});

/** A person on another server, with what we hold of their public posts. */
async function renderRemoteProfile(c: WebContext, handle: string) {
  const app = c.get("app");
  const at = handle.lastIndexOf("@");
  const actor = await findRemoteActorByHandle(app.db, handle.slice(0, at), handle.slice(at + 1));
  if (!actor || actor.deleted_at) throw notFound(`@${handle}`);
  const sanctions = await profileSanctions(c, actor.id);
  if (sanctions.hidden) throw notFound(`@${handle}`);
  const viewer = c.get("user");
  const posts = await listByAuthor(app.db, actor.id, { cursor: c.req.query("cursor"), viewerId: viewer?.actorId });
  return c.html(
    profilePage(pageContext(c), {
      username: `${actor.username}@${actor.host}`,
      name: actor.name,
      bioHtml: actor.summary_html,
      avatarUrl: null,
      createdAt: actor.created_at,
      isClinician: false,
      role: "member",
      posts: await withImages(app, posts.items),
      threadTitles: await threadTitles(app.db, posts.items),
      nextHref: posts.nextCursor ? `/@${handle}?cursor=${posts.nextCursor}` : null,
      viewerIsAdmin: false,
      adminPanel: sanctions.panel,
      canMessage: viewer !== undefined && actor.type === "Person",
      filter: viewer ? { current: await filterOf(app.db, viewer.actorId, actor.id) } : undefined,
      remote: {
        url: actor.url ?? actor.iri,
        following: viewer ? await membership(app.db, actor.id, viewer.actorId) : null,
        canFollow: viewer !== undefined,
      },
    }),
  );
}
