// What a process entry point (server, worker, CLI) plugs into its runtime, so
// that src/ reaches federation only through the ports of src/context.ts.
import type { AppContext } from "../src/context.ts";
import { archiveRenderer } from "./archive.ts";
import { backfill } from "./backfill.ts";
import { buildFederation } from "./builder.ts";
import { boundOutgoingRequests } from "./outbound-http.ts";
import { fedifyQueuedDeliveries } from "./queued-deliveries.ts";

/**
 * Bounds outgoing requests, builds the federation and sets `remote` (with the
 * backfill of remote communities and threads), `archive` and `queuedDeliveries` on `runtime`.
 */
export function attachFederation(runtime: AppContext): ReturnType<typeof buildFederation> {
  boundOutgoingRequests({
    allowPrivateAddress: runtime.config.allowPrivateAddress,
    connectTimeoutMs: runtime.config.outboundConnectTimeoutMs,
    totalTimeoutMs: runtime.config.outboundTimeoutMs,
  });
  const built = buildFederation(runtime);
  runtime.remote = { ...built.remote, ...backfill(built.federation, runtime) };
  runtime.archive = archiveRenderer(built.federation, runtime);
  runtime.queuedDeliveries = fedifyQueuedDeliveries;
  return built;
}
