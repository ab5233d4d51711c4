import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { secureHeaders } from "hono/secure-headers";
import { DomainError } from "../errors.ts";
import type { WebEnv } from "./env.ts";
import { formBody } from "./forms.ts";

/** Strict headers on every response: nothing loads from anywhere but us. */
export const securityHeaders = (secure: boolean) =>
  secureHeaders({
    // HSTS only means something over https; on http it would pin localhost.
    strictTransportSecurity: secure ? "max-age=15552000; includeSubDomains" : false,
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    referrerPolicy: "same-origin",
    crossOriginResourcePolicy: "same-origin",
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], browsingTopics: [] },
  });

const CSRF_COOKIE = "kindred_csrf";

/**
 * CSRF protection for every form: a random per-browser cookie, and forms carry
 * an HMAC of it under the server secret (a signed double-submit token). POSTs
 * must present the token; ActivityPub inbox POSTs (JSON) are authenticated by
 * HTTP signatures instead and never reach this check.
 */
export function csrf(secret: string, secure: boolean): MiddlewareHandler<WebEnv> {
  const sign = (value: string) => createHmac("sha256", secret).update(`csrf:${value}`).digest("base64url");
  return async (c, next) => {
    let seed = getCookie(c, CSRF_COOKIE);
    if (!seed || !/^[\w-]{20,64}$/.test(seed)) {
      seed = randomBytes(24).toString("base64url");
      setCookie(c, CSRF_COOKIE, seed, { httpOnly: true, sameSite: "Lax", secure, path: "/" });
    }
    const expected = sign(seed);
    c.set("csrf", expected);
    // Every state-changing request must carry the token, whatever its body type
    // (ActivityPub inbox POSTs were answered by Fedify before this point).
    if (!["GET", "HEAD", "OPTIONS"].includes(c.req.method)) {
      const form = isForm(c.req.header("content-type")) ? await formBody(c) : {};
      const given = typeof form._csrf === "string" ? form._csrf : "";
      if (!safeEqual(given, expected)) {
        throw new DomainError("forbidden", "missing or invalid CSRF token: reload the page and try again");
      }
    }
    await next();
  };
}

const isForm = (type: string | undefined) =>
  /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type ?? "");

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
