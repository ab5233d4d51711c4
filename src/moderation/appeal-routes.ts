import { Hono } from "hono";
import type { WebEnv } from "../web/env.ts";

export const appealRoutes = new Hono<WebEnv>();
