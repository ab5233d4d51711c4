// Time and size bounds for every HTTP request this process makes, deliveries included:
// Fedify sends with the global fetch and gives it no timeout, so a server that
// accepts a connection and never answers would hold a delivery slot for Node's
// default of five minutes. Document fetches have tighter bounds of their own
// (documents.ts); this is the floor under everything else.
import { Agent, setGlobalDispatcher } from "undici";

export const OUTBOUND_BOUNDS = {
  /** TCP and TLS connection. */
  connectMs: 10_000,
  /** From the request sent to the response headers. */
  headersMs: 15_000,
  /** Between two pieces of a response body. */
  bodyIdleMs: 15_000,
  /** Any response body (a delivery's error page, a WebFinger answer); documents are capped at 1 MiB before this. */
  maxResponseBytes: 8 * 1024 * 1024,
};

let installed = false;

/** Makes the bounds the process's default (once; a process serves one instance). */
export function boundOutgoingRequests(): void {
  if (installed) return;
  installed = true;
  setGlobalDispatcher(
    new Agent({
      connect: { timeout: OUTBOUND_BOUNDS.connectMs },
      headersTimeout: OUTBOUND_BOUNDS.headersMs,
      bodyTimeout: OUTBOUND_BOUNDS.bodyIdleMs,
      maxResponseSize: OUTBOUND_BOUNDS.maxResponseBytes,
    }),
  );
}
