import type { AddressInfo } from "node:net";
import type { Federation } from "@fedify/fedify";
import { type ServerType, serve } from "@hono/node-server";
import { attachFederation } from "../federation/attach.ts";
import { runJobs } from "./background.ts";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { logger } from "./logging.ts";
import { openRuntime, type Runtime } from "./runtime.ts";
import { createApp } from "./web/app.ts";

export interface RunningInstance {
  runtime: Runtime;
  federation: Federation<AppContext>;
  /** The port actually bound (useful with PORT=0). */
  port: number;
  close(): Promise<void>;
}

const log = logger("server");

/**
 * Opens the database (migrating it), serves HTTP and, unless WORKER=false,
 * runs the delivery worker and background jobs.
 */
export async function startInstance(config: Config): Promise<RunningInstance> {
  const runtime = await openRuntime(config);
  const { federation, runWorkers, handle } = attachFederation(runtime);
  const app = createApp(runtime, handle);
  const worker = new AbortController();
  const queueDone = config.worker
    ? Promise.all([runWorkers(worker.signal), runJobs(runtime, worker.signal)])
    : Promise.resolve();

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: "0.0.0.0" }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  log.info("Kindred listening on port {port}, public URL {origin}", { port, origin: config.origin });

  let closed = false;
  return {
    runtime,
    federation,
    port,
    async close() {
      if (closed) return;
      closed = true;
      worker.abort();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queueDone.catch(() => undefined);
      await runtime.close();
    },
  };
}
