import type { DocumentLoader } from "@fedify/fedify/runtime";
import { detachSignature, importJwk, signJsonLd } from "@fedify/fedify/sig";

// What goes on the wire must be read by software that does not do JSON-LD
// processing (Mastodon, Lemmy, snac…). Fedify's compaction can leave CURIEs
// such as "as:Public", "as:sensitive" or "as:Hashtag" where those servers look
// for the plain terms, so documents we serve are normalised here.
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
const ADDRESSING = new Set(["to", "cc", "bto", "bcc", "audience"]);
const TERMS: Record<string, string> = { "as:sensitive": "sensitive", "as:Hashtag": "Hashtag" };

export function normalizeWireJson(value: unknown, key?: string): unknown {
  if (typeof value === "string") {
    if (key !== undefined && ADDRESSING.has(key) && (value === "as:Public" || value === "Public")) return PUBLIC;
    if (key === "type" && value in TERMS) return TERMS[value];
    // A Tombstone's former type, as Mastodon and Lemmy spell it ("Page", not "as:Page"): the term is `@vocab`-typed.
    if (key === "formerType" && value.startsWith("as:")) return value.slice(3);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => normalizeWireJson(v, key));
  if (key === "attachment" && value && typeof value === "object") return [normalizeWireJson(value)];
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[TERMS[k] ?? k] = k === "@context" ? withTerms(v) : normalizeWireJson(v, k);
    return out;
  }
  return value;
}

/** The plain terms we emit must be defined in the document's context. */
function withTerms(context: unknown): unknown {
  const list = Array.isArray(context) ? [...context] : [context];
  list.push({ sensitive: "as:sensitive", Hashtag: "as:Hashtag" });
  return list;
}

/**
 * Rewrites an ActivityPub JSON response; anything else passes through. A
 * `Tombstone` served in place of an object (a deleted post, objects.ts) is
 * answered `410 Gone`, as Fedify answers for actors: NodeBB hard-deletes its
 * copy on a `Delete` only when the object's IRI says 410.
 */
export async function normalizeWireResponse(response: Response): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  if (response.status !== 200 || !/application\/(activity\+json|ld\+json)/.test(type)) return response;
  const body = normalizeWireJson(await response.json());
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  const gone = (body as { type?: unknown } | null)?.type === "Tombstone";
  return new Response(JSON.stringify(body), { status: gone ? 410 : 200, headers });
}

const SECURITY_CONTEXT = "https://w3id.org/security/v1";

/**
 * Some servers (Discourse) publish `publicKey` on actors whose `@context`
 * lacks the security vocabulary, so JSON-LD drops the key and every signature
 * from them would fail. Add the context where a `publicKey` needs it.
 */
export function withKeyContext(document: unknown): unknown {
  if (!document || typeof document !== "object" || Array.isArray(document)) return document;
  const doc = document as Record<string, unknown>;
  if (!("publicKey" in doc)) return document;
  const context = doc["@context"];
  const list = Array.isArray(context) ? context : context === undefined ? [] : [context];
  if (list.includes(SECURITY_CONTEXT)) return document;
  return { ...doc, "@context": [...list, SECURITY_CONTEXT] };
}

/** Wraps a document loader so that what it loads passes through `withKeyContext`. */
export const keyContextLoader =
  (loader: DocumentLoader): DocumentLoader =>
  async (url, options) => {
    const remote = await loader(url, options);
    return { ...remote, document: withKeyContext(remote.document) };
  };

/** The IRI of a JSON-LD reference: the string itself, or an embedded object's `id`. */
export const idOf = (v: unknown): string | null =>
  typeof v === "string"
    ? v
    : v && typeof v === "object" && typeof (v as { id?: unknown }).id === "string"
      ? (v as { id: string }).id
      : null;

/** The origin of an http(s) IRI, or null for anything else (FEP-fe34 compares these). */
export const originOf = (iri: string): string | null => {
  try {
    const url = new URL(iri);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  } catch {
    return null;
  }
};

