import { Hono } from "hono";
import { filtersPage } from "../../views/pages/filters.ts";
import { findLocalUser } from "../accounts/service.ts";
import { findRemoteActorByHandle } from "../actors/remote.ts";
import { DomainError, notFound } from "../errors.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { AT, formFields, handleOf } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import { blockServer, filterPerson, listFilters, unblockServer, unfilterPerson } from "./service.ts";

export const filterRoutes = new Hono<WebEnv>();

async function targetOf(c: WebContext): Promise<string> {
  const db = c.get("app").db;
  const handle = handleOf(c);
  const at = handle.lastIndexOf("@");
  const actor =
    at > 0
      ? await findRemoteActorByHandle(db, handle.slice(0, at), handle.slice(at + 1))
      : await findLocalUser(db, handle).then((u) => (u ? { id: u.actorId } : undefined));
  if (!actor) throw notFound(`@${handle}`);
  return actor.id;
}

for (const action of ["mute", "block", "unfilter"] as const) {
  filterRoutes.post(`${AT}/${action}`, async (c) => {
    const user = requireUser(c);
    const target = await targetOf(c);
    if (action === "unfilter") await unfilterPerson(c.get("app").db, user.actorId, target);
    else await filterPerson(c.get("app").db, user.actorId, target, action);
    return c.redirect(`/@${handleOf(c)}`, 303);
  });
}

async function render(c: WebContext, state: { message?: string; notice?: string } = {}, status: 200 | 422 = 200) {
  const user = requireUser(c);
  const rows = await listFilters(c.get("app").db, user.actorId);
  return c.html(
    filtersPage(
      pageContext(c),
      rows.map((r) => ({
        kind: r.kind,
        label: r.domain ?? (r.local === 1 ? `@${r.username}` : `@${r.username}@${r.host}`),
        handle: r.domain ?? (r.local === 1 ? (r.username ?? "") : `${r.username}@${r.host}`),
      })),
      state,
    ),
    status,
  );
}

filterRoutes.get("/settings/filters", (c) => render(c));

filterRoutes.post("/settings/filters/servers", async (c) => {
  const user = requireUser(c);
  const form = await formFields(c);
  try {
    const { followsEnded } = await blockServer(c.get("app").db, user.actorId, form.domain ?? "");
    const ended = followsEnded > 0 ? `; ${followsEnded} follows ended` : "";
    return render(c, { notice: `Blocked ${form.domain?.trim().toLowerCase()} for you${ended}.` });
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return render(c, { message: e.message }, httpStatus(e.code) as 422);
  }
});

filterRoutes.post("/settings/filters/servers/:domain/remove", async (c) => {
  const user = requireUser(c);
  await unblockServer(c.get("app").db, user.actorId, c.req.param("domain"));
  return c.redirect("/settings/filters", 303);
});
