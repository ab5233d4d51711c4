// Account sanctions over the web: the admin's forms on a profile and list of
// sanctioned accounts, and what a suspended member reaches (Mastodon's way:
// they still log in, but see only their suspension, its statement of reasons
// and appeal, their data export and log-out).
import { Hono, type MiddlewareHandler } from "hono";
import { scrubErasedPages } from "../../db/scrub.ts";
import { statementPage } from "../../views/pages/appeals.ts";
import {
  sanctionedAccountsPage,
  sanctionPanel,
  suspendedNotice,
  suspendedWithoutStatementPage,
} from "../../views/pages/sanctions.ts";
import { queuedDeliveriesOf } from "../context.ts";
import { removeErasedFiles } from "../erasure/files.ts";
import { eraseAccount } from "../erasure/service.ts";
import { DomainError, forbidden } from "../errors.ts";
import { logger } from "../logging.ts";
import { mailerFor } from "../mail/mailer.ts";
import { statementOfReasons } from "../moderation/modlog.ts";
import { pageContext, type WebEnv } from "../web/env.ts";
import { formFields } from "../web/forms.ts";
import { requireAdmin, requireUser } from "../web/session.ts";
import {
  assertDeletable,
  deletionReason,
  findSanctionTarget,
  isSuspended,
  liftSanction,
  listSanctioned,
  logAccountDeletion,
  type Sanction,
  sanction,
  standingAction,
} from "./service.ts";

export const sanctionRoutes = new Hono<WebEnv>();
const log = logger("sanctions");

export const SUSPENDED_PAGE = "/account/suspended";

/** What a suspended member may still reach: their suspension, its statement and appeal, data export, log-out. */
const SUSPENDED_MAY = [
  /^\/account\/suspended$/,
  /^\/moderation\/actions\/[0-9a-f-]{36}(\/appeal)?$/,
  /^\/settings\/data(\/exports(\/[0-9a-f-]{36})?)?$/,
  /^\/logout$/,
  /^\/static\//,
];

/** In front of every page for logged-in members: a suspended one is sent to their suspension page. */
export const suspendedGate = (): MiddlewareHandler<WebEnv> => async (c, next) => {
  const user = c.get("user");
  if (!user || SUSPENDED_MAY.some((p) => p.test(c.req.path))) return next();
  if (!(await isSuspended(c.get("app").db, user.actorId))) return next();
  if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect(SUSPENDED_PAGE, 303);
  throw forbidden("your account is suspended");
};

sanctionRoutes.get(SUSPENDED_PAGE, async (c) => {
  const user = requireUser(c);
  const db = c.get("app").db;
  if (!(await isSuspended(db, user.actorId))) return c.redirect("/", 303);
  const page = pageContext(c);
  const actionId = await standingAction(db, user.actorId, "suspend");
  if (!actionId) return c.html(suspendedWithoutStatementPage(page));
  const s = await statementOfReasons(db, actionId, user.actorId);
  return c.html(statementPage(page, { ...s, appealableKind: true }, {}, suspendedNotice(page)));
});

sanctionRoutes.get("/admin/accounts", async (c) => {
  requireAdmin(c);
  const page = await listSanctioned(c.get("app").db, { cursor: c.req.query("cursor") });
  const rows = page.items.map((a) => ({
    handle: a.handle,
    profileHref: `/${a.handle}`,
    suspendedAt: a.suspendedAt,
    limitedAt: a.limitedAt,
  }));
  const next = page.nextCursor ? `/admin/accounts?cursor=${encodeURIComponent(page.nextCursor)}` : null;
  return c.html(sanctionedAccountsPage(pageContext(c), rows, next));
});

const profileOf = (t: { username: string; host: string; local: boolean }) =>
  t.local ? `/@${t.username}` : `/@${t.username}@${t.host}`;

const ACTIONS: Record<string, { kind: Sanction; lift: boolean }> = {
  suspend: { kind: "suspend", lift: false },
  unsuspend: { kind: "suspend", lift: true },
  limit: { kind: "limit", lift: false },
  unlimit: { kind: "limit", lift: true },
};

for (const [name, { kind, lift }] of Object.entries(ACTIONS)) {
  sanctionRoutes.post(`/admin/accounts/${name}`, async (c) => {
    const admin = requireAdmin(c);
    const app = c.get("app");
    const form = await formFields(c);
    const target = await findSanctionTarget(app.db, form.account ?? "");
    const acting = { role: "admin" as const, actorId: admin.actorId };
    if (lift) await liftSanction(app.db, app.config.origin, acting, target, kind, form.reason);
    else await sanction(app.db, app.config.origin, acting, target, kind, form.reason);
    return c.redirect(profileOf(target), 303);
  });
}

