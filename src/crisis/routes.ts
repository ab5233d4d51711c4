import { Hono } from "hono";
import { crisisAdminPage } from "../../views/pages/crisis.ts";
import { DomainError } from "../errors.ts";
import { pageContext, type WebEnv } from "../web/env.ts";
import { formFields } from "../web/forms.ts";
import { requireAdmin } from "../web/session.ts";
import { crisisSettings, saveCrisisSettings } from "./service.ts";

/** Admins edit the crisis notice and keywords, per language. */
export const crisisRoutes = new Hono<WebEnv>();

crisisRoutes.get("/admin/crisis", async (c) => {
  requireAdmin(c);
  const settings = await crisisSettings(c.get("app").db);
  return c.html(crisisAdminPage(pageContext(c), settings.languages, { saved: c.req.query("saved") === "1" }));
});

crisisRoutes.post("/admin/crisis", async (c) => {
  requireAdmin(c);
  const form = await formFields(c);
  const languages: { locale: string; notice: string; keywords: string }[] = [];
  for (let i = 0; i <= 40 && `locale_${i}` in form; i++) {
    const locale = (form[`locale_${i}`] ?? "").trim();
    if (locale) languages.push({ locale, notice: form[`notice_${i}`] ?? "", keywords: form[`keywords_${i}`] ?? "" });
  }
  try {
    await saveCrisisSettings(c.get("app").db, { languages });
    return c.redirect("/admin/crisis?saved=1", 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return c.html(crisisAdminPage(pageContext(c), languages, { message: e.message }), 422);
  }
});
