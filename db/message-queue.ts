// Fedify's message queue on our own `fedify_queue` table: persistent (rows
// survive restarts), delays via `available_at`, at-least-once delivery with a
// lease renewed while the handler runs, per-ordering-key serialization, a
// per-key limit of messages in flight (a delivery's host), and safe with
// several worker processes on PostgreSQL (claims use FOR UPDATE SKIP LOCKED).
import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import type { Kysely, Selectable } from "kysely";
import { v7 as uuidv7 } from "uuid";
import type { Dialect } from "./connect.ts";
import { keepLease } from "./queue-lease.ts";
import type { Database, FedifyQueueTable } from "./schema.ts";

const logger = getLogger(["kindred", "queue"]);

export interface KyselyMessageQueueOptions {
  dialect: Dialect;
  /** How often an idle listener looks for due messages. Default 500 ms. */
  pollIntervalMs?: number;
  /**
   * How long a claimed message belongs to its worker without news from it.
   * The worker renews the lease every third of it while the handler runs, so
   * a long handler keeps its message; a crashed worker stops renewing, and
   * once the lease runs out another worker takes the message again. Default 60 s.
   */
  leaseMs?: number;
  /** Handlers running at once per `listen` call. Default 4. */
  concurrency?: number;
  /**
   * Deliveries (handler failures or expired leases) before a message is
   * dropped as poison. Default 5.
   */
  maxAttempts?: number;
  /** First retry delay after a handler failure; doubles per attempt, capped at 1 hour. Default 1 s. */
  retryBaseMs?: number;
  /**
   * Stop waiting for a handler after this long: its lease renewals stop, its
   * slot is freed and the message settled. A safety net for handlers that
   * finish, or queue their own retry, by themselves (deliveries, whose
   * requests have deadlines of their own). Default: wait as long as it takes.
   */
  handlerDeadlineMs?: number;
  /**
   * Which queue of the table this instance serves. Fedify's own messages use
   * the default; our domain events use another, so a state change and its
   * event can be written in one transaction (see `queueRow`).
   */
  channel?: string;
  /**
   * The key of a message whose kind may run only `slotKeyConcurrency` at once
   * in this listener (a delivery's host), or null for no limit. Stored with
   * the row, so a claim passes over the messages of a full key in the same
   * statement: they wait in the table, holding neither a slot nor a lease,
   * while other keys' messages use the slots. (Claiming them and putting them
   * back with a delay would churn the table for every waiting message; waiting
   * inside the handler would hold their leases and fill memory.)
   */
  slotKeyOf?: (message: unknown) => string | null;
  /** Messages of one slot key in flight at once per `listen` call. Default: no limit. */
  slotKeyConcurrency?: number;
}

/** The row that enqueues `message` on `channel`; insert it inside any transaction. */
export function queueRow(
  channel: string,
  message: unknown,
  options: { delayMs?: number; orderingKey?: string | null; slotKey?: string | null } = {},
) {
  const now = Date.now();
  return {
    id: uuidv7(),
    queue: channel,
    payload: JSON.stringify(message),
    ordering_key: options.orderingKey ?? null,
    available_at: iso(now + (options.delayMs ?? 0)),
    lease_until: null,
    attempts: 0,
    created_at: iso(now),
    slot_key: options.slotKey ?? null,
  };
}

type Row = Selectable<FedifyQueueTable>;
const INSERT_CHUNK = 500;

export class KyselyMessageQueue implements MessageQueue {
  /**
   * `false`: Fedify applies its own retry policies (exponential backoff,
   * Retry-After, permanent 4xx failures, circuit breaker, give-up and error
   * hooks) by catching a failed delivery and enqueueing a new message with a
   * delay; the handler then returns normally. With `true` Fedify would instead
   * rethrow and leave all of that to us. So a handler that throws here is an
   * unexpected failure for which Fedify scheduled nothing (e.g. its re-enqueue
   * failed): we retry it a few times with backoff (`maxAttempts`) as a safety
   * net, which never doubles a retry Fedify already scheduled.
   */
  readonly nativeRetrial = false;

  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #concurrency: number;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #channel: string;
  readonly #handlerDeadlineMs: number | undefined;
  readonly #slotKeyOf: (message: unknown) => string | null;
  readonly #slotKeyConcurrency: number;
  /** Wakes this instance's listeners after a local enqueue. */
  readonly #wakers = new Set<() => void>();

  /** The database the queue lives in (subclasses record side data there). */
  get db(): Kysely<Database> {
    return this.#db;
  }

