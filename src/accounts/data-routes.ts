// Settings → Your data: export archives, erasure, and the deletion receipt.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { Hono } from "hono";
import { scrubErasedPages } from "../../db/scrub.ts";
import { type DataPageState, dataPage, erasePage, receiptPage } from "../../views/pages/data.ts";
import { queuedDeliveriesOf } from "../context.ts";
import { removeErasedFiles } from "../erasure/files.ts";
import { erasureReceipt } from "../erasure/receipt.ts";
import { confirmPassword, eraseAccount, erasureSummary } from "../erasure/service.ts";
import { DomainError, notFound } from "../errors.ts";
import { exportFile, listExports, nextExportAllowedAt, requestExport } from "../export/service.ts";
import { now } from "../ids.ts";
import { logger } from "../logging.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { formFields } from "../web/forms.ts";
import { consume } from "../web/rate-limit.ts";
import { endSession, requireUser } from "../web/session.ts";

export const dataRoutes = new Hono<WebEnv>();
const log = logger("erasure");

async function renderData(c: WebContext, state: DataPageState = {}, status: 200 | 429 = 200) {
  const user = requireUser(c);
  const db = c.get("app").db;
  const [exports, nextExportAt] = await Promise.all([
    listExports(db, user.actorId),
    nextExportAllowedAt(db, user.actorId),
  ]);
  return c.html(dataPage(pageContext(c), { exports, now: now(), nextExportAt }, state), status);
}

async function renderErase(c: WebContext, state: DataPageState = {}, status: 200 | 403 | 422 | 429 = 200) {
  const user = requireUser(c);
  return c.html(erasePage(pageContext(c), await erasureSummary(c.get("app").db, user.actorId), state), status);
}

dataRoutes.get("/settings/data", (c) => renderData(c));
dataRoutes.get("/settings/erase", (c) => renderErase(c));

dataRoutes.post("/settings/data/exports", async (c) => {
  const user = requireUser(c);
  try {
    await requestExport(c.get("app").db, user.actorId);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "rate_limited") throw e;
    return renderData(c, { exportMessage: e.message }, 429);
  }
  return c.redirect("/settings/data", 303);
});

// Only the owner, only while it lasts; never cached anywhere.
dataRoutes.get("/settings/data/exports/:id{[0-9a-f-]{36}}", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const file = await exportFile(app.db, app.config.dataDir, user.actorId, c.req.param("id"));
  const info = await stat(file.path).catch(() => undefined);
  if (!info) throw notFound("archive");
  return c.body(Readable.toWeb(createReadStream(file.path)) as ReadableStream, 200, {
    "Content-Type": "application/gzip",
    "Content-Length": String(info.size),
    "Content-Disposition": `attachment; filename="${file.name}"`,
    "Cache-Control": "private, no-store",
  });
});

dataRoutes.post("/settings/erase", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const form = await formFields(c);
  try {
    await consume(app.db, `erase:${user.actorId}`, 10, 15 * 60_000);
    if (form.confirm !== "yes")
      throw new DomainError("invalid", "tick the box to confirm the erasure", { confirm: "is required" });
    await confirmPassword(app.db, user.actorId, form.password ?? "");
    const result = await eraseAccount(app.db, app.config.origin, user.actorId, {
      mode: form.mode === "anonymize" ? "anonymize" : "delete",
      queued: queuedDeliveriesOf(app),
    });
    // Committed: whatever happens now, the member must get the receipt's address (only its hash is kept).
    await removeErasedFiles(app.config.dataDir, result.files).catch((error) =>
      log.error("could not remove an erased member's files: {error}", { error: String(error) }),
    );
    await scrubErasedPages(app.db, app.dialect).catch((error) =>
      log.error("could not checkpoint the database after an erasure: {error}", { error: String(error) }),
    );
    await endSession(c).catch(() => undefined);
    return c.redirect(`/erasures/${result.receiptToken}?erased=1`, 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code === "not_found") throw e;
    const status = httpStatus(e.code);
    return renderErase(
      c,
      { eraseMessage: e.message, eraseErrors: e.fields },
      status === 429 || status === 403 ? status : 422,
    );
  }
});

dataRoutes.get("/erasures/:token{[A-Za-z0-9_-]{32}}", async (c) => {
  const receipt = await erasureReceipt(c.get("app").db, { token: c.req.param("token") });
  if (!receipt) throw notFound("receipt");
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  c.header("X-Robots-Tag", "noindex");
  return c.html(receiptPage(pageContext(c), receipt, c.req.query("erased") === "1"));
});
