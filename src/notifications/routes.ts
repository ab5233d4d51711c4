// The notifications page and the unread count in every page's header. Each
// notification is one sentence (kinds.ts) with what it is about and a link:
// the statement of reasons, the review queue, or a report's outcome inline.
import { Hono, type MiddlewareHandler } from "hono";
import type { Db } from "../../db/schema.ts";
import { notificationSettingsPage } from "../../views/pages/notification-settings.ts";
import { type NotificationCard, notificationsPage } from "../../views/pages/notifications.ts";
import { invalid } from "../errors.ts";
import { ACTION_LABELS } from "../moderation/modlog.ts";
import { REPORT_CATEGORIES } from "../moderation/reports.ts";
import type { WebEnv } from "../web/env.ts";
import { pageContext } from "../web/env.ts";
import { formFields } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import { digestSetting } from "./digest-settings.ts";
import { NOTIFICATION_KINDS, type NotificationKind } from "./kinds.ts";
import { preferences, savePreferences } from "./preferences.ts";
import { listNotifications, markRead, unreadCount } from "./service.ts";
import { groupLikes, isSocial, socialCard } from "./social.ts";

export const notificationRoutes = new Hono<WebEnv>();

/** Counts the reader's unread notifications for the header of every page (no JavaScript needed). */
export function unreadNotifications(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const user = c.get("user");
    // The stylesheet and icon render no header: no query for them.
    if (user && !c.req.path.startsWith("/static/")) c.set("unread", await unreadCount(c.get("app").db, user.actorId));
    await next();
  };
}

notificationRoutes.get("/notifications", async (c) => {
  const user = requireUser(c);
  const db = c.get("app").db;
  const page = await listNotifications(db, user.actorId, { cursor: c.req.query("cursor") });
  const cards = await describe(db, page.items, user.role === "admin");
  const next = page.nextCursor ? `/notifications?cursor=${encodeURIComponent(page.nextCursor)}` : null;
  return c.html(notificationsPage(pageContext(c), cards, next));
});

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

notificationRoutes.get("/settings/notifications", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const switches = await preferences(app.db, user.actorId);
  const digest = await digestSetting(app.db, user.actorId, app.config.smtpUrl !== null);
  return c.html(notificationSettingsPage(pageContext(c), switches, c.req.query("saved") === "1", digest));
});

/** A checked box is a kind on; an unchecked one (absent from the form) is off. */
notificationRoutes.post("/settings/notifications", async (c) => {
  const user = requireUser(c);
  const form = await formFields(c);
  const db = c.get("app").db;
  const known = new Set<string>((await preferences(db, user.actorId)).map((s) => s.kind));
  const unknown = Object.keys(form).filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw invalid(`${unknown[0]}: not a kind of notification you can turn off`, { [unknown[0] ?? ""]: "unknown" });
  const bad = Object.keys(form).find((k) => form[k] !== "1" && form[k] !== "on");
  if (bad) throw invalid(`${bad}: must be 1 (checked) or absent`, { [bad]: "must be 1 or absent" });
  await savePreferences(db, user.actorId, new Set(Object.keys(form)));
  return c.redirect("/settings/notifications?saved=1", 303);
});

/** Marks every unread notification read, or only those named in `ids` (separated by commas or spaces). */
notificationRoutes.post("/notifications/read", async (c) => {
  const user = requireUser(c);
  const form = await formFields(c);
  const ids = form.ids === undefined ? undefined : form.ids.split(/[\s,]+/).filter(Boolean);
  if (ids?.some((id) => !ID.test(id))) throw invalid("ids: not a notification id", { ids: "not a notification id" });
  if (ids?.length === 0) throw invalid("ids: name at least one notification", { ids: "name at least one" });
  await markRead(c.get("app").db, user.actorId, ids?.slice(0, 100));
  return c.redirect("/notifications", 303);
});

type Item = Awaited<ReturnType<typeof listNotifications>>["items"][number];

