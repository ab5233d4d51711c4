// The moderation log pages: one community's (as readable as its threads) and
// the instance's. Public by default; listModlog decides what each reader sees.
import { Hono } from "hono";
import { modlogPage } from "../../views/pages/modlog.ts";
import { mayRead } from "../communities/membership.ts";
import { getCommunity } from "../communities/service.ts";
import { forbidden } from "../errors.ts";
import { pageContext, type WebEnv } from "../web/env.ts";
import { AT, handleOf } from "../web/forms.ts";
import { actingIn } from "./action-routes.ts";
import { listModlog } from "./modlog.ts";

export const modlogRoutes = new Hono<WebEnv>();

modlogRoutes.get("/modlog", async (c) => {
  const viewer = { actorId: c.get("user")?.actorId };
  const cursor = c.req.query("cursor");
  const log = await listModlog(c.get("app").db, { instance: true }, viewer, { cursor });
  return c.html(
    modlogPage(pageContext(c), {
      community: null,
      entries: log.items,
      nextHref: log.nextCursor ? `/modlog?cursor=${log.nextCursor}` : null,
    }),
  );
});

modlogRoutes.get(`${AT}/modlog`, async (c) => {
  const db = c.get("app").db;
  const viewerId = c.get("user")?.actorId;
  const community = await getCommunity(db, handleOf(c));
  // A members-only community's log is for those who may read its threads (and who moderate it).
  if (!(await mayRead(db, community, viewerId)) && !(await actingIn(db, community.id, viewerId)))
    throw forbidden("the moderation log of this community is for its members");
  const log = await listModlog(
    db,
    { communityId: community.id },
    { actorId: viewerId },
    {
      cursor: c.req.query("cursor"),
    },
  );
  return c.html(
    modlogPage(pageContext(c), {
      community: { slug: community.slug, name: community.name, hidesNames: community.hideModlogNames === 1 },
      entries: log.items,
      nextHref: log.nextCursor ? `/@${community.slug}/modlog?cursor=${log.nextCursor}` : null,
    }),
  );
});
