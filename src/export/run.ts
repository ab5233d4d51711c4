// The export job: builds a member's archive in the background (queued by
// requestExport, run by src/background.ts).
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type { AppContext } from "../context.ts";
import { logger } from "../logging.ts";
import { writeArchive } from "./archive.ts";
import { exportsDir, markExportFailed, markExportReady, markExportRunning, recordExportProgress } from "./service.ts";

const log = logger("jobs");

/** Builds one archive; a failure is recorded on the export (the member sees it) rather than retried forever. */
export async function runExport(ctx: AppContext, exportId: string): Promise<void> {
  const started = await markExportRunning(ctx.db, exportId);
  if (!started) return;
  if (!ctx.archive) throw new Error("export archives need the federation's renderer");
  const fileName = `${exportId}.tar.gz`;
  const path = join(exportsDir(ctx.config.dataDir), fileName);
  try {
    const size = await writeArchive(
      { db: ctx.db, origin: ctx.config.origin, dataDir: ctx.config.dataDir, archive: ctx.archive },
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
  }
}