const slugOf = (username: string | null, host: string | null, local: number | null) =>
  username === null ? null : local === 1 ? username : `${username}@${host}`;

const STATUS_WORDS: Record<string, string> = {
  open: "with the community's moderators",
  escalated: "upheld by the moderators and sent to the instance's admins",
  granted: "granted: the decision was reversed",
  denied: "denied: the decision stands",
};

/** Each notification as a sentence, its context and its link, from three batched reads. */
async function describe(db: Db, items: Item[], admin: boolean): Promise<NotificationCard[]> {
  const ids = (key: "reportId" | "actionId" | "appealId") =>
    [...new Set(items.map((i) => i[key]).filter((v): v is string => v !== null))].concat([""]);
  const reports = await db
    .selectFrom("reports")
    .select(["id", "status", "resolution_note as note", "category"])
    .where("id", "in", ids("reportId"))
    .execute();
  const actions = await db
    .selectFrom("moderation_actions as m")
    .leftJoin("posts", "posts.id", "m.target_post_id")
    .leftJoin("posts as thread", "thread.id", "posts.thread_id")
    .select(["m.id", "m.action", "m.reason", "thread.title as threadTitle"])
    .where("m.id", "in", ids("actionId"))
    .execute();
  const appeals = await db
    .selectFrom("appeals")
    .select(["id", "status", "action_id as actionId", "moderator_note as moderatorNote", "admin_note as adminNote"])
    .where("id", "in", ids("appealId"))
    .execute();
  return groupLikes(items).map((group) => {
    const n = group[0] as Item;
    if (isSocial(n.kind)) return socialCard(group);
    const community = slugOf(n.communityUsername, n.communityHost, n.communityLocal);
    const where = community ? ` in ${n.communityName ?? community}` : "";
    const card: NotificationCard = {
      id: n.id,
      unread: n.readAt === null,
      sentence: NOTIFICATION_KINDS[n.kind as NotificationKind] ?? n.kind,
      detail: null,
      outcome: null,
      href: null,
      createdAt: n.createdAt,
    };
    const kind = n.kind as NotificationKind;
    if (kind === "moderation") {
      const a = actions.find((x) => x.id === n.actionId);
      const what = a ? (ACTION_LABELS[a.action] ?? a.action) : "Acted";
      const title = a?.threadTitle ? ` “${a.threadTitle}”` : "";
      card.detail = `${what}${title}${where}${a?.reason ? `. Reason: ${a.reason}` : ""}`;
      card.href = n.actionId ? `/moderation/actions/${n.actionId}` : null;
    } else if (kind === "report_closed") {
      const r = reports.find((x) => x.id === n.reportId);
      if (r) {
        const category = REPORT_CATEGORIES[r.category] ?? r.category;
        card.detail = `Your report (${category})`;
        card.outcome = { status: r.status, note: r.note };
      }
    } else if (kind === "appeal_decided") {
      const a = appeals.find((x) => x.id === n.appealId);
      if (a) {
        card.detail = `Your appeal${where} was ${STATUS_WORDS[a.status] ?? a.status}.`;
        const note = a.adminNote ?? a.moderatorNote;
        if (note) card.detail += ` Note: ${note}`;
        card.href = `/moderation/actions/${a.actionId}`;
      }
    } else if (kind === "report_filed") {
      card.detail = community ? `About a post or person${where}` : "About a person or a post outside our communities";
      card.href = n.communityLocal === 1 && community ? `/@${community}/reports` : "/admin/reports";
    } else if (kind === "appeal_filed") {
      const a = appeals.find((x) => x.id === n.appealId);
      card.detail = `Against a moderation decision${where}`;
      const toAdmins = admin && (a?.status === "escalated" || n.communityLocal !== 1);
      card.href = toAdmins || !community ? "/admin/appeals" : `/@${community}/appeals`;
    } else if (kind === "registration") {
      card.href = "/admin/registrations";
    }
    return card;
  });
}
