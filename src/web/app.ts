import type { FederationFetchOptions } from "@fedify/fedify";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { errorPage } from "../../views/pages/misc.ts";
import { dataRoutes } from "../accounts/data-routes.ts";
import { passwordResetRoutes } from "../accounts/password-reset-routes.ts";
import { recoveryRoutes } from "../accounts/recovery-routes.ts";
import { accountRoutes } from "../accounts/routes.ts";
import { answerRoutes } from "../answers/routes.ts";
import { communityRoutes } from "../communities/routes.ts";
import type { AppContext } from "../context.ts";
import { crisisRoutes } from "../crisis/routes.ts";
import { DomainError } from "../errors.ts";
import { discoveryLinks, feedRoutes } from "../feeds/routes.ts";
import { filterRoutes } from "../filters/routes.ts";
import { followRoutes } from "../follows/routes.ts";
import { instanceRoutes } from "../instance/routes.ts";
import { logger } from "../logging.ts";
import { imageFormMaxBytes, takesImages } from "../media/form.ts";
import { mediaRoutes } from "../media/routes.ts";
import { messageRoutes } from "../messages/routes.ts";
import { appealRoutes } from "../moderation/appeal-routes.ts";
import { reportRoutes } from "../moderation/report-routes.ts";
import { moderationRoutes } from "../moderation/routes.ts";
import { digestSettingsRoutes, unsubscribeRoutes } from "../notifications/digest-routes.ts";
import { notificationRoutes, unreadNotifications } from "../notifications/routes.ts";
import { policyRoutes } from "../policy/routes.ts";
import { postRoutes } from "../posts/routes.ts";
import { registrationRoutes } from "../registrations/routes.ts";
import { sanctionRoutes, suspendedGate } from "../sanctions/routes.ts";
import { searchRoutes } from "../search/routes.ts";
import { warningRoutes } from "../warnings/routes.ts";
import { pageContext, type WebEnv } from "./env.ts";
import { httpStatus } from "./errors.ts";
import { RateLimitedError } from "./rate-limit.ts";
import { csrf, securityHeaders } from "./security.ts";
import { loadSession, sessionUser } from "./session.ts";

/** Largest request body we read: forms, avatar uploads and inbox activities all fit well under it. */
export const MAX_BODY_BYTES = 1024 * 1024;

const log = logger("http");

/** Fedify's request handler (federation/ wraps it to normalise what goes on the wire). */
export type FederationHandler = (request: Request, options: FederationFetchOptions<AppContext>) => Promise<Response>;

