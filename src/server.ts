import type { Federation } from "@fedify/fedify";
import { attachFederation } from "../federation/attach.ts";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { startRoles } from "./roles.ts";
import { openRuntime, type Runtime } from "./runtime.ts";

export interface RunningInstance {
  runtime: Runtime;
  federation: Federation<AppContext>;
  /** The port actually bound (useful with PORT=0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it), serves HTTP and, unless WORKER=false,
 * runs the queues' workers and background jobs (see src/roles.ts).
 */
export async function startInstance(config: Config): Promise<RunningInstance> {
  const runtime = await openRuntime(config);
  const federated = attachFederation(runtime);
  const roles = await startRoles(runtime, federated, { web: true, worker: config.worker }).catch(async (error) => {
    await runtime.close().catch(() => undefined);
    throw error;
  });
  let closing: Promise<void> | undefined;
  return {
    runtime,
    federation: federated.federation,
    port: roles.port ?? config.port,
    close() {
      closing ??= roles.close().finally(() => runtime.close());
      return closing;
    },
  };
}
