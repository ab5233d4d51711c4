// The queue's leases and per-key limits (db/message-queue.ts, db/queue-lease.ts):
// a message being worked on keeps its lease however long its handler runs and
// is never worked on twice at once; a killed worker's message is taken again;
// a slow key (a delivery's host) never holds every slot.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../db/connect.ts";
import { KyselyMessageQueue, type KyselyMessageQueueOptions } from "../../db/message-queue.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { ROOT } from "../helpers/processes.ts";

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(queue: KyselyMessageQueue, handler: (message: any) => Promise<void> | void) {
  const controller = new AbortController();
  const done = queue.listen(handler, { signal: controller.signal });
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}

const reopen = (tdb: TestDatabase) => openDatabase(tdb.url);

describe.each(dialects)("queue leases and slot keys on %s", (dialect) => {
  const queueOn = (db: TestDatabase["db"], options: Partial<KyselyMessageQueueOptions> = {}) =>
    new KyselyMessageQueue(db, { dialect, pollIntervalMs: 20, ...options });

  it("renews the lease of a long handler, so another worker never takes its message meanwhile", async () => {
    const tdb = await freshDatabase(dialect);
    const other = await reopen(tdb);
    try {
      const leaseMs = 1_500;
      const a = queueOn(tdb.db, { leaseMs });
      const b = queueOn(other.db, { leaseMs });
      const release = deferred();
      const claimed = deferred<number>();
      const runs: string[] = [];
      const workerA = start(a, async () => {
        runs.push("a");
        claimed.resolve(Date.now());
        await release.promise;
      });
      await a.enqueue({ job: "long" });
      const claimedAt = await claimed.promise;
      const workerB = start(b, () => {
        runs.push("b");
      });
      // Three leases' worth of running: without renewals worker B would have taken it twice over.
      await sleep(3 * leaseMs);
      const row = await tdb.db.selectFrom("fedify_queue").selectAll().executeTakeFirstOrThrow();
      expect(row.attempts).toBe(1);
      expect(Date.parse(row.lease_until ?? "")).toBeGreaterThan(claimedAt + 2 * leaseMs);
      release.resolve();
      await waitFor(async () => (await a.queueDepth()) === 0, "the message to be settled");
      await workerA.stop();
      await workerB.stop();
      expect(runs).toEqual(["a"]);
    } finally {
      await other.close();
      await tdb.drop();
    }
  });

  it("gives a worker killed with -9 in the middle of a message to another worker, once its lease runs out", async () => {
    const tdb = await freshDatabase(dialect);
    const child = spawn(process.execPath, ["test/db/fixtures/hanging-consumer.ts", tdb.url, dialect, "1000"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
    try {
      const queue = queueOn(tdb.db, { leaseMs: 1_000 });
      await queue.enqueue({ job: "x" });
      await waitFor(() => output.includes("claimed"), `the child to claim the message (output: ${output})`);
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      const got = deferred<unknown>();
      const worker = start(queue, (m) => got.resolve(m));
      expect(await got.promise).toEqual({ job: "x" });
      await waitFor(async () => (await queue.queueDepth()) === 0, "the message to be settled");
      await worker.stop();
    } finally {
      child.kill("SIGKILL");
      await tdb.drop();
    }
  });

  it("runs at most `slotKeyConcurrency` messages of one key, and the others' meanwhile in the free slots", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const queue = queueOn(tdb.db, {
        concurrency: 4,
        slotKeyOf: (m) => (m as { host: string }).host,
        slotKeyConcurrency: 2,
      });
      const slow = deferred();
      let slowRunning = 0;
      let maxSlowRunning = 0;
      const done: string[] = [];
      const worker = start(queue, async (m: { host: string; n: number }) => {
        if (m.host === "slow.example") {
          slowRunning++;
          maxSlowRunning = Math.max(maxSlowRunning, slowRunning);
          await slow.promise;
          slowRunning--;
        }
        done.push(`${m.host}#${m.n}`);
      });
      // The slow host's messages come first: without the limit they would take all four slots.
      await queue.enqueueMany(Array.from({ length: 6 }, (_, n) => ({ host: "slow.example", n })));
      await queue.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ host: `h${n % 5}.example`, n })));
      await waitFor(() => done.length === 20, "every other host's message while the slow host hangs");
      expect(done.every((d) => !d.startsWith("slow"))).toBe(true);
      expect(slowRunning).toBe(2);
      // The waiting ones sit in the table unleased: any worker may take them when the host frees up.
      const waiting = await tdb.db
        .selectFrom("fedify_queue")
        .select(["lease_until", "slot_key"])
        .where("lease_until", "is", null)
        .execute();
      expect(waiting).toHaveLength(4);
      expect(waiting.every((r) => r.slot_key === "slow.example")).toBe(true);
      slow.resolve();
      await waitFor(() => done.length === 26, "the slow host's messages");
      await worker.stop();
      expect(maxSlowRunning).toBe(2);
    } finally {
      await tdb.drop();
    }
  });
});
