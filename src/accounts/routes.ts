import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Hono } from "hono";
import { logInPage, settingsPage } from "../../views/pages/auth.ts";
import { setClinician } from "../answers/clinicians.ts";
import { DomainError } from "../errors.ts";
import { avatarDir, avatarType, removeAvatar, saveAvatar } from "../media/avatars.ts";
import { isWaitingApplicant } from "../registrations/service.ts";
import { clientIp } from "../web/client-ip.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { AT, formBody, formFields, handleOf, safeNext } from "../web/forms.ts";
import { consume, RateLimitedError } from "../web/rate-limit.ts";
import { endSession, requireAdmin, requireUser, startSession } from "../web/session.ts";
import { beginLogin } from "./login-limits.ts";
import { recoveryCodesLeft } from "./recovery.ts";
import { authenticate, changePassword, findLocalUser, setAvatar, updateProfile } from "./service.ts";

const PASSWORD_CHANGE_WINDOW_MS = 15 * 60_000;
const PASSWORD_CHANGES = 10;

export const accountRoutes = new Hono<WebEnv>();

accountRoutes.get("/login", (c) =>
  c.html(logInPage(pageContext(c), {}, safeNext(c.req.query("next")), c.get("app").config.smtpUrl !== null)),
);

accountRoutes.post("/login", async (c) => {
  const app = c.get("app");
  const form = await formFields(c);
  const username = (form.username ?? "").trim();
  const next = safeNext(form.next);
  try {
    const attempt = await beginLogin(app.db, username, clientIp(c));
    const actorId = await authenticate(app.db, username, form.password ?? "").catch(async (e: unknown) => {
      await attempt.finish(false);
      // An applicant who tries their new password is told where things stand, not "wrong password".
      if (await isWaitingApplicant(app.db, username, form.password ?? ""))
        throw new DomainError("forbidden", "your application is waiting for an admin: you can log in once approved");
      throw e;
    });
    await attempt.finish(true);
    await startSession(c, actorId);
    return c.redirect(next, 303);
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    if (e instanceof RateLimitedError) c.header("Retry-After", String(e.retryAfterSeconds));
    return c.html(logInPage(pageContext(c), { values: { username }, message: e.message }, next), httpStatus(e.code));
  }
});

accountRoutes.post("/logout", async (c) => {
  await endSession(c);
  return c.redirect("/", 303);
});

export async function settingsView(c: WebContext) {
  const user = requireUser(c);
  const full = await findLocalUser(c.get("app").db, user.username);
  if (!full) throw new DomainError("not_found", "user not found");
  return {
    displayName: full.name ?? "",
    bio: full.bioSource,
    email: full.email ?? "",
    avatarUrl: full.avatarUrl,
    recoveryLeft: await recoveryCodesLeft(c.get("app").db, user.actorId),
  };
}

accountRoutes.get("/settings", async (c) =>
  c.html(settingsPage(pageContext(c), await settingsView(c), { saved: c.req.query("saved") === "1" })),
);

accountRoutes.post("/settings/profile", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const body = await formBody(c);
  const form = await formFields(c);
  try {
    const current = await findLocalUser(app.db, user.username);
    const upload = body.avatar;
    // The file is checked before anything is saved: a refused upload changes nothing.
    const saved = upload instanceof File && upload.size > 0 ? await saveAvatar(app.config.dataDir, upload) : undefined;
    await updateProfile(app.db, app.config.origin, user.actorId, {
      displayName: form.displayName ?? "",
      bio: form.bio ?? "",
      email: form.email,
    }).catch(async (e) => {
      if (saved) await removeAvatar(app.config.dataDir, `${app.config.origin}/media/avatars/${saved}`);
      throw e;
    });
    if (saved) {
      await setAvatar(app.db, user.actorId, `${app.config.origin}/media/avatars/${saved}`);
      await removeAvatar(app.config.dataDir, current?.avatarUrl ?? null);
    } else if (form.removeAvatar === "1") {
      await setAvatar(app.db, user.actorId, null);
      await removeAvatar(app.config.dataDir, current?.avatarUrl ?? null);
    }
    return c.redirect("/settings?saved=1", 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    const view = await settingsView(c);
    return c.html(
      settingsPage(
        pageContext(c),
        { ...view, displayName: form.displayName ?? "", bio: form.bio ?? "", email: form.email ?? "" },
        { errors: e.fields, message: e.message },
      ),
      422,
    );
  }
});

accountRoutes.post("/settings/password", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const form = await formFields(c);
  try {
    await consume(app.db, `password:${user.actorId}`, PASSWORD_CHANGES, PASSWORD_CHANGE_WINDOW_MS);
    await changePassword(app.db, user.actorId, form.current ?? "", form.password ?? "");
    await startSession(c, user.actorId);
    return c.redirect("/settings?saved=1", 303);
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return c.html(
      settingsPage(pageContext(c), await settingsView(c), { passwordErrors: e.fields, passwordMessage: e.message }),
      httpStatus(e.code),
    );
  }
});

// The badge form on a profile, for admins: a profession (and registration reference) grants or changes it.
accountRoutes.post(`${AT}/clinician`, async (c) => {
  const admin = requireAdmin(c);
  const form = await formFields(c);
  const badge = form.verified === "0" ? null : { profession: form.profession ?? "", registration: form.registration };
  await setClinician(c.get("app").db, handleOf(c), badge, admin.actorId);
  return c.redirect(`/@${handleOf(c)}`, 303);
});

accountRoutes.get("/media/avatars/:name{[0-9a-f-]{36}\\.(png|jpg|gif|webp)}", async (c) => {
  const name = c.req.param("name");
  const file = await readFile(join(avatarDir(c.get("app").config.dataDir), name)).catch(() => undefined);
  if (!file) throw new DomainError("not_found", "file not found");
  return c.body(file, 200, {
    "Content-Type": avatarType(name) ?? "application/octet-stream",
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
  });
});
