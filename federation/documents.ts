// Fetching documents from other servers, bounded: a connect-and-answer
// timeout and a total one, a size cap read as the bytes arrive, a limit on
// redirects with the private-address check on every hop, and the JSON limits
// of json-limits.ts, so nothing that fails them is ever cached or processed.
// JSON-LD contexts are never fetched: only the ones we ship are known, and an
// unknown context defines nothing (its terms are then ignored).
import { readFileSync } from "node:fs";
import type { DocumentLoader, RemoteDocument } from "@fedify/fedify/runtime";
import { createActivityPubRequest, FetchError, preloadedContexts, validatePublicUrl } from "@fedify/fedify/runtime";
import { ambiguousTerms } from "./json-ld-guard.ts";
import { checkJsonLimits, JsonLimitError, parseBoundedJson } from "./json-limits.ts";
import { originOf } from "./wire.ts";

export interface FetchBounds {
  /** Until the response headers arrive. */
  answerMs: number;
  /** For the whole fetch, redirects and body included. */
  totalMs: number;
  /** Bytes of one document. */
  maxBytes: number;
  maxRedirects: number;
}

export const FETCH_BOUNDS: FetchBounds = { answerMs: 10_000, totalMs: 20_000, maxBytes: 1024 * 1024, maxRedirects: 5 };

/** A fetch that was refused or gave up, with a reason safe to log (no body). */
export class BoundedFetchError extends Error {
  override name = "BoundedFetchError";
}

const JSON_TYPES = /^application\/(activity\+json|ld\+json|json)\s*(;|$)/i;
const HTML_TYPES = /^(text\/html|application\/xhtml\+xml)\s*(;|$)/i;

