// Feeds the delivery ledger from Fedify's own outbox messages, as they pass
// through our queue: a message enqueued is "pending"; after its attempt it is
// "delivered", "retrying" (Fedify enqueued a retry) or "failed" (it gave up,
// or the failure was permanent). A first delivery's JSON is also where we add
// what Fedify's vocabulary cannot say (`onWire`), and where a community's
// boost of a post is remembered, so a removal can take it back (`lastBoost`).
import { AsyncLocalStorage } from "node:async_hooks";
import type { MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";
import { validatePublicUrl } from "@fedify/fedify/runtime";
import type { Kysely } from "kysely";
import { KyselyKvStore } from "../db/kv-store.ts";
import { KyselyMessageQueue, type KyselyMessageQueueOptions } from "../db/message-queue.ts";
import type { Database } from "../db/schema.ts";
import { markFirstSends } from "../db/sent-marks.ts";
import { recordDelivery } from "../src/deliveries/ledger.ts";
import { logger } from "../src/logging.ts";
import type { DomainPolicy } from "../src/policy/matcher.ts";
import { withPublishedAnswers } from "./answers.ts";
import { boostedObject, idOf, isActorDelete, signedAgain, withAttachmentLists, withLemmyTypes } from "./wire.ts";

interface OutboxMessage {
  type: "outbox";
  id: string;
  /** Our origin. */
  baseUrl: string;
  activity: Record<string, unknown>;
  keys: { keyId: string; privateKey: JsonWebKey }[];
  activityId?: string;
  inbox: string;
  attempt: number;
  /** Set on a message the circuit breaker put back to wait (the same delivery, not a new one). */
  circuitHeld?: boolean;
}

/** A `Delete`, or a community's `Announce` of one: what may still go out for an erased member. */
const isDeletion = (a: Record<string, unknown>) =>
  a.type === "Delete" ||
  (a.type === "Announce" &&
    a.object !== null &&
    typeof a.object === "object" &&
    (a.object as { type?: unknown }).type === "Delete");

/** A rewrite of one activity's JSON as its deliveries are queued (see `queuedAs`). */
interface WireEdit {
  activityId: string;
  edit: (activity: Record<string, unknown>) => Record<string, unknown>;
}
const wireEdits = new AsyncLocalStorage<WireEdit>();

/**
 * Runs `send`, during which the deliveries of the activity `activityId` are
 * queued with the JSON `edit` makes of it (signed again): for what Fedify's
 * vocabulary cannot carry, such as an activity re-shared exactly as another
 * server sent it. Only deliveries queued by `send` itself are edited, so it
 * must not hand them to Fedify's fan-out queue (`fanout: "skip"`).
 */
export function queuedAs<T>(activityId: string, edit: WireEdit["edit"], send: () => Promise<T>): Promise<T> {
  return wireEdits.run({ activityId, edit }, send);
}

/** Where our actor's last `Announce` of an object is remembered (`lastBoost`). */
const boostKey = (actorIri: string, objectIri: string) => ["kindred", "boost", actorIri, objectIri] as const;

/**
 * The id of our community's latest `Announce` of the post `objectIri` itself,
 * which Mastodon shows as a boost: an `Undo` of that id takes the boost back.
 */
export const lastBoost = (db: Kysely<Database>, groupIri: string, objectIri: string): Promise<string | undefined> =>
  new KyselyKvStore(db).get<string>(boostKey(groupIri, objectIri));

const isOutbox = (m: unknown): m is OutboxMessage =>
  typeof m === "object" && m !== null && (m as { type?: unknown }).type === "outbox";
const log = logger("federation", "ledger");

/** The host a queued delivery goes to: its slot key, for the per-host limit of deliveries in flight. */
export function deliveryHost(message: unknown): string | null {
  if (!isOutbox(message)) return null;
  try {
    return new URL(message.inbox).host;
  } catch {
    return null;
  }
}

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

/**
 * What Fedify's vocabulary cannot say, added to the JSON of a first delivery
 * and signed again (wire.ts `signedAgain`): Lemmy's `removeData: true` on an
 * erasure's `Delete(Person)` (Lemmy and PieFed drop an erased person's posts
 * only then); Lemmy's `Lock` and `Resolve` types; `attachment` as a list
 * (Lemmy refuses a single object); a question's terms on our `Page`s
 * (answers.ts); and a `queuedAs` edit.
 */
async function onWire(m: OutboxMessage, db: Kysely<Database>): Promise<Record<string, unknown>> {
  let activity = m.activity;
  activity = (await withPublishedAnswers(db, activity, m.baseUrl)) ?? activity;
  if (isActorDelete(activity)) activity = { ...activity, removeData: true };
  activity = withLemmyTypes(activity, m.baseUrl) ?? activity;
  activity = withAttachmentLists(activity) ?? activity;
  const edit = wireEdits.getStore();
  if (edit && edit.activityId === m.activityId) activity = edit.edit(activity);
  return activity === m.activity ? activity : signedAgain(activity, m.keys);
}

export class LedgerQueue extends KyselyMessageQueue {
  /** The outbox message being attempted, for `onOutboxError` (which is not told the inbox). */
  readonly #current = new AsyncLocalStorage<{ failed?: string; retried: boolean; id: string }>();
  /** Fedify's delivery path checks no address: ours refuses private ones unless ALLOW_PRIVATE_ADDRESS. */
  readonly #allowPrivateAddress: boolean;
  /** Checked at each delivery's turn: a server suspended since the delivery was queued gets nothing. */
  readonly #policy: DomainPolicy | undefined;

  constructor(
    db: Kysely<Database>,
    options: KyselyMessageQueueOptions & { allowPrivateAddress: boolean; policy?: DomainPolicy },
  ) {
    super(db, options);
    this.#allowPrivateAddress = options.allowPrivateAddress;
    this.#policy = options.policy;
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
    // The messages of one send share one activity (and keys): it is rewritten and signed once.
    const wired = new Map<unknown, Promise<Record<string, unknown>>>();
    for (const m of messages) {
      if (isOutbox(m) && attempt?.id === m.id) attempt.retried = true;
      // Content of an erased member never goes back into the queue (a retry, a fan-out
      // in flight): only their Deletes do.
      if (await this.#byErasedActor(m)) continue;
      if (!isOutbox(m) || m.attempt !== 0) {
        kept.push(m);
        continue;
      }
      const wire = wired.get(m.activity) ?? onWire(m, this.db);
      wired.set(m.activity, wire);
      kept.push({ ...m, activity: await wire });
    }
    const queued = await this.#enqueueOnce(kept, attempt?.id, options);
    const boosts = new Set<string>();
    for (const m of queued) {
      if (!isOutbox(m)) continue;
      await this.#record(m, m.attempt === 0 ? "pending" : "retrying", attempt?.failed);
      // One message per inbox, all carrying the same Announce: remembered once.
      if (m.attempt !== 0 || !m.activityId || boosts.has(m.activityId)) continue;
      boosts.add(m.activityId);
      const object = boostedObject(m.activity);
      const actor = idOf(m.activity.actor);
      if (object && actor) await new KyselyKvStore(this.db).set(boostKey(actor, object), m.activityId);
    }
  }

  /**
   * Queues `messages`, except first deliveries queued before: a send
   * repeated after a crash (an event or a fan-out dispatched again) carries
   * the same activity ids (send.ts `activityId`), and each inbox gets each
   * activity once. The marks and the messages are written in one transaction,
   * so a crash cannot leave one without the other. Returns what was queued.
   */
  async #enqueueOnce(messages: unknown[], retrying: string | undefined, options?: MessageQueueEnqueueOptions) {
    const firsts = messages.flatMap((m, i) =>
      // A retry or a message the circuit breaker holds back is the same delivery going on, not a new one.
      isOutbox(m) && m.attempt === 0 && m.activityId && !m.circuitHeld && m.id !== retrying
        ? [{ index: i, activityId: m.activityId, inbox: m.inbox }]
        : [],
    );
    if (firsts.length === 0) {
      await super.enqueueMany(messages, options);
      return messages;
    }
    let queued = messages;
    await this.db.transaction().execute(async (trx) => {
      const fresh = await markFirstSends(trx, firsts);
      const repeated = new Set(firsts.filter((_, k) => !fresh.has(k)).map((f) => f.index));
      if (repeated.size > 0) log.info("{n} deliveries were queued before; not again", { n: repeated.size });
      queued = messages.filter((_, i) => !repeated.has(i));
      if (queued.length > 0) await this.insertMessages(trx, queued, options);
    });
    this.wakeListeners();
    return queued;
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
      // Dropped, not retried: the ledger says so (a lifted block does not bring back what was dropped, as on Mastodon).
      const suspended = await this.#suspendedTarget(message.inbox);
      if (suspended) return this.#record(message, "failed", suspended);
      const refused = await this.#privateTarget(message.inbox);
      // Never retried: the address will not become public by waiting (a follower's inbox is theirs to choose).
      if (refused) return this.#record(message, "failed", refused);
      const attempt = { retried: false, id: message.id } as { failed?: string; retried: boolean; id: string };
      await this.#current.run(attempt, () => handler(message));
      // Retries were recorded when Fedify enqueued them.
      if (!attempt.retried) await this.#record(message, attempt.failed ? "failed" : "delivered", attempt.failed);
    }, options);
  }

  /** Why a delivery to `inbox` is dropped at its turn (its server is suspended now), or null. */
  async #suspendedTarget(inbox: string): Promise<string | null> {
    if (!this.#policy) return null;
    await this.#policy.ensureFresh();
    if (!this.#policy.isSuspended(inbox)) return null;
    log.info("delivery to {inbox} dropped: its server is suspended", { inbox });
    return "dropped: the server is suspended by this instance's domain policy";
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
