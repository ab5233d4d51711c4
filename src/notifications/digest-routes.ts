// The email digest's routes: the member's choice (behind login and CSRF, like
// every settings form), and the unsubscribe link of every digest. That link
// works without login and without a CSRF token, as RFC 8058's one-click POST
// from a mail provider must: its random key is the only credential, and it
// can only turn digests off. It is mounted before the CSRF check (web/app.ts).
import { Hono } from "hono";
import { unsubscribePage } from "../../views/pages/email-digest.ts";
import { DomainError } from "../errors.ts";
import type { WebEnv } from "../web/env.ts";
import { pageContext } from "../web/env.ts";
import { formFields } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import { digestByToken, setDigestFrequency, TOKEN_SHAPE, unsubscribe } from "./digest-settings.ts";

export const digestSettingsRoutes = new Hono<WebEnv>();

digestSettingsRoutes.post("/settings/notifications/digest", async (c) => {
  const user = requireUser(c);
  const form = await formFields(c);
  const app = c.get("app");
  await setDigestFrequency(app.db, user.actorId, form.digest ?? "", app.config.smtpUrl !== null);
  return c.redirect("/settings/notifications?saved=1#email-digest", 303);
});

export const unsubscribeRoutes = new Hono<WebEnv>();

// The key is in the query, not the path: request logs record paths only.
const tokenOf = (token: string | undefined) => {
  if (!token || !TOKEN_SHAPE.test(token)) throw new DomainError("bad_request", "this unsubscribe link is incomplete");
  return token;
};
const actionOf = (token: string) => `/email/unsubscribe?token=${encodeURIComponent(token)}`;

unsubscribeRoutes.get("/email/unsubscribe", async (c) => {
  const token = tokenOf(c.req.query("token"));
  const digest = await digestByToken(c.get("app").db, token);
  c.header("Cache-Control", "no-store");
  if (!digest) return c.html(unsubscribePage(pageContext(c), "unknown", actionOf(token)), 404);
  return c.html(unsubscribePage(pageContext(c), "confirm", actionOf(token), digest.frequency));
});

/** The confirmation form's POST and the mail provider's one-click POST alike; repeating it is harmless. */
unsubscribeRoutes.post("/email/unsubscribe", async (c) => {
  const token = tokenOf(c.req.query("token"));
  await unsubscribe(c.get("app").db, token);
  c.header("Cache-Control", "no-store");
  return c.html(unsubscribePage(pageContext(c), "done", actionOf(token)));
});
