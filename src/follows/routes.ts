// A member's follow requests: the page a "requested to follow you"
// notification links to, and the member's answer to each.
import { Hono } from "hono";
import { followRequestsPage } from "../../views/pages/follow-requests.ts";
import { notFound } from "../errors.ts";
import type { WebEnv } from "../web/env.ts";
import { pageContext } from "../web/env.ts";
import { requireUser } from "../web/session.ts";
import { decideFollower, pendingFollowers } from "./requests.ts";

export const followRoutes = new Hono<WebEnv>();

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

followRoutes.get("/follow-requests", async (c) => {
  const user = requireUser(c);
  return c.html(followRequestsPage(pageContext(c), await pendingFollowers(c.get("app").db, user.actorId)));
});

for (const decision of ["approve", "decline"] as const) {
  followRoutes.post(`/follow-requests/:id/${decision}`, async (c) => {
    const user = requireUser(c);
    const id = c.req.param("id");
    if (!ID.test(id)) throw notFound("follow request");
    await decideFollower(c.get("app").db, user.actorId, id, decision === "approve");
    return c.redirect("/follow-requests", 303);
  });
}