/** Reads at most `maxBytes` of a response body, refusing more (whatever Content-Length claims). */
export async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BoundedFetchError(`the document is larger than ${maxBytes} bytes`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BoundedFetchError(`the document is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The ActivityPub alternate of an HTML page (`<link rel="alternate" type="application/activity+json">`). */
function alternateLink(html: string, base: string): string | null {
  for (const tag of html.slice(0, 256 * 1024).matchAll(/<link\s[^>]*>/gi)) {
    const attr = (name: string) => new RegExp(`\\b${name}\\s*=\\s*["']([^"']*)["']`, "i").exec(tag[0])?.[1];
    const type = attr("type") ?? "";
    if (attr("rel")?.toLowerCase() === "alternate" && /^application\/(activity\+json|ld\+json)/i.test(type)) {
      const href = attr("href");
      if (href) return new URL(href, base).href;
    }
  }
  return null;
}

/**
 * A document loader for remote documents, bounded as described above. The
 * private-address check runs on every hop unless `allowPrivateAddress` (tests
 * and development only).
 */
export function boundedDocumentLoader(
  options: {
    allowPrivateAddress: boolean;
    userAgent?: string;
    /** Signs each request (authorized fetch, as the instance actor). */
    sign?: (request: Request) => Promise<Request>;
  },
  bounds: FetchBounds = FETCH_BOUNDS,
): DocumentLoader {
  return async (url, loadOptions) => {
    const preloaded = (preloadedContexts as Record<string, unknown>)[url];
    if (preloaded !== undefined) return { contextUrl: null, document: preloaded, documentUrl: url };
    const signal = AbortSignal.any([
      AbortSignal.timeout(bounds.totalMs),
      ...(loadOptions?.signal ? [loadOptions.signal] : []),
    ]);
    let current = new URL(url).href;
    const visited = new Set<string>();
    for (let hop = 0; ; hop++) {
      if (visited.has(current)) throw new BoundedFetchError(`redirect loop at ${current}`);
      visited.add(current);
      if (!options.allowPrivateAddress) await validatePublicUrl(current);
      const unsigned = createActivityPubRequest(current, { userAgent: options.userAgent });
      const request = options.sign ? await options.sign(unsigned) : unsigned;
      const answered = AbortSignal.any([signal, AbortSignal.timeout(bounds.answerMs)]);
      const response = await fetch(request, { redirect: "manual", signal: answered }).catch((error: unknown) => {
        const why = signal.aborted || answered.aborted ? "no answer in time" : String(error);
        throw new BoundedFetchError(`fetching ${current} failed: ${why}`);
      });
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel().catch(() => undefined);
        if (hop >= bounds.maxRedirects) throw new BoundedFetchError(`more than ${bounds.maxRedirects} redirects`);
        current = new URL(location, current).href;
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        // Fedify's own error, whose status tells a key that is gone (410) from a server that is down.
        throw new FetchError(
          current,
          `HTTP ${response.status}: ${current}`,
          new Response(null, { status: response.status }),
        );
      }
      const type = response.headers.get("content-type") ?? "application/json";
      const text = await readCapped(response, bounds.maxBytes).catch((error: unknown) => {
        if (error instanceof BoundedFetchError) throw error;
        throw new BoundedFetchError(`reading ${current} failed: ${signal.aborted ? "too slow" : String(error)}`);
      });
      if (HTML_TYPES.test(type)) {
        const alternate = alternateLink(text, current);
        if (!alternate || hop >= bounds.maxRedirects) throw new BoundedFetchError(`${current} is not a JSON document`);
        current = alternate;
        continue;
      }
      if (!JSON_TYPES.test(type)) throw new BoundedFetchError(`${current} answered ${type.split(";")[0]}, not JSON`);
      const document = parseDocument(text, current);
      return { contextUrl: null, document, documentUrl: current } satisfies RemoteDocument;
    }
  };
}

function parseDocument(text: string, url: string): unknown {
  let document: unknown;
  try {
    document = parseBoundedJson(text);
  } catch (error) {
    throw new BoundedFetchError(`${url}: ${error instanceof JsonLimitError ? error.message : "not valid JSON"}`);
  }
  const ambiguous = ambiguousTerms(document);
  if (ambiguous) throw new BoundedFetchError(`${url}: ${ambiguous}`);
  return document;
}

// ---- key owners ----

const KEY_OWNER_FIELDS = ["owner", "controller"] as const;

/** A key object without the owner fields that `belongs` does not accept. */
function withOwnersBound(key: unknown, belongs: (owner: string) => boolean): unknown {
  if (!key || typeof key !== "object" || Array.isArray(key)) return key;
  const bound: Record<string, unknown> = { ...(key as Record<string, unknown>) };
  for (const field of KEY_OWNER_FIELDS) {
    const owner = bound[field];
    if (owner === undefined) continue;
    const id = typeof owner === "string" ? owner : (owner as { id?: unknown } | null)?.id;
    if (typeof id !== "string" || !belongs(id)) delete bound[field];
  }
  return bound;
}

/**
 * Fedify takes a key's `owner` (or a Multikey's `controller`) at its word when
 * it decides whose signature it checked, and a key document says whatever its
 * server wants. So a key keeps its owner only if the owner lives where the key
 * does (FEP-fe34): a key standing alone, on its own document's origin; a key
 * inside an actor's document, only that actor. Without an owner, Fedify asks
 * the actor's own document whether it lists the key.
 */
export function bindKeyOwners(document: unknown, documentUrl: string): unknown {
  if (!document || typeof document !== "object" || Array.isArray(document)) return document;
  const doc = document as Record<string, unknown>;
  const origin = originOf(documentUrl);
  const self = typeof doc.id === "string" && originOf(doc.id) === origin ? doc.id : null;
  let bound: Record<string, unknown> = { ...doc };
  if (KEY_OWNER_FIELDS.some((f) => f in doc))
    bound = withOwnersBound(bound, (owner) => originOf(owner) === origin) as Record<string, unknown>;
  for (const field of ["publicKey", "assertionMethod"]) {
    const value = bound[field];
    if (value === undefined) continue;
    const keys = (Array.isArray(value) ? value : [value]).map((k) => withOwnersBound(k, (owner) => owner === self));
    bound[field] = Array.isArray(value) ? keys : keys[0];
  }
  return bound;
}

/** Wraps a loader so that every key it returns has its owners bound (see `bindKeyOwners`). */
export const keyOwnersBound =
  (loader: DocumentLoader): DocumentLoader =>
  async (url, options) => {
    const remote = await loader(url, options);
    return { ...remote, document: bindKeyOwners(remote.document, remote.documentUrl) };
  };

// ---- contexts ----

/** A context we ship, read and checked once, on first use. */
function shipped(file: string): () => unknown {
  let document: unknown;
  return () => {
    if (document === undefined) {
      const read: unknown = JSON.parse(readFileSync(new URL(`./contexts/${file}`, import.meta.url), "utf8"));
      checkJsonLimits(read);
      document = read;
    }
    return document;
  };
}

/** Contexts served by every instance of a software at its own address, by the path they are served at. */
const SHIPPED_BY_PATH: [RegExp, () => unknown][] = [
  [/\/schemas\/litepub-0\.1\.jsonld$/, shipped("litepub-0.1.json")],
  [/^https:\/\/[^/]+\/contexts$/, shipped("mbin.json")],
];

const EMPTY_CONTEXT = { "@context": {} };

/**
 * The context loader: Fedify's preloaded contexts, the ones we ship (Pleroma's
 * and Akkoma's LitePub, Mbin's), and an empty context for anything else. A
 * `@context` URL in a document is never fetched, so a body cannot make us
 * wait on, download or cache anything.
 */
export const shippedContextLoader: DocumentLoader = async (url) => {
  const known = (preloadedContexts as Record<string, unknown>)[url];
  if (known !== undefined) return { contextUrl: null, document: known, documentUrl: url };
  for (const [pattern, load] of SHIPPED_BY_PATH) {
    if (pattern.test(url)) return { contextUrl: null, document: load(), documentUrl: url };
  }
  return { contextUrl: null, document: EMPTY_CONTEXT, documentUrl: url };
};
