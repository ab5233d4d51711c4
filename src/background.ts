// The background loop of a server or worker process: queued jobs (src/jobs.ts),
// each handed to its feature's handler, and periodic upkeep (erasure receipts,
// retention, expired archives, rate-limit windows, visitors' addresses on old reports).
import { KyselyMessageQueue } from "../db/message-queue.ts";
import { scrubErasedPages } from "../db/scrub.ts";
import { pruneSentMarks } from "../db/sent-marks.ts";
import { applyRetention } from "./communities/retention.ts";
import { type AppContext, queuedDeliveriesOf } from "./context.ts";
import { completeErasures } from "./erasure/completion.ts";
import { newRunner, recoverInterruptedExports } from "./export/recovery.ts";
import { runExport } from "./export/run.ts";
import { pruneExports } from "./export/service.ts";
import { JOBS_CHANNEL, type Job } from "./jobs.ts";
import { logger } from "./logging.ts";
import { pruneMedia, sweepDeletedMedia } from "./media/upkeep.ts";
import { pruneReportContacts } from "./moderation/reports.ts";
import { sendDueDigests } from "./notifications/digest-job.ts";
import { pruneRateLimits } from "./web/rate-limit.ts";

const log = logger("jobs");

export interface JobOptions {
  /** How often finished erasures are looked for (their keys are destroyed then). */
  erasureCheckMs?: number;
  /** How often retention, archive expiry and rate-limit pruning run. */
  upkeepMs?: number;
  /** How often exports whose process died elsewhere are looked for (at start too). */
  exportCheckMs?: number;
  /** How often the files of deleted posts' images are removed. */
  mediaSweepMs?: number;
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
  every(options.erasureCheckMs ?? 2_000, "erasure completion", () => completeErasures(ctx.db, queuedDeliveriesOf(ctx)));
  // Exports a crash left "running" are settled before any job runs; later, those of workers elsewhere.
  const runner = newRunner();
  const recover = every(options.exportCheckMs ?? 30_000, "export recovery", async () => {
    const settled = await recoverInterruptedExports(ctx.db, ctx.config.dataDir, runner);
    if (settled > 0) log.warn("{settled} exports were interrupted by a stopped process; marked failed", { settled });
  });
  await recover();
  every(options.mediaSweepMs ?? 60_000, "media sweep", () => sweepDeletedMedia(ctx));
  const upkeep = every(options.upkeepMs ?? 3_600_000, "upkeep", async () => {
    const threads = await applyRetention(ctx.db);
    if (threads > 0) log.info("retention deleted {threads} threads", { threads });
    await pruneExports(ctx.db, ctx.config.dataDir);
    await pruneRateLimits(ctx.db, 24 * 3_600_000);
    await pruneSentMarks(ctx.db);
    await pruneReportContacts(ctx.db);
    await pruneMedia(ctx);
    // Erased text still in SQLite's write-ahead log (a checkpoint that found readers) is flushed here at the latest.
    await scrubErasedPages(ctx.db, ctx.dialect);
  });
  void upkeep();
  // Email digests (when SMTP_URL is set): what is due goes out within five minutes.
  every(5 * 60_000, "email digests", () => sendDueDigests(ctx));
  await queue.listen((job: Job) => runJob(ctx, job, runner), { signal });
}

async function runJob(ctx: AppContext, job: Job, runner: string): Promise<void> {
  if (job.type === "export") await runExport(ctx, job.exportId, runner);
}
