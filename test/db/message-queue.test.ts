import { Temporal } from "@js-temporal/polyfill";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../db/connect.ts";
import { KyselyMessageQueue, type KyselyMessageQueueOptions } from "../../db/message-queue.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";

const fast = { pollIntervalMs: 20 } as const;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects after `ms`, so a missing delivery fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, ms = 10_000, what = "condition"): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)),
  ]);
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a listener; `stop()` aborts it and waits until it has returned. */
function start(queue: KyselyMessageQueue, handler: (message: any) => Promise<void> | void) {
  const controller = new AbortController();
  const done = queue.listen(handler, { signal: controller.signal });
  return {
    controller,
    async stop() {
      controller.abort();
      await within(done, 10_000, "listen() to resolve");
    },
  };
}

/** A second handle on the same database, as another process would open it. */
function reopen(tdb: TestDatabase) {
  return openDatabase(tdb.url, tdb.schema === undefined ? {} : { schema: tdb.schema });
}

describe.each(dialects)("KyselyMessageQueue on %s", (dialect) => {
  const queueOn = (tdb: { db: TestDatabase["db"] }, options: Partial<KyselyMessageQueueOptions> = {}) =>
    new KyselyMessageQueue(tdb.db, { dialect, ...fast, ...options });

  it("frees the slot of a handler past its deadline and settles its message, so the next one runs", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const queue = queueOn(tdb, { concurrency: 1, handlerDeadlineMs: 300 });
      const hang = deferred();
      const seen: string[] = [];
      const listener = start(queue, async (m: { name: string }) => {
        seen.push(m.name);
        if (m.name === "drip") await hang.promise; // a peer answering one byte at a time
      });
      await queue.enqueue({ name: "drip" });
      await queue.enqueue({ name: "next" });
      await waitFor(() => seen.includes("next"), "the next message to run while the first still hangs");
      // Both settle: the first freed at its deadline, the next removed once its handler returns (just after it ran).
      let left: { id: string }[] = [];
      for (let i = 0; i < 100; i++) {
        left = await tdb.db.selectFrom("fedify_queue").select("id").execute();
        if (left.length === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(left).toEqual([]);
      hang.resolve();
      await listener.stop();
      expect(seen).toEqual(["drip", "next"]);
    } finally {
      await tdb.drop();
    }
  });

  it("delivers an enqueued message once and removes it; listen resolves on abort", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const queue = queueOn(tdb, { pollIntervalMs: 60_000 }); // only the local wake-up can deliver in time
      expect(queue.nativeRetrial).toBe(false);
      const received: unknown[] = [];
      const got = deferred();
      const listener = start(queue, (m) => {
        received.push(m);
        got.resolve();
      });
      await queue.enqueue({ type: "outbox", n: 1, nested: { s: "é" } });
      await within(got.promise, 5_000, "delivery");
      await listener.stop();
      expect(received).toEqual([{ type: "outbox", n: 1, nested: { s: "é" } }]);
      expect(await queue.queueDepth()).toBe(0);
    } finally {
      await tdb.drop();
    }
  });

  it("resolves listen at once when the signal is already aborted", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const queue = queueOn(tdb);
      await queue.enqueue("m");
      let calls = 0;
      await within(
        queue.listen(() => void calls++, { signal: AbortSignal.abort() }),
        2_000,
        "listen()",
      );
      expect(calls).toBe(0);
      expect(await queue.queueDepth()).toBe(1);
    } finally {
      await tdb.drop();
    }
  });

  it("honours delay: a delayed message is not delivered before its time", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const queue = queueOn(tdb);
      const deliveredAt = new Map<string, number>();
      const both = deferred();
      const listener = start(queue, (m: string) => {
        deliveredAt.set(m, Date.now());
        if (deliveredAt.size === 2) both.resolve();
      });
      const before = Date.now();
      await queue.enqueue("later", { delay: Temporal.Duration.from({ milliseconds: 1_000 }) });
      expect(await queue.getDepth()).toEqual({ queued: 1, ready: 0, delayed: 1 });
      await queue.enqueue("now");
      await within(both.promise, 10_000, "both deliveries");
      await listener.stop();
      expect(deliveredAt.get("later")! - before).toBeGreaterThanOrEqual(1_000);
      expect(deliveredAt.get("now")!).toBeLessThan(deliveredAt.get("later")!);
      expect(await queue.queueDepth()).toBe(0);
    } finally {
      await tdb.drop();
    }
  });

  it("enqueueMany delivers every message", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const queue = queueOn(tdb);
      await queue.enqueueMany([]);
      const messages = Array.from({ length: 30 }, (_, i) => ({ i }));
      await queue.enqueueMany(messages);
      expect(await queue.queueDepth()).toBe(30);
      const seen: number[] = [];
      const listener = start(queue, (m: { i: number }) => void seen.push(m.i));
      await waitFor(() => seen.length === 30, "30 deliveries");
      await listener.stop();
      expect(seen.sort((a, b) => a - b)).toEqual(messages.map((m) => m.i));
      expect(await queue.queueDepth()).toBe(0);
    } finally {
      await tdb.drop();
    }
  });

  it("processes messages sharing an ordering key one at a time, in order", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const queue = queueOn(tdb, { concurrency: 4 });
      const order: Record<string, number[]> = { k1: [], k2: [] };
      const running: Record<string, number> = { k1: 0, k2: 0 };
      let maxRunning = 0;
      // Enqueue alternating keys, some via enqueueMany, before listening.
      for (let i = 0; i < 6; i++) {
        await queue.enqueue({ key: "k1", i }, { orderingKey: "k1" });
        await queue.enqueue({ key: "k2", i }, { orderingKey: "k2" });
      }
      await queue.enqueueMany(
        [6, 7, 8, 9].map((i) => ({ key: "k1", i })),
        { orderingKey: "k1" },
      );
      const listener = start(queue, async (m: { key: string; i: number }) => {
        running[m.key]!++;
        maxRunning = Math.max(maxRunning, running[m.key]!);
        await new Promise((r) => setTimeout(r, 5 + ((m.i * 7) % 11)));
        order[m.key]!.push(m.i);
        running[m.key]!--;
      });
      await waitFor(() => order.k1!.length === 10 && order.k2!.length === 6, "16 deliveries");
      await listener.stop();
      expect(order.k1).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(order.k2).toEqual([0, 1, 2, 3, 4, 5]);
      expect(maxRunning).toBe(1);
    } finally {
      await tdb.drop();
    }
  });

  it("runs messages without an ordering key concurrently, up to `concurrency`", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const queue = queueOn(tdb, { concurrency: 3 });
      await queue.enqueueMany(Array.from({ length: 9 }, (_, i) => i));
      let running = 0;
      let maxRunning = 0;
      let done = 0;
      const threeRunning = deferred();
      const listener = start(queue, async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        if (running === 3) threeRunning.resolve();
        // Each handler waits until three run at once: proves parallelism without timing guesses.
        await within(threeRunning.promise, 5_000, "three handlers at once");
        await new Promise((r) => setTimeout(r, 5));
        running--;
        done++;
      });
      await waitFor(() => done === 9, "9 deliveries");
      await listener.stop();
      expect(maxRunning).toBe(3);
    } finally {
      await tdb.drop();
    }
  });

  it("retries a failed message later with backoff, and drops it after maxAttempts", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const queue = queueOn(tdb, { retryBaseMs: 100, maxAttempts: 3 });
      const calls: { m: string; at: number }[] = [];
      const listener = start(queue, (m: string) => {
        calls.push({ m, at: Date.now() });
        const n = calls.filter((c) => c.m === m).length;
        if (m === "always-fails" || n === 1) throw new Error(`boom ${m} ${n}`);
      });
      await queue.enqueue("fails-once");
      await queue.enqueue("always-fails");
      await waitFor(async () => (await queue.queueDepth()) === 0, "the queue to drain");
      await listener.stop();

      const once = calls.filter((c) => c.m === "fails-once").map((c) => c.at);
      expect(once).toHaveLength(2);
      expect(once[1]! - once[0]!).toBeGreaterThanOrEqual(100);
      const always = calls.filter((c) => c.m === "always-fails").map((c) => c.at);
      expect(always).toHaveLength(3);
      // Exponential: 100 ms, then 200 ms.
      expect(always[2]! - always[1]!).toBeGreaterThanOrEqual(200);
    } finally {
      await tdb.drop();
    }
  });

  // A dead worker's message taken over once its lease runs out: test/db/queue-lease.test.ts (a worker killed with -9).

  it("keeps messages across a restart: new handle, new queue instance", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const first = await reopen(tdb);
      await new KyselyMessageQueue(first.db, { dialect }).enqueueMany([{ n: 1 }, { n: 2 }]);
      await new KyselyMessageQueue(first.db, { dialect }).enqueue(
        { n: 3 },
        { delay: Temporal.Duration.from({ milliseconds: 100 }) },
      );
      await first.close();

      const second = await reopen(tdb);
      try {
        const queue = new KyselyMessageQueue(second.db, { dialect, ...fast });
        expect(await queue.queueDepth()).toBe(3);
        const seen: number[] = [];
        const listener = start(queue, (m: { n: number }) => void seen.push(m.n));
        await waitFor(() => seen.length === 3, "3 deliveries after restart");
        await listener.stop();
        expect(seen.sort()).toEqual([1, 2, 3]);
        expect(await queue.queueDepth()).toBe(0);
      } finally {
        await second.close();
      }
    } finally {
      await tdb.drop();
    }
  });

  it("two workers on separate connections deliver each of 50 messages exactly once", async () => {
    const tdb = await freshDatabase(dialect);
    const h1 = await reopen(tdb);
    const h2 = await reopen(tdb);
    try {
      const counts = new Map<number, number>();
      const perWorker = [0, 0];
      const handlerFor = (worker: number) => async (m: { i: number }) => {
        counts.set(m.i, (counts.get(m.i) ?? 0) + 1);
        perWorker[worker]!++;
        await new Promise((r) => setTimeout(r, 20));
      };
      const w1 = start(new KyselyMessageQueue(h1.db, { dialect, ...fast }), handlerFor(0));
      const w2 = start(new KyselyMessageQueue(h2.db, { dialect, ...fast }), handlerFor(1));
      // Enqueued through a third instance: both workers find the messages by polling.
      const producer = queueOn(tdb);
      await producer.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ i })));
      await waitFor(() => counts.size === 50, "50 distinct deliveries");
      await Promise.all([w1.stop(), w2.stop()]);
      expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(perWorker[0]! + perWorker[1]!).toBe(50);
      expect(perWorker[0]).toBeGreaterThan(0);
      expect(perWorker[1]).toBeGreaterThan(0);
      expect(await producer.queueDepth()).toBe(0);
    } finally {
      await h1.close();
      await h2.close();
      await tdb.drop();
    }
  });
});
