// The inbox's door, in front of Fedify: nothing unauthenticated is expensive,
// and a key speaks only for the actor whose own document lists it (FEP-fe34).
//
// Before any JSON-LD processing, a delivery must be JSON within our limits,
// name an actor of another server whose id is on that actor's origin, and
// carry an HTTP signature that verifies with a key on the actor's origin
// that the actor's document (fetched from there) lists. Fedify's own check
// only compares the key's `owner` with the activity's actor, which any
// server can claim in a key document it serves itself.
//
// A delivery signed by someone else (Mastodon forwarding a reply, a relay)
// goes on only if its Linked Data signature or integrity proof names a key
// the actor lists; Fedify then verifies that signature. A `Delete` of an
// actor whose key is gone goes on unverified, as Fedify's unverified-activity
// handler decides (inbox/delete.ts).
import { type KeyCache, verifyRequestDetailed } from "@fedify/fedify";
import type { DocumentLoader } from "@fedify/fedify/runtime";
import { ambiguousTerms } from "./json-ld-guard.ts";
import { JsonLimitError, parseBoundedJson } from "./json-limits.ts";
import { idOf, isActorDelete, originOf } from "./wire.ts";

const INBOX_PATH = /^\/(@[^/]+\/)?inbox$/;
/** A real `Delete` of an actor is well under 2 KB; an unverifiable one is handled only when this small. */
const UNVERIFIED_DELETE_MAX = 16 * 1024;

export interface InboxGateOptions {
  /** Our own origin: activities of our actors never come from outside. */
  origin: string;
  documentLoader: DocumentLoader;
  contextLoader: DocumentLoader;
  /** Parsed, imported keys (see GateKeyCache). */
  keyCache?: KeyCache;
}

type CachedKey = Awaited<ReturnType<KeyCache["get"]>>;

/**
 * Remote keys as parsed and imported objects, for a few minutes: reading one
 * from the document cache meant a JSON-LD expansion of the actor document and
 * an RSA import per request. A signature that fails with a cached key is
 * checked again with a freshly fetched one (Fedify does so), so a rotated key
 * is picked up at once; `refused` (the domain policy) is asked on every read.
 */
export class GateKeyCache implements KeyCache {
  readonly #keys = new Map<string, { key: CachedKey; until: number }>();
  readonly #ttlMs: number;
  readonly #refused: (keyId: string) => boolean;

  constructor(options: { ttlMs?: number; refused: (keyId: string) => boolean }) {
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    this.#refused = options.refused;
  }

