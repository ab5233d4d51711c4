// The export job: builds a member's archive in the background (queued by
// requestExport, run by src/background.ts). The process names itself on the
// export and renews a short lease while it works, so that a crash is noticed
// when a worker starts (recovery.ts) rather than a day later.
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type { AppContext } from "../context.ts";
import { logger } from "../logging.ts";
import { writeArchive } from "./archive.ts";
import { EXPORT_LEASE_MS } from "./recovery.ts";
import {
  claimExport,
  exportsDir,
  markExportFailed,
  markExportReady,
  recordExportProgress,
  renewExportLease,
} from "./service.ts";

const log = logger("jobs");

const leaseUntil = () => new Date(Date.now() + EXPORT_LEASE_MS).toISOString();

/**
 * Builds one archive as `runner` (recovery.ts's `newRunner`); a failure is
 * recorded on the export (the member sees it) rather than retried forever.
 */
export async function runExport(ctx: AppContext, exportId: string, runner: string): Promise<void> {
  if (!ctx.archive) throw new Error("export archives need the federation's renderer");
  const started = await claimExport(ctx.db, exportId, runner, leaseUntil());
  if (!started) return;
  const renew = setInterval(() => {
    renewExportLease(ctx.db, exportId, runner, leaseUntil()).catch((error) =>
      log.warn("could not renew the lease of export {exportId}: {error}", { exportId, error: String(error) }),
    );
  }, EXPORT_LEASE_MS / 4);
  renew.unref();
  const fileName = `${exportId}.tar.gz`;
  const path = join(exportsDir(ctx.config.dataDir), fileName);
  try {
    const size = await writeArchive(
      { db: ctx.db, origin: ctx.config.origin, dataDir: ctx.config.dataDir, archive: ctx.archive, media: ctx.media },
      started.userId,
      path,
      (done, total) => recordExportProgress(ctx.db, exportId, done, total),
    );
    // Erased while it was being built: the archive must not outlive them.
    if (!(await markExportReady(ctx.db, exportId, fileName, size))) return await unlink(path);
    log.info("export {exportId} ready ({size} bytes)", { exportId, size });
  } catch (error) {
    log.warn("export {exportId} failed: {error}", { exportId, error: String(error) });
    await markExportFailed(ctx.db, exportId, "the archive could not be built; please try again");
  } finally {
    clearInterval(renew);
  }
}
