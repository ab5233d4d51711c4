import { Hono } from "hono";
import {
  applicationsPage,
  appliedPage,
  documentPage,
  invitesPage,
  type SignUpView,
  signUpPage,
} from "../../views/pages/registrations.ts";
import { markWelcome } from "../accounts/recovery-routes.ts";
import { renderMarkdown } from "../content/markdown.ts";
import { DomainError } from "../errors.ts";
import { getSettings } from "../instance/settings.ts";
import { clientIp } from "../web/client-ip.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { formFields } from "../web/forms.ts";
import { consume } from "../web/rate-limit.ts";
import { requireAdmin, startSession } from "../web/session.ts";
import { createInvite, listInvites, revokeInvite, usableInvite } from "./invites.ts";
import { approveApplication, listApplications, rejectApplication, signUp } from "./service.ts";

export const registrationRoutes = new Hono<WebEnv>();

async function signUpView(c: WebContext, code: string | undefined): Promise<SignUpView> {
  const db = c.get("app").db;
  const settings = await getSettings(db);
  return {
    mode: settings.registrations,
    question: settings.applicationQuestion,
    requireAgreement: settings.requireAgreement,
    hasRules: settings.rules.trim() !== "",
    invite: code ? { code, usable: (await usableInvite(db, code)) !== null } : null,
  };
}

registrationRoutes.get("/signup", async (c) =>
  c.html(signUpPage(pageContext(c), await signUpView(c, c.req.query("invite")))),
);

registrationRoutes.get("/invite/:code", (c) =>
  c.redirect(`/signup?invite=${encodeURIComponent(c.req.param("code"))}`, 302),
);

registrationRoutes.post("/signup", async (c) => {
  const app = c.get("app");
  const form = await formFields(c);
  await consume(app.db, `signup:${clientIp(c)}`, 10, 60 * 60_000);
  try {
    const outcome = await signUp(app.db, app.config.origin, {
      username: form.username ?? "",
      password: form.password ?? "",
      email: form.email,
      answer: form.answer,
      agreed: form.agree === "1",
      invite: form.invite || undefined,
    });
    if (outcome.kind === "applied") return c.html(appliedPage(pageContext(c), outcome.username), 202);
    await startSession(c, outcome.user.actorId);
    // Their recovery codes, once: with no email address they are the only way back in after a forgotten password.
    await markWelcome(c, outcome.user.actorId);
    return c.redirect("/welcome", 303);
  } catch (e) {
    if (!(e instanceof DomainError) || !["invalid", "conflict", "forbidden"].includes(e.code)) throw e;
    const { password: _, ...values } = form;
    const view = await signUpView(c, form.invite || undefined);
    return c.html(
      signUpPage(pageContext(c), view, { values, errors: e.fields, message: e.message }),
      httpStatus(e.code),
    );
  }
});

registrationRoutes.get("/rules", async (c) => {
  const settings = await getSettings(c.get("app").db);
  const body = settings.rules.trim() ? renderMarkdown(settings.rules, c.get("app").config.origin) : "";
  return c.html(documentPage(pageContext(c), "Rules", body, "This instance has no rules of its own yet."));
});

registrationRoutes.get("/privacy", async (c) => {
  const settings = await getSettings(c.get("app").db);
  const body = settings.privacyNotice.trim() ? renderMarkdown(settings.privacyNotice, c.get("app").config.origin) : "";
  return c.html(documentPage(pageContext(c), "Privacy notice", body, "No privacy notice has been written yet."));
});

registrationRoutes.get("/admin/registrations", async (c) => {
  requireAdmin(c);
  const done = c.req.query("done");
  const words =
    done === "approved" ? "Approved: the account exists now." : done === "rejected" ? "Rejected." : undefined;
  return c.html(applicationsPage(pageContext(c), await listApplications(c.get("app").db), words));
});

for (const decision of ["approve", "reject"] as const) {
  registrationRoutes.post(`/admin/registrations/:username/${decision}`, async (c) => {
    requireAdmin(c);
    const app = c.get("app");
    const username = c.req.param("username");
    if (decision === "approve") await approveApplication(app.db, app.config.origin, username);
    else await rejectApplication(app.db, username);
    return c.redirect(`/admin/registrations?done=${decision === "approve" ? "approved" : "rejected"}`, 303);
  });
}

async function renderInvites(c: WebContext, state: Parameters<typeof invitesPage>[2] = {}, status = 200) {
  const app = c.get("app");
  const invites = (await listInvites(app.db, { all: true })).map((i) => ({
    ...i,
    link: `${app.config.origin}/invite/${i.code}`,
  }));
  return c.html(invitesPage(pageContext(c), invites, state), status as 200);
}

registrationRoutes.get("/admin/invites", (c) => {
  requireAdmin(c);
  return renderInvites(c);
});

registrationRoutes.post("/admin/invites", async (c) => {
  const admin = requireAdmin(c);
  const form = await formFields(c);
  try {
    const invite = await createInvite(c.get("app").db, {
      createdBy: admin.actorId,
      maxUses: form.uses ? Number(form.uses) : null,
      expiresIn: form.expires ?? "7d",
    });
    return renderInvites(c, { made: `${c.get("app").config.origin}/invite/${invite.code}` });
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return renderInvites(c, { message: e.message }, 422);
  }
});

registrationRoutes.post("/admin/invites/:code/revoke", async (c) => {
  requireAdmin(c);
  await revokeInvite(c.get("app").db, c.req.param("code"));
  return c.redirect("/admin/invites", 303);
});