  get(keyId: URL): Promise<CachedKey> {
    const entry = this.#keys.get(keyId.href);
    if (!entry || entry.until < Date.now() || this.#refused(keyId.href)) return Promise.resolve(undefined);
    return Promise.resolve(entry.key);
  }

  set(keyId: URL, key: CachedKey): Promise<void> {
    // A key that could not be fetched is asked for again next time, never remembered as missing.
    if (key == null) this.#keys.delete(keyId.href);
    else {
      if (this.#keys.size >= 50_000) this.#keys.delete(this.#keys.keys().next().value as string);
      this.#keys.set(keyId.href, { key, until: Date.now() + this.#ttlMs });
    }
    return Promise.resolve();
  }
}

const refuse = (status: 400 | 401, error: string) => Response.json({ error }, { status });

/** The ids of the keys an actor document lists (`publicKey`, `assertionMethod`), objects or bare ids alike. */
export function listedKeyIds(actor: Record<string, unknown>): Set<string> {
  const ids = new Set<string>();
  for (const field of [actor.publicKey, actor.assertionMethod]) {
    for (const entry of Array.isArray(field) ? field : [field]) {
      const id = idOf(entry);
      if (id) ids.add(id);
    }
  }
  return ids;
}

/** Whether `actorIri`'s own document, from its own origin, lists `keyId` (which must be on that origin too). */
async function actorListsKey(actorIri: string, keyId: string, loader: DocumentLoader): Promise<boolean> {
  const origin = originOf(actorIri);
  if (!origin || originOf(keyId) !== origin) return false;
  const fetched = await loader(actorIri).catch(() => null);
  const doc = fetched?.document;
  if (!fetched || !doc || typeof doc !== "object" || Array.isArray(doc)) return false;
  const actor = doc as Record<string, unknown>;
  if (originOf(fetched.documentUrl) !== origin || actor.id !== actorIri) return false;
  return listedKeyIds(actor).has(keyId);
}

/** The key behind a Linked Data signature or an integrity proof in the body, if any. */
function embeddedKeyId(activity: Record<string, unknown>): string | null {
  const signature = activity.signature as { creator?: unknown } | undefined;
  if (signature && typeof signature.creator === "string") return signature.creator;
  const proofs = Array.isArray(activity.proof) ? activity.proof : [activity.proof];
  for (const proof of proofs) {
    const method = (proof as { verificationMethod?: unknown } | undefined)?.verificationMethod;
    if (typeof method === "string") return method;
  }
  return null;
}

/**
 * Checks an inbox delivery. Returns the response that refuses it, or the
 * request to hand to Fedify (its body already read, so rebuilt). Anything
 * that is not an inbox POST passes through untouched.
 */
export async function gateInbox(request: Request, options: InboxGateOptions): Promise<Request | Response> {
  if (request.method !== "POST" || !INBOX_PATH.test(new URL(request.url).pathname)) return request;
  const body = await request.text();
  let parsed: unknown;
  try {
    parsed = parseBoundedJson(body);
  } catch (error) {
    return refuse(400, error instanceof JsonLimitError ? error.message : "the body is not valid JSON");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return refuse(400, "the body is not an activity");
  const activity = parsed as Record<string, unknown>;
  // What we check below in plain JSON must be what Fedify will read in JSON-LD.
  const ambiguous = ambiguousTerms(activity);
  if (ambiguous) return refuse(400, ambiguous);
  const actorIri = idOf(activity.actor);
  const actorOrigin = actorIri ? originOf(actorIri) : null;
  if (!actorIri || !actorOrigin || typeof activity.type !== "string")
    return refuse(400, "an activity needs a type and an http(s) actor");
  if (actorOrigin === new URL(options.origin).origin)
    return refuse(401, "activities of this server's actors are never accepted from elsewhere");
  if (activity.id !== undefined && (typeof activity.id !== "string" || originOf(activity.id) !== actorOrigin))
    return refuse(400, "the activity's id is not on its actor's server");
  if (!request.headers.has("signature") && !request.headers.has("signature-input"))
    return refuse(401, "deliveries must carry an HTTP signature");

  const rebuilt = () => new Request(request.url, { method: "POST", headers: request.headers, body });
  const verification = await verifyRequestDetailed(rebuilt(), {
    documentLoader: options.documentLoader,
    contextLoader: options.contextLoader,
    keyCache: options.keyCache,
  }).catch(() => null);
  if (!verification) return refuse(401, "the signature could not be checked");
  if (!verification.verified) {
    // An erased account's key answers 410: Fedify hands that Delete to our unverified-activity handler,
    // which purges the actor only once its own server says it is gone. Nothing in the body may vouch for
    // it instead (a signature or proof by a key someone else controls), and it stays small: it is unverified.
    if (isActorDelete(activity) && verification.reason.type === "keyFetchError") {
      if (body.length > UNVERIFIED_DELETE_MAX) return refuse(401, "the signature does not verify (keyFetchError)");
      const { signature: _signature, proof: _proof, ...bare } = activity;
      return new Request(request.url, { method: "POST", headers: request.headers, body: JSON.stringify(bare) });
    }
    return refuse(401, `the signature does not verify (${verification.reason.type})`);
  }
  const keyId = verification.key.id?.href;
  if (keyId && (await actorListsKey(actorIri, keyId, options.documentLoader))) return rebuilt();
  // Signed by someone else: only a signature or proof by the actor itself can vouch for the body.
  const embedded = embeddedKeyId(activity);
  if (embedded && (await actorListsKey(actorIri, embedded, options.documentLoader))) return rebuilt();
  return refuse(401, `the request is signed with ${keyId ?? "a key"}, which ${actorIri} does not list as its own`);
}
