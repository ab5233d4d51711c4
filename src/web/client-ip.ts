import { getConnInfo } from "@hono/node-server/conninfo";
import type { WebContext } from "./env.ts";

/** The peer address; behind a reverse proxy, set TRUST_PROXY so X-Forwarded-For is used. */
export function clientIp(c: WebContext): string {
  if (c.get("app").config.trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
