import { createFederation, type Federation } from "@fedify/fedify";
import { KyselyKvStore } from "../db/kv-store.ts";
import { KyselyMessageQueue } from "../db/message-queue.ts";
import type { AppContext, RemoteLookup } from "../src/context.ts";
import { remoteLookup } from "./lookup.ts";
import { registerActors } from "./actors.ts";
import { registerCollections } from "./collections.ts";
import { registerNodeInfo } from "./nodeinfo.ts";
import { registerInbox } from "./inbox/index.ts";
import { startOutbox } from "./outbox.ts";
import { registerObjects } from "./objects.ts";

export interface FederationHandle {
  federation: Federation<AppContext>;
  /** Runs the delivery queue and the outbox (domain events → activities) until `signal` aborts. */
  runWorkers(signal: AbortSignal): Promise<void>;
  remote: RemoteLookup;
}

/**
 * The one place the federation is created. The key–value store and the
 * delivery queue live in our own database, so queued deliveries survive
 * restarts and several processes can share one PostgreSQL.
 */
export function buildFederation(ctx: AppContext): FederationHandle {
  const queue = new KyselyMessageQueue(ctx.db, { dialect: ctx.dialect });
  const federation = createFederation<AppContext>({
    kv: new KyselyKvStore(ctx.db),
    queue,
    origin: ctx.config.origin,
    // Workers are started explicitly (web-only nodes run none).
    manuallyStartQueue: true,
    // Protects against SSRF; only a dev/test setting lifts it.
    allowPrivateAddress: ctx.config.allowPrivateAddress,
    // Every deployed server reads draft-cavage; some accept RFC 9421 with a
    // 202 and then drop it, so the double-knock would never fall back.
    firstKnock: "draft-cavage-http-signatures-12",
  });
  registerActors(federation);
  registerCollections(federation);
  registerObjects(federation);
  registerNodeInfo(federation);
  registerInbox(federation);
  return {
    federation,
    remote: remoteLookup(federation, ctx),
    runWorkers: async (signal) => {
      await Promise.all([federation.startQueue(ctx, { signal }), startOutbox(federation, ctx, signal)]);
    },
  };
}
