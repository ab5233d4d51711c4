// Time and size bounds for every HTTP request this process makes, deliveries
// included: Fedify sends with the global fetch and gives it no timeout, so a
// server that accepts a connection and never answers would hold a delivery
// slot for Node's default of five minutes. Undici's own timeouts are idle
// timeouts (connect, headers, between two body chunks): a server that trickles
// a byte every few seconds passes all of them forever, so a total deadline per
// request is added on top. Document fetches have tighter bounds of their own
// (documents.ts); this is the floor under everything else.
//
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import type { IncomingHttpHeaders } from "node:http";
import { isIP, type LookupFunction } from "node:net";
import { isValidPublicIPv4Address, isValidPublicIPv6Address } from "@fedify/fedify/runtime";
import { Agent, buildConnector, DecoratorHandler, type Dispatcher, setGlobalDispatcher } from "undici";

export const OUTBOUND_BOUNDS = {
  /** TCP and TLS connection (OUTBOUND_CONNECT_TIMEOUT_S). */
  connectMs: 10_000,
  /** From the request sent to the response headers (never above the total). */
  headersMs: 15_000,
  /** Between two pieces of a response body (never above the total). */
  bodyIdleMs: 15_000,
  /** From the request's dispatch to the last byte of its response (OUTBOUND_TIMEOUT_S). */
  totalMs: 30_000,
  /**
   * Any response body (a delivery's error page, a WebFinger answer; documents are capped at 1 MiB before this).
   * As large as the largest remote image we cache (src/media/remote-cache.ts), as Mastodon's 16 MB.
   */
  maxResponseBytes: 16 * 1024 * 1024,
};

const isPublic = (a: LookupAddress) =>
  a.family === 6 ? isValidPublicIPv6Address(a.address) : isValidPublicIPv4Address(a.address);

/** A resolver for connections that refuses a host name with any private or reserved address. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true } as LookupAllOptions, (error, addresses) => {
    if (error) return callback(error, "", 0);
    if (addresses.length === 0 || !addresses.every(isPublic)) {
      const refused = Object.assign(new Error(`${hostname} resolves to a private address`), { code: "EPRIVATEADDR" });
      return callback(refused, "", 0);
    }
    const first = addresses[0] as LookupAddress;
    // Node asks for every address when it may try several (autoSelectFamily), for one otherwise.
    if ((options as { all?: boolean }).all) (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
    else callback(null, first.address, first.family);
  });
};

const publicAddress = (address: string) =>
  isIP(address) === 6 ? isValidPublicIPv6Address(address) : isValidPublicIPv4Address(address);

/**
 * A connector for connections that may reach public addresses only: a host
 * name through publicOnlyLookup, an address written as such (`127.0.0.1`,
 * `[::ffff:127.0.0.1]`, which no lookup sees) checked directly. It holds for
 * every hop, redirects included.
 */
export function publicOnlyConnector(timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: timeoutMs, lookup: publicOnlyLookup });
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0 && !publicAddress(host)) {
      const refused = Object.assign(new Error(`${host} is a private address`), { code: "EPRIVATEADDR" });
      return callback(refused, null);
    }
    connect(options, callback);
  };
}

/** Why a request was cut: it outlived its total deadline. */
export class OutboundDeadlineError extends Error {
  readonly code = "UND_ERR_TOTAL_DEADLINE";
  constructor(url: string, ms: number) {
    super(`${url} took longer than ${ms} ms`);
    this.name = "OutboundDeadlineError";
  }
}

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;
/**
 * Undici's DecoratorHandler (it adapts a caller's handler of either of
 * undici's two styles, as fetch's is); its published types still describe the
 * older style, hence the cast.
 */
interface Decorated {
  onRequestStart(controller: Controller, context: unknown): void;
  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void;
  onResponseError(controller: Controller, error: Error): void;
}
const Decorator = DecoratorHandler as unknown as new (handler: Handler) => Decorated;

/**
 * Aborts a request `ms` after its dispatch, wherever it is (waiting for a
 * socket, for headers, or in the middle of a body). The timer starts at
 * dispatch; the abort handle only arrives with `onRequestStart`, so a deadline
 * that passes before then aborts the request as soon as it starts.
 */
class TotalDeadline extends Decorator {
  #timer: NodeJS.Timeout;
  #controller: Controller | undefined;
  #expired: Error | undefined;

  constructor(handler: Handler, url: string, ms: number) {
    super(handler);
    this.#timer = setTimeout(() => {
      this.#expired = new OutboundDeadlineError(url, ms);
      this.#controller?.abort(this.#expired);
    }, ms);
    // A pending deadline must not keep a stopping process alive.
    this.#timer.unref();
  }

  override onRequestStart(controller: Controller, context: unknown): void {
    this.#controller = controller;
    super.onRequestStart(controller, context);
    if (this.#expired) controller.abort(this.#expired);
  }

  override onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    clearTimeout(this.#timer);
    super.onResponseEnd(controller, trailers);
  }

  override onResponseError(controller: Controller, error: Error): void {
    clearTimeout(this.#timer);
    super.onResponseError(controller, error);
  }
}

/** An undici interceptor giving every request a total deadline of `ms`. */
export function totalDeadline(ms: number): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) =>
    dispatch(options, new TotalDeadline(handler, `${options.origin ?? ""}${options.path}`, ms));
}

let installed = false;

export interface OutboundOptions {
  allowPrivateAddress: boolean;
  /** Defaults: OUTBOUND_BOUNDS. */
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
}

/**
 * Makes the bounds the process's default. Once: a process serves one
 * instance, so the first instance's settings hold.
 */
export function boundOutgoingRequests(options: OutboundOptions): void {
  if (installed) return;
  installed = true;
  const connectMs = options.connectTimeoutMs ?? OUTBOUND_BOUNDS.connectMs;
  const totalMs = options.totalTimeoutMs ?? OUTBOUND_BOUNDS.totalMs;
  const agent = new Agent({
    connect: options.allowPrivateAddress ? { timeout: connectMs } : publicOnlyConnector(connectMs),
    headersTimeout: Math.min(OUTBOUND_BOUNDS.headersMs, totalMs),
    bodyTimeout: Math.min(OUTBOUND_BOUNDS.bodyIdleMs, totalMs),
    maxResponseSize: OUTBOUND_BOUNDS.maxResponseBytes,
  });
  setGlobalDispatcher(agent.compose(totalDeadline(totalMs)));
}
