// Export requests: one archive a day per member, built by the background job
// runner (src/jobs.ts), downloadable by its owner for seven days.

import { readdir, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { DomainError, notFound } from "../errors.ts";
import { newId, now } from "../ids.ts";
import { recordJob } from "../jobs.ts";

/** How long a member waits between two archives, as Mastodon's "once every 7 days" but kinder. */
export const EXPORT_INTERVAL_MS = 24 * 3_600_000;
/** How long an archive can be downloaded. */
export const EXPORT_TTL_MS = 7 * 24 * 3_600_000;

export const exportsDir = (dataDir: string) => join(dataDir, "exports");

/**
 * When `userId` may request their next archive (null: now). Failed attempts
 * don't count, nor do those a crash interrupted (recovery.ts marks them failed).
 */
export async function nextExportAllowedAt(db: Db, userId: string): Promise<string | null> {
  const last = await db
    .selectFrom("exports")
    .select("created_at")
    .where("user_id", "=", userId)
    .where("status", "!=", "failed")
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  if (!last) return null;
  const next = Date.parse(last.created_at) + EXPORT_INTERVAL_MS;
  return next > Date.now() ? new Date(next).toISOString() : null;
}

/** Queues a new archive for `userId`; refused while the last one is under a day old. */
export async function requestExport(db: Db, userId: string): Promise<string> {
  return inTransaction(db, async (trx) => {
    const next = await nextExportAllowedAt(trx, userId);
    if (next) {
      throw new DomainError(
        "rate_limited",
        "you can request one archive a day; " +
          `the next one can be requested after ${next.slice(0, 16).replace("T", " ")} UTC`,
      );
    }
    const id = newId();
    await trx
      .insertInto("exports")
      .values({
        id,
        user_id: userId,
        status: "queued",
        progress: 0,
        total: 0,
        file_name: null,
        size_bytes: null,
        error: null,
        created_at: now(),
        finished_at: null,
        expires_at: null,
      })
      .execute();
    await recordJob(trx, { type: "export", exportId: id });
    return id;
  });
}

export async function listExports(db: Db, userId: string) {
  return db
    .selectFrom("exports")
    .select([
      "id",
      "status",
      "progress",
      "total",
      "size_bytes as sizeBytes",
      "error",
      "created_at as createdAt",
      "finished_at as finishedAt",
      "expires_at as expiresAt",
    ])
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .limit(5)
    .execute();
}

/** The archive's path, for its owner only, while it has not expired. */
export async function exportFile(
  db: Db,
  dataDir: string,
  userId: string,
  exportId: string,
): Promise<{ path: string; name: string }> {
  const row = await db
    .selectFrom("exports")
    .select(["file_name", "status", "expires_at", "created_at"])
    .where("id", "=", exportId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (row?.status !== "ready" || !row.file_name) throw notFound("archive");
  if (!row.expires_at || row.expires_at < now())
    throw new DomainError("not_found", "this archive has expired; request a new one");
  return {
    path: join(exportsDir(dataDir), row.file_name),
    name: `kindred-archive-${row.created_at.slice(0, 10)}.tar.gz`,
  };
}

/**
 * Takes a queued export for `runner` (`host/pid/token`, see recovery.ts), with
 * a lease it renews while it works. Only a queued one: an export that ran
 * already (finished, failed, or taken by another worker whose queue lease ran
 * out) is never built twice by a job delivered again.
 */
export async function claimExport(
  db: Db,
  exportId: string,
  runner: string,
  leaseUntil: string,
): Promise<{ userId: string } | undefined> {
  const claimed = await db
    .updateTable("exports")
    .set({ status: "running", progress: 0, error: null, runner, lease_until: leaseUntil })
    .where("id", "=", exportId)
    .where("status", "=", "queued")
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) return undefined;
  const row = await db.selectFrom("exports").select("user_id").where("id", "=", exportId).executeTakeFirst();
  return row && { userId: row.user_id };
}

/** The running process vouches for its export until `leaseUntil`. */
export async function renewExportLease(db: Db, exportId: string, runner: string, leaseUntil: string): Promise<void> {
  await db
    .updateTable("exports")
    .set({ lease_until: leaseUntil })
    .where("id", "=", exportId)
    .where("status", "=", "running")
    .where("runner", "=", runner)
    .execute();
}

export async function recordExportProgress(db: Db, exportId: string, progress: number, total: number): Promise<void> {
  await db.updateTable("exports").set({ progress, total }).where("id", "=", exportId).execute();
}

/** False when the export is gone meanwhile (its member erased themselves): the caller deletes the file. */
export async function markExportReady(db: Db, exportId: string, fileName: string, sizeBytes: number): Promise<boolean> {
  const ts = Date.now();
  const result = await db
    .updateTable("exports")
    .set({
      status: "ready",
      file_name: fileName,
      size_bytes: sizeBytes,
      finished_at: new Date(ts).toISOString(),
      expires_at: new Date(ts + EXPORT_TTL_MS).toISOString(),
      runner: null,
      lease_until: null,
    })
    .where("id", "=", exportId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function markExportFailed(db: Db, exportId: string, error: string): Promise<void> {
  // Never over a ready one (another worker may have finished it).
  await db
    .updateTable("exports")
    .set({ status: "failed", error: error.slice(0, 300), finished_at: now(), runner: null, lease_until: null })
    .where("id", "=", exportId)
    .where("status", "!=", "ready")
    .execute();
}

/**
 * Deletes expired archives (rows and files), and files in the exports folder
 * that no row names and are over a day old: leftovers of a crash, or of an
 * erasure racing an archive. Returns how many archives went.
 */
export async function pruneExports(db: Db, dataDir: string): Promise<number> {
  const expired = await db.selectFrom("exports").select(["id", "file_name"]).where("expires_at", "<", now()).execute();
  for (const e of expired) {
    if (e.file_name) await unlink(join(exportsDir(dataDir), e.file_name)).catch(() => undefined);
    await db.deleteFrom("exports").where("id", "=", e.id).execute();
  }
  const named = new Set(
    (await db.selectFrom("exports").select("file_name").where("file_name", "is not", null).execute()).map(
      (e) => e.file_name,
    ),
  );
  const dayAgo = Date.now() - 86_400_000;
  for (const name of await readdir(exportsDir(dataDir)).catch(() => [] as string[])) {
    if (named.has(name)) continue;
    const path = join(exportsDir(dataDir), name);
    const info = await stat(path).catch(() => undefined);
    if (info && info.mtimeMs < dayAgo) await rm(path, { recursive: true, force: true });
  }
  return expired.length;
}
