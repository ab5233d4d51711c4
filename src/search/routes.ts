import { Hono } from "hono";
import type { WebEnv } from "../web/env.ts";

/** Search (issue 12); registered before the instance routes, so its `/search` wins. */
export const searchRoutes = new Hono<WebEnv>();
