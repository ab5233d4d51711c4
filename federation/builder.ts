import {
  createExponentialBackoffPolicy,
  createFederation,
  type Federation,
  type FederationFetchOptions,
  kvCache,
  signRequest,
} from "@fedify/fedify";
import { KyselyKvStore } from "../db/kv-store.ts";
import { KyselyMessageQueue } from "../db/message-queue.ts";
import type { AppContext, RemoteLookup } from "../src/context.ts";
import { logger } from "../src/logging.ts";
import { registerActors } from "./actors.ts";
import { registerCollections } from "./collections.ts";
import { boundedDocumentLoader, keyOwnersBound, shippedContextLoader } from "./documents.ts";
import { registerInbox } from "./inbox/index.ts";
import { GateKeyCache, gateInbox } from "./inbox-gate.ts";
import { InboxLimiter, limitInbox } from "./inbox-limits.ts";
import { deliveryHost, LedgerQueue } from "./ledger.ts";
import { remoteLookup } from "./lookup.ts";
import { registerNodeInfo } from "./nodeinfo.ts";
import { registerObjects } from "./objects.ts";
import { startOutbox } from "./outbox.ts";
import { policyLoader, refuseBlockedInbox, refuseSuspendedActor } from "./policy.ts";
import { FEDIFY_CHANNELS } from "./queued-deliveries.ts";
import { keyContextLoader, normalizeWireResponse } from "./wire.ts";

export interface FederationHandle {
  federation: Federation<AppContext>;
  /** Runs the delivery queue and the outbox (domain events → activities) until `signal` aborts. */
  runWorkers(signal: AbortSignal): Promise<void>;
  remote: RemoteLookup;
  /** `federation.fetch` with our wire normalisation of the documents it serves. */
  handle(request: Request, options: FederationFetchOptions<AppContext>): Promise<Response>;
}

/**
 * The one place the federation is created. The key–value store and the
 * delivery queue live in our own database, so queued deliveries survive
 * restarts and several processes can share one PostgreSQL.
 */
const log = logger("federation", "delivery");

/**
 * Fedify's messages, in our table, on three channels with their own workers,
 * so that none waits for another's capacity: received activities are stored
 * however slowly peers answer our deliveries; deliveries (which also feed the
 * delivery ledger) run many at once but only a few per host, so one slow
 * server cannot hold every slot; fan-outs (one send split into a delivery per
 * inbox) only write rows and are never stuck behind a delivery. Domain events
 * (outbox.ts) and background jobs (src/background.ts) have channels of their own.
 */
function fedifyQueues(ctx: AppContext) {
  const { config, db, dialect } = ctx;
  const inbox = new KyselyMessageQueue(db, {
    dialect,
    channel: FEDIFY_CHANNELS.inbox,
    concurrency: config.inboxConcurrency,
    pollIntervalMs: 200,
    leaseMs: config.queueLeaseMs,
  });
  // Every request is cut at OUTBOUND_TIMEOUT_S (outbound-http.ts), so a delivery (two knocks, a key
  // fetch) ends well within five of them; past that the handler is stuck on something else and its
  // slot is freed (its lease renewals stop, the message is settled: it never runs twice at once).
  const delivery = {
    dialect,
    allowPrivateAddress: config.allowPrivateAddress,
    handlerDeadlineMs: 5 * config.outboundTimeoutMs,
    leaseMs: config.queueLeaseMs,
    policy: ctx.policy,
  };
  const queue = new LedgerQueue(db, {
    ...delivery,
    channel: FEDIFY_CHANNELS.outbox,
    concurrency: config.deliveryConcurrency,
    slotKeyOf: deliveryHost,
    slotKeyConcurrency: config.deliveryHostConcurrency,
  });
  const fanout = new LedgerQueue(db, { ...delivery, channel: FEDIFY_CHANNELS.fanout, concurrency: 2 });
  return { queue, queues: { inbox, outbox: queue, fanout } };
}

