// A Kindred server run the way a self-hoster runs it (`node src/main.ts`, its
// own port, SQLite file and data directory), whose stdout and stderr are kept:
// what an admin's journal would hold. For tests about what reaches the logs.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogLevel } from "@logtape/logtape";
import { type DatabaseHandle, openDatabase } from "../../db/connect.ts";
import { waitFor } from "./peer.ts";
import { freePort, spawnServer, stopProcess, waitUntilServing } from "./processes.ts";

export interface LoggedServer {
  origin: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** The server's database, opened from the test (the same SQLite file). */
  db: DatabaseHandle;
  /** Waits until the queue has nothing due and nothing in progress (twice in a row). */
  queueIdle(timeoutMs?: number): Promise<void>;
  /** Stops the server (SIGTERM) and waits until its output is all read; `output()` stays available. */
  stop(): Promise<void>;
}

export async function startLoggedServer(level: LogLevel): Promise<LoggedServer> {
  const dir = mkdtempSync(join(tmpdir(), `kindred-logs-${level}-`));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const url = `sqlite:${join(dir, "kindred.sqlite")}`;
  const { child, output } = spawnServer({
    PATH: process.env.PATH,
    PORT: String(port),
    ORIGIN: origin,
    DATABASE_URL: url,
    DATA_DIR: dir,
    LOG_LEVEL: level,
    // Peers are on loopback, which Kindred refuses by default.
    ALLOW_PRIVATE_ADDRESS: "true",
    // Suites post far more than a person would; test/http/posting-limits.test.ts turns the caps on.
    POSTING_LIMITS: "false",
    // Three suites run at once, several instances each, on one PostgreSQL of 100 connections.
    DATABASE_POOL_SIZE: "4",
  });
  try {
    await waitUntilServing(origin, child, output, 30_000, `kindred (LOG_LEVEL=${level})`);
  } catch (error) {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const db = await openDatabase(url);
  // "close" comes after the process exited and its stdout and stderr ended: nothing is left in the pipes.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let stopped = false;
  const busy = async () => {
    const now = new Date().toISOString();
    return db.db
      .selectFrom("fedify_queue")
      .select(["queue", "payload"])
      .where((eb) => eb.or([eb("available_at", "<=", now), eb("lease_until", "is not", null)]))
      .execute();
  };
  return {
    origin,
    child,
    output,
    db,
    async queueIdle(timeoutMs = 15_000) {
      let idle = 0;
      const twiceIdle = async () => {
        idle = (await busy()).length === 0 ? idle + 1 : 0;
        return idle >= 2;
      };
      await waitFor(twiceIdle, {
        timeoutMs,
        label: "the server's queue to become idle",
        describe: async () => (await busy()).map((r) => ({ queue: r.queue, payload: r.payload.slice(0, 120) })),
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopProcess(child);
      await closed;
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
