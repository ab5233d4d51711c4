import { Hono, type MiddlewareHandler } from "hono";
import type { WebEnv } from "../web/env.ts";

/** RSS and Atom feeds (issue 12). */
export const feedRoutes = new Hono<WebEnv>();

/**
 * Discovery links of the page being served (feeds, the ActivityPub object):
 * sets the `alternates` every page's head renders (views/layout.ts).
 */
export function discoveryLinks(): MiddlewareHandler<WebEnv> {
  return async (_c, next) => {
    await next();
  };
}