export function buildFederation(ctx: AppContext): FederationHandle {
  const { queue, queues } = fedifyQueues(ctx);
  const kv = new KyselyKvStore(ctx.db);
  // Protects against SSRF; only a dev/test setting lifts it.
  const allowPrivate = ctx.config.allowPrivateAddress;
  // Our bounded loader (federation/documents.ts), cached in our KV store as
  // Fedify's is by default, plus the security context for actors that forget
  // it (see wire.ts). The policy sits outside the cache: a document cached
  // before a suspension is refused too. Contexts are never fetched.
  const documentLoader = policyLoader(
    kvCache({
      loader: keyOwnersBound(keyContextLoader(boundedDocumentLoader({ allowPrivateAddress: allowPrivate }))),
      kv,
      prefix: ["_fedify", "remoteDocument"],
    }),
    ctx.policy,
  );
  const gate = {
    origin: ctx.config.origin,
    documentLoader,
    contextLoader: shippedContextLoader,
    keyCache: new GateKeyCache({ refused: (keyId) => ctx.policy.isSuspended(keyId) }),
  };
  const federation = createFederation<AppContext>({
    kv,
    documentLoaderFactory: () => documentLoader,
    contextLoaderFactory: () => shippedContextLoader,
    authenticatedDocumentLoaderFactory: (identity) =>
      policyLoader(
        keyOwnersBound(
          keyContextLoader(
            boundedDocumentLoader({
              allowPrivateAddress: allowPrivate,
              sign: (request) => signRequest(request, identity.privateKey, identity.keyId),
            }),
          ),
        ),
        ctx.policy,
      ),
    queue: queues,
    origin: ctx.config.origin,
    // Workers are started explicitly (web-only nodes run none).
    manuallyStartQueue: true,
    // Every deployed server reads draft-cavage; some accept RFC 9421 with a
    // 202 and then drop it, so the double-knock would never fall back.
    firstKnock: "draft-cavage-http-signatures-12",
    // Deliveries retry with exponential backoff (1 s, 2 s, 4 s … capped at
    // 12 h) for about two days before giving up, as Mastodon does.
    outboxRetryPolicy: createExponentialBackoffPolicy({
      initialDelay: { seconds: 1 },
      maxDelay: { hours: 12 },
      maxAttempts: 20,
    }),
    // A dead instance: after 5 failures within 10 minutes its deliveries are
    // held (not attempted) for 30 minutes, then probed again; held ones are
    // kept for 7 days.
    circuitBreaker: {
      failureThreshold: 5,
      failureWindow: { minutes: 10 },
      recoveryDelay: { minutes: 30 },
      onStateChange: (host, from, to) => log.warn("delivery circuit for {host}: {from} → {to}", { host, from, to }),
      // A held delivery dropped after 7 days is a failure in the ledger (and on erasure receipts), not a delivery.
      onActivityDrop: (host) => queue.noteFailure(new Error(`given up: ${host} was unreachable for 7 days`)),
    },
    onOutboxError: (error, activity) => {
      queue.noteFailure(error);
      log.warn("delivery of {activity} failed: {error}", { activity: activity?.id?.href, error: error.message });
    },
  });
  // The same setting for Fedify's WebFinger and object lookups, which read it
  // from the federation itself (it is a plain field of Fedify's Federation).
  (federation as unknown as { allowPrivateAddress: boolean }).allowPrivateAddress = allowPrivate;
  registerActors(federation);
  registerCollections(federation);
  registerObjects(federation);
  registerNodeInfo(federation);
  registerInbox(federation);
  // Per server and per remote account: over the window's allowance, 429 with Retry-After (federation/inbox-limits.ts).
  const inboxLimiter = new InboxLimiter(ctx.config.inboxLimits);
  return {
    federation,
    remote: remoteLookup(federation, ctx),
    handle: async (request, options) => {
      // Another process may have just suspended the sender's server (src/policy/version.ts).
      await ctx.policy.ensureFresh();
      const refused = refuseBlockedInbox(request, ctx.policy);
      if (refused) return refused;
      return limitInbox(inboxLimiter, request, (limited) => serve(limited, options));
    },
    runWorkers: async (signal) => {
      await Promise.all([federation.startQueue(ctx, { signal }), startOutbox(federation, ctx, signal)]);
    },
  };

  /** Everything after the door: the inbox gate (size, depth, JSON-LD), suspended actors, then Fedify. */
  async function serve(request: Request, options: FederationFetchOptions<AppContext>): Promise<Response> {
    const gated = await gateInbox(request, gate);
    if (gated instanceof Response) return gated;
    const suspended = await refuseSuspendedActor(gated, ctx.db);
    if (suspended) return suspended;
    return normalizeWireResponse(await federation.fetch(gated, options));
  }
}
