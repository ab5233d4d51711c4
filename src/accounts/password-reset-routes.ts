import { Hono } from "hono";
import { forgotPasswordPage, resetPasswordPage } from "../../views/pages/password-reset.ts";
import { DomainError } from "../errors.ts";
import { mailerFor } from "../mail/mailer.ts";
import { clientIp } from "../web/client-ip.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { formFields } from "../web/forms.ts";
import { consume, RateLimitedError } from "../web/rate-limit.ts";
import { requestPasswordReset, resetPassword, resetTokenValid } from "./password-reset.ts";

/** "Forgot your password?" by email (issue 13), when the instance sends mail (SMTP_URL). */
export const passwordResetRoutes = new Hono<WebEnv>();

const HOUR = 3_600_000;
const TOKEN = "{[A-Za-z0-9_-]{43}}";

passwordResetRoutes.get("/forgot-password", (c) =>
  c.html(forgotPasswordPage(pageContext(c), { enabled: mailerFor(c.get("app").config) !== null })),
);

passwordResetRoutes.post("/forgot-password", async (c) => {
  const app = c.get("app");
  const mailer = mailerFor(app.config);
  if (!mailer) return c.html(forgotPasswordPage(pageContext(c), { enabled: false }), 404);
  const form = await formFields(c);
  const identifier = (form.identifier ?? "").trim().slice(0, 320);
  try {
    // Bounded per address and per account, so the form mails nobody a flood of links.
    await consume(app.db, `reset:ip:${clientIp(c)}`, 10, HOUR);
    await consume(app.db, `reset:account:${identifier.toLowerCase()}`, 3, HOUR);
    await requestPasswordReset(
      app.db,
      mailer,
      { origin: app.config.origin, name: app.config.instanceName },
      identifier,
    );
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    if (e instanceof RateLimitedError) c.header("Retry-After", String(e.retryAfterSeconds));
    const state = { values: { identifier }, errors: e.fields, message: e.message };
    return c.html(forgotPasswordPage(pageContext(c), { enabled: true, state }), httpStatus(e.code));
  }
  return c.html(forgotPasswordPage(pageContext(c), { enabled: true, sent: true }));
});

async function renderReset(c: WebContext, state?: { errors?: Record<string, string>; message?: string }) {
  const token = c.req.param("token") ?? "";
  // The token is in the address: no cache keeps the page, and it is sent to no other site.
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  const valid = await resetTokenValid(c.get("app").db, token);
  return c.html(resetPasswordPage(pageContext(c), { token, valid, state }), valid ? (state ? 422 : 200) : 404);
}

passwordResetRoutes.get(`/reset-password/:token${TOKEN}`, (c) => renderReset(c));

passwordResetRoutes.post(`/reset-password/:token${TOKEN}`, async (c) => {
  const app = c.get("app");
  const form = await formFields(c);
  try {
    await consume(app.db, `reset:ip:${clientIp(c)}`, 20, HOUR);
    await resetPassword(app.db, c.req.param("token"), form.password ?? "");
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return renderReset(c, { errors: e.fields, message: e.message });
  }
  return c.redirect("/login?reset=1", 303);
});