/**
 * An admin deletes a local account: the person is told why first (by email,
 * where they gave an address: after the erasure nothing of theirs is left to
 * read it in), then the account is erased as their own erasure would, and the
 * decision and its reason are logged.
 */
sanctionRoutes.post("/admin/accounts/delete", async (c) => {
  const admin = requireAdmin(c);
  const app = c.get("app");
  const form = await formFields(c);
  if (form.confirm !== "yes")
    throw new DomainError("invalid", "tick the box to confirm the deletion", { confirm: "is required" });
  const target = await findSanctionTarget(app.db, form.account ?? "");
  const acting = { role: "admin" as const, actorId: admin.actorId };
  assertDeletable(acting, target);
  const reason = deletionReason(form.reason);
  await tellOfDeletion(c, target.id, reason);
  const result = await eraseAccount(app.db, app.config.origin, target.id, { queued: queuedDeliveriesOf(app) });
  await logAccountDeletion(app.db, app.config.origin, acting, reason);
  await removeErasedFiles(app.config.dataDir, result.files).catch((error) =>
    log.error("could not remove an erased account's files: {error}", { error: String(error) }),
  );
  await scrubErasedPages(app.db, app.dialect).catch((error) =>
    log.error("could not checkpoint the database after an erasure: {error}", { error: String(error) }),
  );
  log.info("an admin deleted account {actorId}", { actorId: target.id });
  return c.redirect("/admin/accounts", 303);
});

/** The statement of reasons for a deletion, mailed before the erasure (Mastodon mails it too). */
async function tellOfDeletion(c: Parameters<MiddlewareHandler<WebEnv>>[0], actorId: string, reason: string | null) {
  const app = c.get("app");
  const mailer = mailerFor(app.config);
  const row = await app.db.selectFrom("users").select("email").where("actor_id", "=", actorId).executeTakeFirst();
  if (!mailer || !row?.email) return;
  const text =
    `The admins of ${app.config.instanceName} deleted your account there.\n\n` +
    `Why: ${reason ?? "no reason was given."}\n\n` +
    "This was decided by a person, not by an automated system. You may contact the admins about it " +
    `(${new URL("/about", app.config.origin).href}), or turn to a certified out-of-court dispute settlement ` +
    "body or a court (EU Digital Services Act, Articles 20 and 21).\n";
  await mailer
    .send({ to: row.email, subject: `Your account on ${app.config.instanceName} was deleted`, text })
    .catch((error: { code?: string }) =>
      log.warn("could not mail the deletion notice to {actorId}: {code}", { actorId, code: error.code ?? "error" }),
    );
}

/**
 * On a profile: for an admin, the panel to suspend, limit or delete; for
 * anyone else, whether the profile is hidden (a suspended account's is).
 */
export async function profileSanctions(
  c: Parameters<MiddlewareHandler<WebEnv>>[0],
  actorId: string,
): Promise<{ hidden: boolean; panel?: ReturnType<typeof sanctionPanel> }> {
  const db = c.get("app").db;
  const viewer = c.get("user");
  const row = await db
    .selectFrom("actors")
    .leftJoin("users", "users.actor_id", "actors.id")
    .select(["actors.iri", "actors.username", "actors.local", "actors.suspended_at", "actors.limited_at", "users.role"])
    .where("actors.id", "=", actorId)
    .executeTakeFirst();
  if (!row) return { hidden: true };
  if (viewer?.role !== "admin") return { hidden: row.suspended_at !== null && viewer?.actorId !== actorId };
  if (row.role === "admin" || viewer.actorId === actorId) return { hidden: false };
  const statement = async (kind: Sanction) => {
    const id = await standingAction(db, actorId, kind);
    return id ? `/moderation/actions/${id}` : null;
  };
  return {
    hidden: false,
    panel: sanctionPanel(pageContext(c), {
      account: row.local === 1 ? row.username : row.iri,
      local: row.local === 1,
      suspended: row.suspended_at !== null,
      limited: row.limited_at !== null,
      suspendStatement: row.suspended_at ? await statement("suspend") : null,
      limitStatement: row.limited_at ? await statement("limit") : null,
    }),
  };
}
