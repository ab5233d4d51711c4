import type { Context } from "hono";
import type { AlternateLink, PageContext } from "../../views/layout.ts";
import type { SessionUser } from "../accounts/service.ts";
import type { AppContext } from "../context.ts";

/** Hono variables every handler can read. */
export interface WebEnv {
  Variables: {
    app: AppContext;
    user: SessionUser | undefined;
    /** CSRF token for forms on this page. */
    csrf: string;
    /** The reader's unread notifications, for the header (set by `unreadNotifications()`). */
    unread: number | undefined;
    /** The page's discovery links (feeds, its ActivityPub object), set by `discoveryLinks()`. */
    alternates: AlternateLink[] | undefined;
  };
}

export type WebContext = Context<WebEnv>;

/** What views need about the reader. */
export function pageContext(c: WebContext): PageContext {
  const user = c.get("user");
  return {
    instanceName: c.get("app").config.instanceName,
    viewer: user ? { username: user.username, name: user.name, role: user.role } : undefined,
    csrf: c.get("csrf"),
    unread: c.get("unread"),
    alternates: c.get("alternates") ?? [],
  };
}

/** An ActivityPub client asking (Fedify answered nothing for it, so there is no such object for them). */
export const wantsActivityJson = (c: WebContext): boolean =>
  /application\/(activity\+json|ld\+json)/.test(c.req.header("accept") ?? "");
