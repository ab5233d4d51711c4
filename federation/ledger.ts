// Feeds the delivery ledger from Fedify's own outbox messages, as they pass
// through our queue: a message enqueued is "pending"; after its attempt it is
// "delivered", "retrying" (Fedify enqueued a retry) or "failed" (it gave up,
// or the failure was permanent).
import { AsyncLocalStorage } from "node:async_hooks";
import type { MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";
import { validatePublicUrl } from "@fedify/fedify/runtime";
import type { Kysely } from "kysely";
import { KyselyMessageQueue, type KyselyMessageQueueOptions } from "../db/message-queue.ts";
import type { Database } from "../db/schema.ts";
import { recordDelivery } from "../src/deliveries/ledger.ts";
import { logger } from "../src/logging.ts";
import { idOf, isActorDelete, withRemoveData } from "./wire.ts";

interface OutboxMessage {
  type: "outbox";
  id: string;
  activity: Record<string, unknown>;
  keys: { keyId: string; privateKey: JsonWebKey }[];
  activityId?: string;
  inbox: string;
  attempt: number;
}

/** A `Delete`, or a community's `Announce` of one: what may still go out for an erased member. */
const isDeletion = (a: Record<string, unknown>) =>
  a.type === "Delete" ||
  (a.type === "Announce" &&
    a.object !== null &&
    typeof a.object === "object" &&
    (a.object as { type?: unknown }).type === "Delete");

const isOutbox = (m: unknown): m is OutboxMessage =>
  typeof m === "object" && m !== null && (m as { type?: unknown }).type === "outbox";
const log = logger("federation", "ledger");

/** The local actor an activity is about, and the object: an Announce's inner activity counts as the activity. */
export function ownerAndObject(activity: Record<string, unknown>): { owner: string | null; object: string | null } {
  let a = activity;
  let object = a.object;
  if (a.type === "Announce" && object && typeof object === "object" && "actor" in object) {
    a = object as Record<string, unknown>;
    object = a.object;
  }
  // A post belongs to its author, whoever sends or re-shares it.
  const attributed =
    object && typeof object === "object" ? idOf((object as { attributedTo?: unknown }).attributedTo) : null;
  return { owner: attributed ?? idOf(a.actor), object: idOf(object) };
}

export class LedgerQueue extends KyselyMessageQueue {
  /** The outbox message being attempted, for `onOutboxError` (which is not told the inbox). */
  readonly #current = new AsyncLocalStorage<{ failed?: string; retried: boolean; id: string }>();
  /** Fedify's delivery path checks no address: ours refuses private ones unless ALLOW_PRIVATE_ADDRESS. */
  readonly #allowPrivateAddress: boolean;

  constructor(db: Kysely<Database>, options: KyselyMessageQueueOptions & { allowPrivateAddress: boolean }) {
    super(db, options);
    this.#allowPrivateAddress = options.allowPrivateAddress;
  }

  /** Call from Fedify's `onOutboxError`: the attempt running in this async context failed. */
  noteFailure(error: Error): void {
    const attempt = this.#current.getStore();
    // The first line only: Fedify appends the remote server's response body, which is theirs, not ours to keep.
    if (attempt) attempt.failed = (error.message.split("\n")[0] ?? "").slice(0, 300);
  }

  override async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    const attempt = this.#current.getStore();
    const kept: unknown[] = [];
    for (const m of messages) {
      if (isOutbox(m) && attempt?.id === m.id) attempt.retried = true;
      // Content of an erased member never goes back into the queue (a retry, a fan-out
      // in flight): only their Deletes do.
      if (await this.#byErasedActor(m)) continue;
      kept.push(
        isOutbox(m) && m.attempt === 0 && isActorDelete(m.activity)
          ? { ...m, activity: await withRemoveData(m.activity, m.keys) }
          : m,
      );
    }
    await super.enqueueMany(kept, options);
    for (const m of kept) {
      if (isOutbox(m)) await this.#record(m, m.attempt === 0 ? "pending" : "retrying", attempt?.failed);
    }
  }

  /** A message carrying a non-Delete activity of a local actor who has since been erased. */
  async #byErasedActor(m: unknown): Promise<boolean> {
    const activity = (m as { activity?: unknown }).activity;
    if (!activity || typeof activity !== "object" || (m as { type?: unknown }).type === "inbox") return false;
    const a = activity as Record<string, unknown>;
    if (isDeletion(a)) return false;
    const { owner } = ownerAndObject(a);
    if (!owner) return false;
    const actor = await this.db
      .selectFrom("actors")
      .select("deleted_at")
      .where("iri", "=", owner)
      .where("local", "=", 1)
      .executeTakeFirst();
    return actor?.deleted_at != null;
  }

  override listen<T = unknown>(
    handler: (message: T) => Promise<void> | void,
    options?: MessageQueueListenOptions,
  ): Promise<void> {
    return super.listen(async (message: T) => {
      if (!isOutbox(message)) return handler(message);
      const refused = await this.#privateTarget(message.inbox);
      // Never retried: the address will not become public by waiting (a follower's inbox is theirs to choose).
      if (refused) return this.#record(message, "failed", refused);
      const attempt = { retried: false, id: message.id } as { failed?: string; retried: boolean; id: string };
      await this.#current.run(attempt, () => handler(message));
      // Retries were recorded when Fedify enqueued them.
      if (!attempt.retried) await this.#record(message, attempt.failed ? "failed" : "delivered", attempt.failed);
    }, options);
  }

  /** Why `inbox` may not be delivered to (a private or unresolvable address), or null when it may. */
  async #privateTarget(inbox: string): Promise<string | null> {
    if (this.#allowPrivateAddress) return null;
    try {
      await validatePublicUrl(inbox);
      return null;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log.info("delivery to {inbox} refused: {reason}", { inbox, reason });
      return `refused: ${reason}`;
    }
  }

  async #record(
    m: OutboxMessage,
    status: "pending" | "delivered" | "retrying" | "failed",
    error?: string,
  ): Promise<void> {
    const { owner, object } = ownerAndObject(m.activity);
    if (!owner || !m.activityId) return;
    await recordDelivery(this.db, {
      activityIri: m.activityId,
      inboxUrl: m.inbox,
      actorIri: owner,
      objectIri: object,
      status,
      error,
      deletion: isDeletion(m.activity),
    }).catch((e) =>
      log.warn("could not record the delivery of {activity} to {inbox}: {error}", {
        activity: m.activityId,
        inbox: m.inbox,
        error: String(e),
      }),
    );
  }
}
