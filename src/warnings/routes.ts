import { Hono } from "hono";
import type { WarningChoice, WarningRequirement } from "../../db/warnings-schema.ts";
import { communityWarningsPage, warningSettingsPage } from "../../views/pages/warnings.ts";
import { getCommunity } from "../communities/service.ts";
import { DomainError, forbidden, notFound } from "../errors.ts";
import { mayModerate } from "../moderation/authority.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { AT, formFields, handleOf } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import {
  addCategory,
  categoriesForMember,
  crisisOptionsOf,
  listCategories,
  removeCategory,
  requirementOf,
  setCrisisOptions,
  setRequirement,
  setWarningChoice,
} from "./service.ts";

/** Content-warning categories: a community's moderators define them; each member chooses how to see them. */
export const warningRoutes = new Hono<WebEnv>();

async function moderated(c: WebContext) {
  const user = requireUser(c);
  const community = await getCommunity(c.get("app").db, handleOf(c));
  if (community.local !== 1) throw notFound("warnings of a community on another server");
  if (!(await mayModerate(c.get("app").db, community.id, user.actorId)))
    throw forbidden("only moderators of this community can do this");
  return community;
}

async function render(c: WebContext, state: Parameters<typeof communityWarningsPage>[2] = {}, status = 200) {
  const community = await moderated(c);
  const db = c.get("app").db;
  return c.html(
    communityWarningsPage(
      pageContext(c),
      {
        slug: community.slug,
        name: community.name ?? community.slug,
        categories: await listCategories(db, community.id),
        required: await requirementOf(db, community.id),
        crisis: await crisisOptionsOf(db, community.id),
      },
      state,
    ),
    status as 200,
  );
}

warningRoutes.get(`${AT}/warnings`, (c) => render(c));

warningRoutes.post(`${AT}/warnings`, async (c) => {
  const community = await moderated(c);
  const form = await formFields(c);
  try {
    await addCategory(c.get("app").db, community.id, {
      label: form.label ?? "",
      description: form.description ?? "",
      crisis: form.crisis === "1",
    });
    return c.redirect(`/@${community.slug}/warnings`, 303);
  } catch (e) {
    if (!(e instanceof DomainError) || !["invalid", "conflict"].includes(e.code)) throw e;
    return render(c, { errors: e.fields, message: e.message, values: form }, httpStatus(e.code));
  }
});

warningRoutes.post(`${AT}/warnings/requirement`, async (c) => {
  const community = await moderated(c);
  const form = await formFields(c);
  await setRequirement(c.get("app").db, community.id, (form.required ?? "") as WarningRequirement);
  return c.redirect(`/@${community.slug}/warnings`, 303);
});

warningRoutes.post(`${AT}/warnings/crisis`, async (c) => {
  const community = await moderated(c);
  const form = await formFields(c);
  try {
    await setCrisisOptions(c.get("app").db, community.id, { addition: form.addition ?? "", alert: form.alert === "1" });
    return c.redirect(`/@${community.slug}/warnings`, 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return render(c, { errors: e.fields, message: e.message }, 422);
  }
});

warningRoutes.post(`${AT}/warnings/:id/delete`, async (c) => {
  const community = await moderated(c);
  await removeCategory(c.get("app").db, community.id, c.req.param("id"));
  return c.redirect(`/@${community.slug}/warnings`, 303);
});

warningRoutes.get("/settings/warnings", async (c) => {
  const user = requireUser(c);
  const categories = await categoriesForMember(c.get("app").db, user.actorId);
  return c.html(warningSettingsPage(pageContext(c), categories, c.req.query("saved") === "1"));
});

warningRoutes.post("/settings/warnings", async (c) => {
  const user = requireUser(c);
  const db = c.get("app").db;
  const form = await formFields(c);
  // Only categories of communities the member belongs to: the same list the page showed.
  const offered = new Set((await categoriesForMember(db, user.actorId)).map((x) => x.id));
  for (const [key, value] of Object.entries(form)) {
    const id = key.startsWith("choice:") ? key.slice("choice:".length) : null;
    if (id && offered.has(id)) await setWarningChoice(db, user.actorId, id, value as WarningChoice);
  }
  return c.redirect("/settings/warnings?saved=1", 303);
});
