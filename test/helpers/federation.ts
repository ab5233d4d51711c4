// Helpers for suites where several real Kindred instances federate on
// loopback: instances that can be stopped and started again on the same
// database, data directory and port (so their IRIs stay valid), polling with
// deadlines, and readers for the delivery queue (`fedify_queue`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Federation } from "@fedify/fedify";
import type { Kysely } from "kysely";
import { type Dialect, openDatabase } from "../../db/connect.ts";
import type { Database } from "../../db/schema.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import type { AppContext } from "../../src/context.ts";
import type { Runtime } from "../../src/runtime.ts";
import { type RunningInstance, startInstance } from "../../src/server.ts";
import { freshDatabase, type TestDatabase } from "./databases.ts";
import type { TestInstance } from "./instance.ts";
import { freePort } from "./processes.ts";

/**
 * A real Kindred on 127.0.0.1 that survives restarts: `stop()` closes the
 * process (HTTP server, workers, database handle) but keeps its database and
 * port; `start()` runs it again on both. Structurally a `TestInstance`, so the
 * seeding helpers of `seed.ts` take it; `destroy()` drops everything.
 */
export class Peer implements TestInstance {
  readonly url: string;
  readonly config: Config;
  readonly database: TestDatabase;
  readonly #dataDir: string;
  #running: RunningInstance | undefined;

  private constructor(config: Config, database: TestDatabase, dataDir: string) {
    this.url = config.origin;
    this.config = config;
    this.database = database;
    this.#dataDir = dataDir;
  }

  static async start(options: { dialect?: Dialect; env?: Record<string, string> } = {}): Promise<Peer> {
    const database = await freshDatabase(options.dialect ?? "sqlite", false);
    await database.close();
    const dataDir = mkdtempSync(join(tmpdir(), "kindred-data-"));
    const port = await freePort();
    const config = loadConfig({
      PORT: String(port),
      ORIGIN: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      ALLOW_PRIVATE_ADDRESS: "true",
      // Suites post far more than a person would; test/http/posting-limits.test.ts turns the caps on.
      POSTING_LIMITS: "false",
      // Three suites run at once, several instances each, on one PostgreSQL of 100 connections.
      DATABASE_POOL_SIZE: "4",
      LOG_LEVEL: "fatal",
      ...options.env,
    });
    const peer = new Peer(config, database, dataDir);
    await peer.start();
    return peer;
  }

  get up(): boolean {
    return this.#running !== undefined;
  }

  get #current(): RunningInstance {
    if (!this.#running) throw new Error(`${this.url} is stopped`);
    return this.#running;
  }

  get runtime(): Runtime {
    return this.#current.runtime;
  }

  get federation(): Federation<AppContext> {
    return this.#current.federation;
  }

  get port(): number {
    return this.config.port;
  }

  /** The running instance's database. */
  get db(): Kysely<Database> {
    return this.runtime.db;
  }

  /** Starts the instance (again) on the same database, data directory and port. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = await startInstance(this.config);
  }

  /** Stops the process as a shutdown would, keeping its data and its port number. */
  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    await running?.close();
  }

  close(): Promise<void> {
    return this.stop();
  }

  /** Stops and removes the database and data directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await this.database.drop();
    rmSync(this.#dataDir, { recursive: true, force: true });
  }

  /**
   * Runs `fn` on a database handle of its own: works while the instance is
   * stopped (to inspect or adjust what it left behind).
   */
  async withOfflineDb<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    const handle = await openDatabase(this.database.url);
    try {
      return await fn(handle.db);
    } finally {
      await handle.close();
    }
  }
}

/** Deadline for anything that has to cross the network and the queues. */
export const FEDERATION_DEADLINE_MS = 20_000;

/**
 * Polls `probe` until `done(value)` holds, and returns that value. No fixed
 * sleeps: the loop ends as soon as the condition holds. At the deadline it
 * throws, naming `what` and the last value seen.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = FEDERATION_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (done(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const seen = lastError !== undefined ? `error ${String(lastError)}` : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what} (last seen: ${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls until `probe` returns something other than undefined/null. */
export function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null>,
  timeoutMs = FEDERATION_DEADLINE_MS,
): Promise<T> {
  return until(what, probe, (v) => v !== undefined && v !== null, timeoutMs) as Promise<T>;
}

/** A Fedify message in `fedify_queue` (its channels `fedify`, `fedify-inbox`, `fedify-fanout`), decoded. */
export interface QueuedMessage {
  rowId: string;
  /** "outbox" (one delivery to one inbox), "fanout" (a send to many, not yet split) or "inbox" (a received activity). */
  type: string;
  /** Outbox messages: the inbox it goes to. */
  inbox: string | null;
  /** Fedify's retry counter: 0 for a first try, n for the n-th retry. */
  attempt: number;
  activityType: string | null;
  /** Set when the circuit breaker holds the delivery. */
  circuitHeld: boolean;
  availableAt: string;
  /** Our queue's claim counter of this row. */
  claims: number;
  /** The message as stored (JSON), e.g. to find the deliveries carrying a given post. */
  payload: string;
}

export async function fedifyMessages(db: Kysely<Database>): Promise<QueuedMessage[]> {
  const rows = await db
    .selectFrom("fedify_queue")
    .selectAll()
    .where("queue", "like", "fedify%")
    .orderBy("id")
    .execute();
  return rows.map((r) => {
    const p = JSON.parse(r.payload) as {
      type?: string;
      inbox?: string;
      attempt?: number;
      activityType?: string;
      circuitHeld?: boolean;
    };
    return {
      rowId: r.id,
      type: p.type ?? "?",
      inbox: p.inbox ?? null,
      attempt: p.attempt ?? 0,
      activityType: p.activityType ?? null,
      circuitHeld: p.circuitHeld === true,
      availableAt: r.available_at,
      claims: r.attempts,
      payload: r.payload,
    };
  });
}

/** Outbox deliveries queued towards `origin`. */
export async function deliveriesTo(db: Kysely<Database>, origin: string): Promise<QueuedMessage[]> {
  return (await fedifyMessages(db)).filter(
    (m) => m.type === "outbox" && m.inbox !== null && new URL(m.inbox).origin === origin,
  );
}

/** Rows of both channels (domain events and Fedify's messages). */
export async function queueDepth(db: Kysely<Database>): Promise<{ events: number; fedify: number }> {
  const rows = await db.selectFrom("fedify_queue").select(["queue"]).execute();
  return {
    events: rows.filter((r) => r.queue === "events").length,
    fedify: rows.filter((r) => r.queue.startsWith("fedify")).length,
  };
}

/** Waits until an instance has nothing left to send or process. */
export async function settled(db: Kysely<Database>, what = "queues drained"): Promise<void> {
  await until(
    what,
    () => queueDepth(db),
    (d) => d.events === 0 && d.fedify === 0,
  );
}

/**
 * Waits until each peer in turn, in the order an activity travels, has
 * nothing left to send or process. Sound because no hop ever empties its
 * queue before the next hop holds the work: a domain event is written with
 * the change, an inbox message's handler writes its events before the
 * message is deleted, a delivery is queued on the receiver (202) before the
 * sender deletes it, and retries are queued before a failed attempt is
 * deleted. So once all are idle, whatever was going to arrive has arrived:
 * a test can then assert that something did NOT happen, or did, without
 * waiting out a deadline.
 */
export async function quiesce(...peers: Peer[]): Promise<void> {
  for (const peer of peers) await settled(peer.db, `${peer.url} idle`);
}
