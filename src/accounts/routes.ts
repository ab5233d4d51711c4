import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono } from "hono";
import { logInPage, settingsPage, signUpPage } from "../../views/pages/auth.ts";
import { DomainError } from "../errors.ts";
import { getSettings } from "../instance/settings.ts";
import { avatarDir, avatarType, removeAvatar, saveAvatar } from "../media/avatars.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { AT, formBody, formFields, handleOf, safeNext } from "../web/forms.ts";
import { consume, RateLimitedError } from "../web/rate-limit.ts";
import { endSession, requireAdmin, requireUser, startSession } from "../web/session.ts";
import { beginLogin } from "./login-limits.ts";
import {
  authenticate,
  changePassword,
  createUser,
  findLocalUser,
  setAvatar,
  setClinician,
  updateProfile,
} from "./service.ts";

const PASSWORD_CHANGE_WINDOW_MS = 15 * 60_000;
const PASSWORD_CHANGES = 10;

export const accountRoutes = new Hono<WebEnv>();

accountRoutes.get("/signup", async (c) => {
  const open = (await getSettings(c.get("app").db)).registrations === "open";
  return c.html(signUpPage(pageContext(c), {}, open));
});

accountRoutes.post("/signup", async (c) => {
  const app = c.get("app");
  if ((await getSettings(app.db)).registrations !== "open")
    throw new DomainError("forbidden", "sign-ups are closed on this instance");
  const form = await formFields(c);
  await consume(app.db, `signup:${clientIp(c)}`, 10, 60 * 60_000);
  try {
    const user = await createUser(app.db, app.config.origin, {
      username: form.username ?? "",
      password: form.password ?? "",
      email: form.email,
    });
    await startSession(c, user.actorId);
    return c.redirect("/", 303);
  } catch (e) {
    if (!(e instanceof DomainError) || (e.code !== "invalid" && e.code !== "conflict")) throw e;
    const { password: _, ...values } = form;
    return c.html(signUpPage(pageContext(c), { values, errors: e.fields, message: e.message }), httpStatus(e.code));
  }
});

accountRoutes.get("/login", (c) => c.html(logInPage(pageContext(c), {}, safeNext(c.req.query("next")))));

accountRoutes.post("/login", async (c) => {
  const app = c.get("app");
  const form = await formFields(c);
  const username = (form.username ?? "").trim();
  const next = safeNext(form.next);
  try {
    const attempt = await beginLogin(app.db, username, clientIp(c));
    const actorId = await authenticate(app.db, username, form.password ?? "").catch(async (e: unknown) => {
      await attempt.finish(false);
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

async function settingsView(c: WebContext) {
  const user = requireUser(c);
  const full = await findLocalUser(c.get("app").db, user.username);
  if (!full) throw new DomainError("not_found", "user not found");
  return { displayName: full.name ?? "", bio: full.bioSource, email: full.email ?? "", avatarUrl: full.avatarUrl };
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

accountRoutes.post(`${AT}/clinician`, async (c) => {
  requireAdmin(c);
  const form = await formFields(c);
  await setClinician(c.get("app").db, handleOf(c), form.verified === "1");
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

/** The peer address; behind a reverse proxy, set TRUST_PROXY so X-Forwarded-For is used. */
export function clientIp(c: WebContext): string {
  if (c.get("app").config.trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