  constructor(db: Kysely<Database>, options: KyselyMessageQueueOptions) {
    this.#db = db;
    this.#dialect = options.dialect;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#retryBaseMs = options.retryBaseMs ?? 1_000;
    this.#channel = options.channel ?? "fedify";
    this.#handlerDeadlineMs = options.handlerDeadlineMs;
    this.#slotKeyOf = options.slotKeyOf ?? (() => null);
    this.#slotKeyConcurrency = Math.max(1, options.slotKeyConcurrency ?? Number.POSITIVE_INFINITY);
  }

  async enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    await this.enqueueMany([message], options);
  }

  async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    if (messages.length === 0) return;
    // A single statement needs no transaction: that matters on SQLite, where
    // an open transaction holds the file's write lock across awaits.
    if (messages.length <= INSERT_CHUNK) await this.insertMessages(this.#db, messages, options);
    else await this.#db.transaction().execute((tx) => this.insertMessages(tx, messages, options));
    this.wakeListeners();
  }

  /**
   * Writes the rows of `messages` through `db` (a subclass's transaction, so
   * that what it records with them is written or not with them); listeners
   * are not woken (`wakeListeners`, after the commit).
   */
  protected async insertMessages(
    db: Kysely<Database>,
    messages: readonly unknown[],
    options?: MessageQueueEnqueueOptions,
  ): Promise<void> {
    const delayMs = options?.delay == null ? 0 : Math.max(0, options.delay.total({ unit: "millisecond" }) as number);
    // uuid's v7 is monotonic within a process, so ids keep the array's order:
    // that is the order of an ordering key's messages.
    const rows = messages.map((message) =>
      queueRow(this.#channel, message, {
        delayMs,
        orderingKey: options?.orderingKey ?? null,
        slotKey: this.#slotKeyOf(message),
      }),
    );
    // Chunks stay under both databases' bound-parameter limits.
    for (let i = 0; i < rows.length; i += INSERT_CHUNK)
      await db
        .insertInto("fedify_queue")
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
  }

  /** Wakes this instance's idle listeners: messages were just enqueued. */
  protected wakeListeners(): void {
    for (const wake of this.#wakers) wake();
  }

  /** Messages come back as they were enqueued (JSON); a channel's consumer knows their type. */
  async listen<T = unknown>(
    handler: (message: T) => Promise<void> | void,
    options: MessageQueueListenOptions = {},
  ): Promise<void> {
    const { signal } = options;
    const inFlight = new Set<Promise<void>>();
    // Messages in flight per slot key; a key at its limit is left out of claims.
    const perKey = new Map<string, number>();
    const fullKeys = () => [...perKey].filter(([, n]) => n >= this.#slotKeyConcurrency).map(([key]) => key);
    // A wake-up that arrives while we are busy claiming must not be lost.
    let woken = false;
    let wakeSleeper: (() => void) | undefined;
    const wake = () => {
      woken = true;
      wakeSleeper?.();
    };
    this.#wakers.add(wake);
    signal?.addEventListener("abort", wake, { once: true });
    try {
      while (!signal?.aborted) {
        woken = false;
        while (inFlight.size < this.#concurrency && !signal?.aborted) {
          let row: Row | undefined;
          try {
            row = await this.#claim(fullKeys());
          } catch (error) {
            logger.error("Failed to claim a queued message:\n{error}", { error });
            break;
          }
          if (row === undefined) break;
          const key = row.slot_key;
          if (key !== null) perKey.set(key, (perKey.get(key) ?? 0) + 1);
          // A finished handler frees a slot and may unblock its ordering key's (or slot key's) next message.
          const job: Promise<void> = this.#process(row, handler).finally(() => {
            inFlight.delete(job);
            if (key !== null) {
              const left = (perKey.get(key) ?? 1) - 1;
              if (left > 0) perKey.set(key, left);
              else perKey.delete(key);
            }
            wake();
          });
          inFlight.add(job);
        }
        if (woken || signal?.aborted) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#pollIntervalMs);
          wakeSleeper = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeSleeper = undefined;
      }
      // Stop claiming, but let running handlers finish (and delete their rows).
      await Promise.all(inFlight);
    } finally {
      this.#wakers.delete(wake);
      signal?.removeEventListener("abort", wake);
    }
  }

  /** Number of rows in the queue: waiting, delayed and in-flight messages. */
  async queueDepth(): Promise<number> {
    const { n } = await this.#db
      .selectFrom("fedify_queue")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("queue", "=", this.#channel)
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Fedify's depth report: messages not currently held by a worker. */
  async getDepth(): Promise<MessageQueueDepth> {
    const now = iso(Date.now());
    const rows = await this.#db
      .selectFrom("fedify_queue")
      .select("available_at")
      .where("queue", "=", this.#channel)
      .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", now)]))
      .execute();
    const ready = rows.filter((r) => r.available_at <= now).length;
    return { queued: rows.length, ready, delayed: rows.length - ready };
  }

  /**
   * Takes the next due message: not leased (or its lease expired), and no
   * other message with its ordering key is older or currently leased. One
   * statement, so it is atomic on SQLite; on PostgreSQL the candidate row is
   * locked with SKIP LOCKED so concurrent workers pick different messages.
   */
  async #claim(fullKeys: string[]): Promise<Row | undefined> {
    const nowMs = Date.now();
    const now = iso(nowMs);
    const candidate = this.#db
      .selectFrom("fedify_queue as m")
      .select("m.id")
      .where("m.queue", "=", this.#channel)
      .where("m.available_at", "<=", now)
      .where((eb) => eb.or([eb("m.lease_until", "is", null), eb("m.lease_until", "<=", now)]))
      .$if(fullKeys.length > 0, (q) =>
        q.where((eb) => eb.or([eb("m.slot_key", "is", null), eb("m.slot_key", "not in", fullKeys)])),
      )
      .where((eb) =>
        eb.or([
          eb("m.ordering_key", "is", null),
          eb.not(
            eb.exists(
              eb
                .selectFrom("fedify_queue as o")
                .select("o.id")
                .whereRef("o.queue", "=", "m.queue")
                .whereRef("o.ordering_key", "=", "m.ordering_key")
                .whereRef("o.id", "<>", "m.id")
                .where((eb) => eb.or([eb("o.id", "<", eb.ref("m.id")), eb("o.lease_until", ">", now)])),
            ),
          ),
        ]),
      )
      .orderBy("m.available_at")
      .orderBy("m.id")
      .limit(1)
      .$if(this.#dialect === "postgres", (q) => q.forUpdate().skipLocked());
    return await this.#db
      .updateTable("fedify_queue")
      .set((eb) => ({ lease_until: iso(nowMs + this.#leaseMs), attempts: eb("attempts", "+", 1) }))
      .where("id", "=", candidate)
      .returningAll()
      .executeTakeFirst();
  }

  /** Runs the handler, its lease renewed until it settles; never rejects. */
  async #process<T>(row: Row, handler: (message: T) => Promise<void> | void): Promise<void> {
    const lease = keepLease(this.#db, row, this.#leaseMs);
    try {
      await this.#run(row, handler, lease.stop);
    } finally {
      await lease.stop();
    }
  }

  async #run<T>(row: Row, handler: (message: T) => Promise<void> | void, stopLease: () => Promise<void>) {
    const log = { messageId: row.id, attempts: row.attempts };
    try {
      // Claimed this often without ever finishing: it probably kills its worker.
      if (row.attempts > this.#maxAttempts) {
        logger.error("Dropping message {messageId}: its lease expired {attempts} times.", log);
        await this.#delete(row);
        return;
      }
      try {
        const run = Promise.resolve().then(() => handler(JSON.parse(row.payload)));
        // The lease is no longer renewed once the handler is done (or late): the message is settled next.
        if ((await this.#withinDeadline(run).finally(stopLease)) === "late") {
          // Still running, stuck on something unforeseen: the slot is freed and the message settled
          // (deleted, so it is never taken twice); the attempt finishes on its own and queues its own
          // retry if it fails.
          logger.warn("Message {messageId} still running after {deadlineMs} ms; its slot is freed.", {
            ...log,
            deadlineMs: this.#handlerDeadlineMs,
          });
          run.catch(() => undefined);
        }
      } catch (error) {
        if (row.attempts >= this.#maxAttempts) {
          logger.error("Dropping message {messageId} after {attempts} failed attempts:\n{error}", { ...log, error });
          await this.#delete(row);
          return;
        }
        const delayMs = Math.min(this.#retryBaseMs * 2 ** (row.attempts - 1), 3_600_000);
        logger.warn("Message {messageId} failed (attempt {attempts}); retrying in {delayMs} ms:\n{error}", {
          ...log,
          delayMs,
          error,
        });
        // `attempts` fences the release: if our lease expired and another
        // worker claimed the message meanwhile, its lease stays intact.
        await this.#db
          .updateTable("fedify_queue")
          .set({ lease_until: null, available_at: iso(Date.now() + delayMs) })
          .where("id", "=", row.id)
          .where("attempts", "=", row.attempts)
          .execute();
        return;
      }
      await this.#delete(row);
    } catch (error) {
      // The lease will run out and the message will be delivered again.
      logger.error("Failed to settle message {messageId}:\n{error}", { ...log, error });
    }
  }

  async #withinDeadline(run: Promise<unknown>): Promise<"done" | "late"> {
    const deadline = this.#handlerDeadlineMs;
    if (deadline === undefined) return run.then(() => "done");
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), deadline);
    });
    try {
      return await Promise.race([run.then(() => "done" as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #delete(row: Row): Promise<void> {
    await this.#db.deleteFrom("fedify_queue").where("id", "=", row.id).execute();
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
