import type { MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createSession, deleteSession, SESSION_DAYS, type SessionUser, userForSession } from "../accounts/service.ts";
import { DomainError } from "../errors.ts";
import type { WebContext, WebEnv } from "./env.ts";

const COOKIE = "kindred_session";

/** The logged-in user, if any, from the session cookie (for what runs before loadSession). */
export async function sessionUser(c: WebContext): Promise<SessionUser | undefined> {
  const token = getCookie(c, COOKIE);
  return token && token.length <= 64 ? await userForSession(c.get("app").db, token) : undefined;
}

/** Loads the logged-in user, if any, from the session cookie. */
export const loadSession = (): MiddlewareHandler<WebEnv> => async (c, next) => {
  c.set("user", await sessionUser(c));
  await next();
};

export async function startSession(c: WebContext, userId: string): Promise<void> {
  const app = c.get("app");
  const token = await createSession(app.db, userId, c.req.header("user-agent") ?? null);
  setCookie(c, COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: app.config.secure,
    path: "/",
    maxAge: SESSION_DAYS * 86_400,
  });
}

export async function endSession(c: WebContext): Promise<void> {
  const token = getCookie(c, COOKIE);
  if (token) await deleteSession(c.get("app").db, token);
  deleteCookie(c, COOKIE, { path: "/", secure: c.get("app").config.secure });
}

/** The logged-in user, or a 401 (which the error handler turns into a log-in redirect for pages). */
export function requireUser(c: WebContext): SessionUser {
  const user = c.get("user");
  if (!user) throw new DomainError("unauthorized", "log in to do this");
  return user;
}

export function requireAdmin(c: WebContext): SessionUser {
  const user = requireUser(c);
  if (user.role !== "admin") throw new DomainError("forbidden", "only admins can do this");
  return user;
}
