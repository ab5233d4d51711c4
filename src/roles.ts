// The two roles of a Kindred process. "web" serves HTTP: pages, the API and
// ActivityPub's inboxes, which only verify and queue what they receive.
// "worker" runs the queues: received activities, domain events, deliveries
// and background jobs. `npm start` runs both in one process; `kindred web`
// and `kindred worker` one each, so that several of each can share one
// PostgreSQL (the queues' claims are safe across processes: see
// db/message-queue.ts). The entry points plug in the federation.
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { runJobs } from "./background.ts";
import type { AppContext } from "./context.ts";
import { logger } from "./logging.ts";
import { createApp, type FederationHandler } from "./web/app.ts";

/** What a role needs of the federation (federation/attach.ts builds it). */
export interface Federated {
  handle: FederationHandler;
  runWorkers(signal: AbortSignal): Promise<void>;
}

export interface Roles {
  web: boolean;
  worker: boolean;
}

export interface RunningRoles {
  /** The port actually bound (useful with PORT=0); null without the web role. */
  port: number | null;
  /**
   * Settles when the workers stop by themselves, which they only do by
   * failing: a worker process then exits rather than idle without working.
   */
  workersDone: Promise<void>;
  /**
   * Stops gracefully: no new messages are claimed and no new connections
   * accepted; handlers and requests under way finish. The database stays open.
   */
  close(): Promise<void>;
}

const log = logger("server");

/** Starts `roles` on `runtime` (whose database is open and migrated). */
export async function startRoles(runtime: AppContext, federated: Federated, roles: Roles): Promise<RunningRoles> {
  const stop = new AbortController();
  const workersDone = roles.worker
    ? Promise.all([federated.runWorkers(stop.signal), runJobs(runtime, stop.signal)]).then(() => undefined)
    : new Promise<void>(() => undefined);
  // Observed here so that a failure is not unhandled before anyone awaits it; callers still see it.
  workersDone.catch((error) => log.error("the workers stopped: {error}", { error }));
  let server: ServerType | undefined;
  try {
    if (roles.web) server = await listen(runtime, federated.handle);
  } catch (error) {
    stop.abort();
    await workersDone.catch(() => undefined);
    throw error;
  }
  const port = server ? (server.address() as AddressInfo).port : null;
  const { origin } = runtime.config;
  if (port !== null) log.info("Kindred listening on port {port}, public URL {origin}", { port, origin });
  if (roles.worker) log.info("workers started (web: {web})", { web: roles.web });

  let closing: Promise<void> | undefined;
  return {
    port,
    workersDone,
    close() {
      closing ??= (async () => {
        stop.abort();
        if (server) {
          const closed = server;
          await new Promise<void>((resolve) => closed.close(() => resolve()));
        }
        if (roles.worker) await workersDone.catch(() => undefined);
      })();
      return closing;
    },
  };
}

/** Serves the app on PORT, all interfaces; rejects when the port cannot be bound. */
function listen(runtime: AppContext, handle: FederationHandler): Promise<ServerType> {
  const app = createApp(runtime, handle);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: runtime.config.port, hostname: "0.0.0.0" }, () => {
      server.off("error", reject);
      resolve(server);
    });
    server.once("error", reject);
  });
}
