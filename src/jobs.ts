// Background work that is not federation, queued in the caller's transaction
// (the "jobs" channel of our queue table), so it survives restarts and runs on
// whichever worker takes it. This module holds only what features need to
// queue work; src/background.ts runs it, with each feature's own handler.
import { queueRow } from "../db/message-queue.ts";
import type { Db } from "../db/schema.ts";

export const JOBS_CHANNEL = "jobs";

export type Job = { type: "export"; exportId: string };

/** Queues a job as part of the caller's transaction. */
export async function recordJob(db: Db, job: Job): Promise<void> {
  await db.insertInto("fedify_queue").values(queueRow(JOBS_CHANNEL, job)).execute();
}
