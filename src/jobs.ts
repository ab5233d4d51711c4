// Background work that is not federation: export archives (queued, so they
// survive restarts and run on whichever worker takes them) and periodic
// upkeep (erasure receipts, retention, expired archives, rate-limit windows).
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { KyselyMessageQueue, queueRow } from "../db/message-queue.ts";
import type { Db } from "../db/schema.ts";
import { scrubErasedPages } from "../db/scrub.ts";
import { applyRetention } from "./communities/retention.ts";
import type { AppContext } from "./context.ts";
import { completeErasures } from "./erasure/service.ts";
import { writeArchive } from "./export/archive.ts";
import {
  exportsDir,
  markExportFailed,
  markExportReady,
  markExportRunning,
  pruneExports,
  recordExportProgress,
} from "./export/service.ts";
import { logger } from "./logging.ts";
import { pruneRateLimits } from "./web/rate-limit.ts";

export const JOBS_CHANNEL = "jobs";

export type Job = { type: "export"; exportId: string };

const log = logger("jobs");

/** Queues a job as part of the caller's transaction. */
export async function recordJob(db: Db, job: Job): Promise<void> {
  await db.insertInto("fedify_queue").values(queueRow(JOBS_CHANNEL, job)).execute();
}

export interface JobOptions {
  /** How often finished erasures are looked for (their keys are destroyed then). */
  erasureCheckMs?: number;
  /** How often retention, archive expiry and rate-limit pruning run. */
  upkeepMs?: number;
}

/** Runs queued jobs and periodic upkeep until `signal` aborts. */
export async function runJobs(ctx: AppContext, signal: AbortSignal, options: JobOptions = {}): Promise<void> {
  const queue = new KyselyMessageQueue(ctx.db, {
    dialect: ctx.dialect,
    channel: JOBS_CHANNEL,
    pollIntervalMs: 500,
    concurrency: 1,
    leaseMs: 30 * 60_000,
  });
  const every = (ms: number, name: string, task: () => Promise<unknown>) => {
    const run = () => task().catch((error) => log.warn("{name} failed: {error}", { name, error: String(error) }));
    const timer = setInterval(run, ms);
    timer.unref();
    signal.addEventListener("abort", () => clearInterval(timer), { once: true });
    return run;
  };
  every(options.erasureCheckMs ?? 2_000, "erasure completion", () => completeErasures(ctx.db));
  const upkeep = every(options.upkeepMs ?? 3_600_000, "upkeep", async () => {
    const threads = await applyRetention(ctx.db);
    if (threads > 0) log.info("retention deleted {threads} threads", { threads });
    await pruneExports(ctx.db, ctx.config.dataDir);
    await pruneRateLimits(ctx.db, 24 * 3_600_000);
    // Erased text still in SQLite's write-ahead log (a checkpoint that found readers) is flushed here at the latest.
    await scrubErasedPages(ctx.db, ctx.dialect);
  });
  void upkeep();
  await queue.listen((job: Job) => runJob(ctx, job), { signal });
}

async function runJob(ctx: AppContext, job: Job): Promise<void> {
  if (job.type === "export") await runExport(ctx, job.exportId);
}

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
