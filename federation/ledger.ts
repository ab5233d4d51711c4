// Feeds the delivery ledger from Fedify's own outbox messages, as they pass
// through our queue: a message enqueued is "pending"; after its attempt it is
// "delivered", "retrying" (Fedify enqueued a retry) or "failed" (it gave up,
// or the failure was permanent).
import { AsyncLocalStorage } from "node:async_hooks";
import type { MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";
import { KyselyMessageQueue } from "../db/message-queue.ts";
import { recordDelivery } from "../src/deliveries/ledger.ts";
import { logger } from "../src/logging.ts";
import { isActorDelete, withRemoveData } from "./wire.ts";

interface OutboxMessage {
  type: "outbox";
  id: string;
  activity: Record<string, unknown>;
  keys: { keyId: string; privateKey: JsonWebKey }[];
  activityId?: string;
  inbox: string;
  attempt: number;
}

const isOutbox = (m: unknown): m is OutboxMessage => typeof m === "object" && m !== null && (m as { type?: unknown }).type === "outbox";
const log = logger("federation", "ledger");

/** The local actor an activity is about, and the object: an Announce's inner activity counts as the activity. */
export function ownerAndObject(activity: Record<string, unknown>): { owner: string | null; object: string | null } {
  const idOf = (v: unknown): string | null => (typeof v === "string" ? v : v && typeof v === "object" && typeof (v as { id?: unknown }).id === "string" ? (v as { id: string }).id : null);
  let a = activity;
  let object = a.object;
  if (a.type === "Announce" && object && typeof object === "object" && "actor" in object) {
    a = object as Record<string, unknown>;
    object = a.object;
  }
  // A post belongs to its author, whoever sends or re-shares it.
  const attributed = object && typeof object === "object" ? idOf((object as { attributedTo?: unknown }).attributedTo) : null;
  return { owner: attributed ?? idOf(a.actor), object: idOf(object) };
}

export class LedgerQueue extends KyselyMessageQueue {
  /** The outbox message being attempted, for `onOutboxError` (which is not told the inbox). */
  readonly #current = new AsyncLocalStorage<{ failed?: string; retried: boolean; id: string }>();

  /** Call from Fedify's `onOutboxError`: the attempt running in this async context failed. */
  noteFailure(error: Error): void {
    const attempt = this.#current.getStore();
    if (attempt) attempt.failed = error.message.slice(0, 500);
  }

  override async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    messages = await Promise.all(messages.map(async (m) => (isOutbox(m) && m.attempt === 0 && isActorDelete(m.activity) ? { ...m, activity: await withRemoveData(m.activity, m.keys) } : m)));
    await super.enqueueMany(messages, options);
    for (const m of messages) {
      if (!isOutbox(m)) continue;
      const attempt = this.#current.getStore();
      if (attempt && attempt.id === m.id) attempt.retried = true;
      await this.#record(m, m.attempt === 0 ? "pending" : "retrying", attempt?.failed);
    }
  }

  override listen(handler: (message: any) => Promise<void> | void, options?: MessageQueueListenOptions): Promise<void> {
    return super.listen(async (message) => {
      if (!isOutbox(message)) return handler(message);
      const attempt = { retried: false, id: message.id } as { failed?: string; retried: boolean; id: string };
      await this.#current.run(attempt, () => handler(message));
      // Retries were recorded when Fedify enqueued them.
      if (!attempt.retried) await this.#record(message, attempt.failed ? "failed" : "delivered", attempt.failed);
    }, options);
  }

  async #record(m: OutboxMessage, status: "pending" | "delivered" | "retrying" | "failed", error?: string): Promise<void> {
    const { owner, object } = ownerAndObject(m.activity);
    if (!owner || !m.activityId) return;
    await recordDelivery(this.db, { activityIri: m.activityId, inboxUrl: m.inbox, actorIri: owner, objectIri: object, status, error }).catch((e) =>
      log.warn("could not record the delivery of {activity} to {inbox}: {error}", { activity: m.activityId, inbox: m.inbox, error: String(e) }),
    );
  }
}