export function createApp(ctx: AppContext, federation?: FederationHandler): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.use(async (c, next) => {
    c.set("app", ctx);
    c.set("csrf", "");
    const started = performance.now();
    // A policy change made by any process (the CLI, another node) applies from this request on.
    await ctx.policy.ensureFresh();
    await next();
    // A receipt's address is its only key: never logged.
    const path = redactedPath(c.req.path);
    log.debug("{method} {path} {status} {ms}ms", {
      method: c.req.method,
      path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  });
  app.use(securityHeaders(ctx.config.secure));
  const plainLimit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new DomainError("too_large", `the request body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
    },
  });
  // Forms that post images take four of the largest allowed size, and no more.
  const imageFormBytes = imageFormMaxBytes(ctx.config);
  const imageFormLimit = bodyLimit({
    maxSize: imageFormBytes,
    onError: () => {
      const mib = Math.floor(ctx.config.mediaMaxBytes / (1024 * 1024));
      throw new DomainError("too_large", `the form is too large: at most 4 images of ${mib} MiB each`);
    },
  });
  // Only a logged-in member gets the larger limit: a stranger's 40 MiB would otherwise be read (for its CSRF
  // token) before anything refuses it.
  app.use(async (c, next) => {
    const images = takesImages(c.req.method, c.req.path, c.req.header("content-type")) && (await sessionUser(c));
    return (images ? imageFormLimit : plainLimit)(c, next);
  });
  // PostgreSQL refuses a NUL in text, and no address of ours holds one: refused at the door, not as a 500.
  app.use(async (c, next) => {
    if (/%00|\0/.test(c.req.url)) throw new DomainError("bad_request", "the address contains a NUL character");
    await next();
  });
  // Images before anything per-visitor: they need no session, CSRF token or notification count.
  app.route("/", mediaRoutes);
  // An email's unsubscribe link: no session, and no CSRF token (RFC 8058 one-click; its key is the credential).
  app.route("/", unsubscribeRoutes);
  // ActivityPub first: Fedify answers what it knows (actors, objects, inboxes,
  // WebFinger, NodeInfo) and hands everything else, including browsers asking
  // for HTML at an IRI, to the routes below.
  if (federation) {
    app.use(async (c, next) =>
      privateWhereSigned(
        c.req.path,
        await federation(c.req.raw, {
          contextData: ctx,
          onNotFound: async () => {
            await next();
            return c.res;
          },
          onNotAcceptable: async () => {
            await next();
            // Fedify logs what this returns: a browser asking for a page that isn't there gets our 404
            // page, logged as 404; 406 is for clients that asked for a format we don't serve here.
            if (c.res.status !== 404 || acceptsHtml(c.req.header("Accept"))) return c.res;
            return new Response("Not acceptable", {
              status: 406,
              headers: { "Content-Type": "text/plain", Vary: "Accept" },
            });
          },
        }),
      ),
    );
  }
  app.use(csrf(ctx.config.secretKey, ctx.config.secure));
  app.use(loadSession());
  // A suspended member reaches only their suspension page (src/sanctions/).
  app.use(suspendedGate());
  app.use(unreadNotifications());
  app.use(discoveryLinks());
  app.route("/", searchRoutes);
  app.route("/", feedRoutes);
  app.route("/", instanceRoutes);
  app.route("/", accountRoutes);
  app.route("/", registrationRoutes);
  app.route("/", recoveryRoutes);
  app.route("/", sanctionRoutes);
  app.route("/", passwordResetRoutes);
  app.route("/", warningRoutes);
  app.route("/", crisisRoutes);
  app.route("/", dataRoutes);
  app.route("/", communityRoutes);
  app.route("/", postRoutes);
  app.route("/", answerRoutes);
  app.route("/", messageRoutes);
  app.route("/", policyRoutes);
  app.route("/", filterRoutes);
  app.route("/", moderationRoutes);
  app.route("/", reportRoutes);
  app.route("/", appealRoutes);
  app.route("/", notificationRoutes);
  app.route("/", followRoutes);
  app.route("/", digestSettingsRoutes);

  app.notFound((c) => c.html(errorPage(pageContext(c), 404, "There is nothing at this address."), 404));
  app.onError((err, c) => {
    if (err instanceof DomainError) {
      if (err.code === "unauthorized" && c.req.method === "GET") {
        return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
      }
      const status = httpStatus(err.code);
      if (err instanceof RateLimitedError) c.header("Retry-After", String(err.retryAfterSeconds));
      return c.html(errorPage(pageContext(c), status, err.message), status);
    }
    log.error("unhandled error on {method} {path}: {error}", {
      method: c.req.method,
      path: redactedPath(c.req.path),
      error: err,
    });
    return c.html(errorPage(pageContext(c), 500, "Something went wrong on our side. The error was logged."), 500);
  });
  return app;
}

const acceptsHtml = (accept: string | undefined) => accept !== undefined && /\btext\/html\b/i.test(accept);

/** Collections whose items depend on who signed the request (FEDERATION.md, "Privacy of membership"). */
const SIGNER_DEPENDENT = /^\/@[^/]+\/(followers|following|moderators)$/;

/** A shared cache must never hand the list one actor signed for to anyone else. */
function privateWhereSigned(path: string, res: Response): Response {
  if (!SIGNER_DEPENDENT.test(path) || res.headers.get("Content-Type")?.includes("html")) return res;
  const headers = new Headers(res.headers);
  headers.set("Cache-Control", "private");
  headers.append("Vary", "Signature, Authorization");
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/** Paths whose last part is a credential (a receipt's key, a reset token, an invite code): never logged. */
const redactedPath = (path: string) =>
  path
    .replace(/^\/(erasures|reset-password|invite)\/[^/]+/, "/$1/…")
    .replace(/^\/email\/unsubscribe.*$/, "/email/unsubscribe");