/** `Delete` of the sending actor itself: an account erasure. */
export function isActorDelete(activity: Record<string, unknown>): boolean {
  return activity.type === "Delete" && typeof activity.actor === "string" && idOf(activity.object) === activity.actor;
}

/**
 * Signs JSON we changed after Fedify signed it: the embedded proof would no
 * longer match, so it is left out (the HTTP signature, made at delivery,
 * covers the body), and the Linked Data signature Mastodon reads is made again.
 */
export async function signedAgain(
  activity: Record<string, unknown>,
  keys: { keyId: string; privateKey: JsonWebKey }[],
): Promise<Record<string, unknown>> {
  const { proof: _proof, ...unsigned } = detachSignature(activity) as Record<string, unknown>;
  const rsa = keys.find((k) => k.privateKey.kty === "RSA");
  if (!rsa) return unsigned;
  try {
    return (await signJsonLd(unsigned, await importJwk(rsa.privateKey, "private"), new URL(rsa.keyId), {})) as Record<
      string,
      unknown
    >;
  } catch {
    return unsigned;
  }
}

/**
 * `attachment` always as a list, at any depth: Lemmy reads it into a list
 * and refuses a post whose one attachment comes as a bare object, which is
 * how JSON-LD compaction writes a single value. Null when nothing needed it.
 */
export function withAttachmentLists(activity: Record<string, unknown>): Record<string, unknown> | null {
  const listed = (node: unknown, key?: string): unknown => {
    if (Array.isArray(node)) {
      const items = node.map((item) => listed(item));
      return items.every((item, i) => item === node[i]) ? node : items;
    }
    if (!node || typeof node !== "object") return node;
    if (key === "attachment") return [listed(node)];
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === "@context" ? v : listed(v, k);
      changed ||= out[k] !== v;
    }
    return changed ? out : node;
  };
  const out = listed(activity) as Record<string, unknown>;
  return out === activity ? null : out;
}

/** Lemmy's activity types Fedify has no class for, by the kind our ids name (src/urls.ts moderationActivityIri). */
const LEMMY_TYPES: Record<string, string> = { lock: "Lock", resolve: "Resolve" };

/**
 * Gives Lemmy's type to each of our activities Fedify could only build as a
 * plain `Activity` (`Lock`, `Resolve`): at the top, or embedded in an
 * `Undo` or `Announce`. Which one is read from the id's path, and only on
 * ids of `origin` (ours). Returns null when nothing needed it.
 */
export function withLemmyTypes(activity: Record<string, unknown>, origin: string): Record<string, unknown> | null {
  const retyped = (node: unknown): unknown => {
    if (!node || typeof node !== "object" || Array.isArray(node)) return node;
    const o = node as Record<string, unknown>;
    const inner = retyped(o.object);
    const type = o.type === "Activity" && typeof o.id === "string" ? lemmyType(o.id, origin) : undefined;
    if (inner === o.object && !type) return node;
    return { ...o, ...(type ? { type } : {}), ...(inner === o.object ? {} : { object: inner }) };
  };
  const out = retyped(activity) as Record<string, unknown>;
  return out === activity ? null : out;
}

function lemmyType(id: string, origin: string): string | undefined {
  if (originOf(id) !== originOf(origin)) return undefined;
  const kind = /^\/activities\/([a-z]+)\//.exec(new URL(id).pathname)?.[1];
  return kind ? LEMMY_TYPES[kind] : undefined;
}

/**
 * The object of a community's `Announce` of a post itself (what Mastodon
 * shows as a boost), not of an activity: its IRI, or null.
 */
export function boostedObject(activity: Record<string, unknown>): string | null {
  if (activity.type !== "Announce") return null;
  const object = activity.object;
  if (typeof object === "string") return object;
  if (!object || typeof object !== "object" || "actor" in object) return null;
  return idOf(object);
}
