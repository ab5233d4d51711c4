import { Hono } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { settingsPage } from "../../views/pages/auth.ts";
import { recoverPage, recoveryCodesPage } from "../../views/pages/recovery.ts";
import { DomainError } from "../errors.ts";
import { clientIp } from "../web/client-ip.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { formFields } from "../web/forms.ts";
import { consume, RateLimitedError } from "../web/rate-limit.ts";
import { requireUser, startSession } from "../web/session.ts";
import { newRecoveryCodes, recoverAccount, regenerateRecoveryCodes } from "./recovery.ts";
import { settingsView } from "./routes.ts";

/** Account recovery with a one-time code (issue 13), and making new codes in the settings. */
export const recoveryRoutes = new Hono<WebEnv>();

const HOUR = 3_600_000;
/** How long after sign-up the new member's codes are shown without asking for the password. */
const WELCOME_SECONDS = 10 * 60;
const WELCOME_COOKIE = "kindred_welcome";

/** Set by the sign-up: this browser may see the new account's recovery codes, once. */
export async function markWelcome(c: WebContext, actorId: string): Promise<void> {
  const app = c.get("app");
  await setSignedCookie(c, WELCOME_COOKIE, actorId, app.config.secretKey, {
    httpOnly: true,
    sameSite: "Lax",
    secure: app.config.secure,
    path: "/welcome",
    maxAge: WELCOME_SECONDS,
  });
}

// Right after sign-up: the new member's codes, made and shown once (a reload goes home).
recoveryRoutes.get("/welcome", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const had = await app.db
    .selectFrom("recovery_codes")
    .select("user_id")
    .where("user_id", "=", user.actorId)
    .executeTakeFirst();
  // Only in the browser that just signed up (a signed cookie the sign-up set, for a few minutes): anywhere else,
  // codes that reset the password take the password to make (Settings), or a stolen session would be a stolen
  // account.
  const marked = await getSignedCookie(c, app.config.secretKey, WELCOME_COOKIE);
  deleteCookie(c, WELCOME_COOKIE, { path: "/welcome", secure: app.config.secure });
  if (had || marked !== user.actorId) return c.redirect("/", 303);
  const codes = await newRecoveryCodes(app.db, user.actorId);
  c.header("Cache-Control", "no-store");
  return c.html(recoveryCodesPage(pageContext(c), codes, "/"));
});

recoveryRoutes.get("/recover", (c) => c.html(recoverPage(pageContext(c))));

recoveryRoutes.post("/recover", async (c) => {
  const app = c.get("app");
  const form = await formFields(c);
  // The account's name as the lookup reads it ("@Alice" is "alice"): one allowance per account.
  const username = (form.username ?? "").trim().replace(/^@/, "").toLowerCase().slice(0, 30);
  try {
    // Guessing is bounded per address and per account (codes carry 80 bits; this keeps it that way).
    await consume(app.db, `recover:ip:${clientIp(c)}`, 10, HOUR);
    await consume(app.db, `recover:account:${username}`, 10, HOUR);
    const { userId, left } = await recoverAccount(app.db, {
      username,
      code: form.code ?? "",
      password: form.password ?? "",
    });
    await startSession(c, userId);
    return c.redirect(`/settings?recovered=${left}`, 303);
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    if (e instanceof RateLimitedError) c.header("Retry-After", String(e.retryAfterSeconds));
    return c.html(
      recoverPage(pageContext(c), { values: { username: form.username ?? "" }, errors: e.fields, message: e.message }),
      httpStatus(e.code),
    );
  }
});

recoveryRoutes.post("/settings/recovery-codes", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const form = await formFields(c);
  try {
    await consume(app.db, `recovery-codes:${user.actorId}`, 10, HOUR);
    const codes = await regenerateRecoveryCodes(app.db, user.actorId, form.current ?? "");
    c.header("Cache-Control", "no-store");
    return c.html(recoveryCodesPage(pageContext(c), codes, "/settings"));
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    const view = await settingsView(c);
    return c.html(
      settingsPage(pageContext(c), view, { recovery: { errors: e.fields, message: e.message } }),
      httpStatus(e.code),
    );
  }
});
