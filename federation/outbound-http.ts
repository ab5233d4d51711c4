// Time and size bounds for every HTTP request this process makes, deliveries
// included: Fedify sends with the global fetch and gives it no timeout, so a
// server that accepts a connection and never answers would hold a delivery
// slot for Node's default of five minutes. Document fetches have tighter
// bounds of their own (documents.ts); this is the floor under everything else.
//
// Unless private addresses are allowed, the addresses a host name resolves to
// are checked again when the connection is made: the check before a fetch
// (Fedify's validatePublicUrl) resolves the name once, and a name that then
// resolves elsewhere (DNS rebinding) would otherwise reach our own network.
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { isValidPublicIPv4Address, isValidPublicIPv6Address } from "@fedify/fedify/runtime";
import { Agent, buildConnector, setGlobalDispatcher } from "undici";

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

let installed = false;

/**
 * Makes the bounds the process's default. Once: a process serves one
 * instance, so the first instance's setting for private addresses holds.
 */
export function boundOutgoingRequests(options: { allowPrivateAddress: boolean }): void {
  if (installed) return;
  installed = true;
  setGlobalDispatcher(
    new Agent({
      connect: options.allowPrivateAddress
        ? { timeout: OUTBOUND_BOUNDS.connectMs }
        : publicOnlyConnector(OUTBOUND_BOUNDS.connectMs),
      headersTimeout: OUTBOUND_BOUNDS.headersMs,
      bodyTimeout: OUTBOUND_BOUNDS.bodyIdleMs,
      maxResponseSize: OUTBOUND_BOUNDS.maxResponseBytes,
    }),
  );
}
