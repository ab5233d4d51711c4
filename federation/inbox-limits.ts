// Inbound limits (issue 13): how many activities one server, and one remote
// actor, may deliver in a window. Over it, the inbox answers 429 with
// Retry-After: every fediverse server retries later, so nothing is lost (never
// a silent drop, never a 5xx).
//
// Only deliveries the inbox accepted (its signature verified, answered 202)
// are counted, and what is counted is the key's server and the key: a forged
// request naming someone else's key is refused with 401 and costs them
// nothing, so nobody can use up another server's allowance. The check before
// the inbox reads only the Signature header: it costs no lookup.
// The counts live in this process (a multi-node deployment gets one allowance per
// process, which still bounds a flood); fixed windows, swept as they end.

export interface InboxLimits {
  /** Activities one server may deliver per window. */
  perServer: number;
  /** Activities one remote actor (one key) may deliver per window. */
  perActor: number;
  windowMs: number;
}

export const DEFAULT_INBOX_LIMITS: InboxLimits = { perServer: 3000, perActor: 300, windowMs: 5 * 60_000 };

/** Keys tracked at once, at most: beyond it the oldest window's counts are dropped first. */
const MAX_KEYS = 200_000;

export class InboxLimiter {
  readonly #limits: InboxLimits;
  #window = 0;
  #counts = new Map<string, number>();

  constructor(limits: InboxLimits = DEFAULT_INBOX_LIMITS) {
    this.#limits = limits;
  }

  #roll(now: number): number {
    const window = Math.floor(now / this.#limits.windowMs);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts = new Map();
    }
    return (window + 1) * this.#limits.windowMs;
  }

  /** Seconds to wait before this key's server or actor may deliver again, or 0. */
  wait(keyId: string, now = Date.now()): number {
    const ends = this.#roll(now);
    const host = hostOfKey(keyId);
    if (host === null) return 0;
    const full =
      (this.#counts.get(`s ${host}`) ?? 0) >= this.#limits.perServer ||
      (this.#counts.get(`a ${keyId}`) ?? 0) >= this.#limits.perActor;
    return full ? Math.max(1, Math.ceil((ends - now) / 1000)) : 0;
  }

  /** Counts one accepted delivery signed with `keyId`. */
  count(keyId: string, now = Date.now()): void {
    this.#roll(now);
    const host = hostOfKey(keyId);
    if (host === null) return;
    // Full (a flood of made-up accounts): the accounts' counts go, the servers' stay.
    if (this.#counts.size >= MAX_KEYS)
      for (const key of this.#counts.keys()) if (key.startsWith("a ")) this.#counts.delete(key);
    for (const key of [`s ${host}`, `a ${keyId}`]) this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }
}

function hostOfKey(keyId: string): string | null {
  try {
    return new URL(keyId).host.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * The key a delivery is signed with: draft-cavage `Signature: keyId="…",…` or RFC 9421
 * `Signature-Input: label=(…);keyid="…"`. Parameters are read as such (`xkeyId=` is not `keyId=`), and a
 * header naming more than one key is "ambiguous": the verifier might check another key than the one we would
 * charge, so such a delivery is refused instead.
 */
export function claimedKeyId(headers: Headers): string | null | "ambiguous" {
  const ids: string[] = [];
  const cavage = headers.get("signature");
  if (cavage) ids.push(...paramValues(cavage, "keyid"));
  const rfc = headers.get("signature-input");
  if (rfc) ids.push(...paramValues(rfc, "keyid"));
  if (ids.length === 0) return null;
  return new Set(ids).size === 1 ? (ids[0] as string) : "ambiguous";
}

/** Values of parameter `name` (case-insensitive) in a header of `name="value"` pairs separated by `,` or `;`. */
function paramValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const m of header.matchAll(/(?:^|[,;\s])([A-Za-z][\w-]*)="([^"]{0,2048})"/g))
    if (m[1]?.toLowerCase() === name) values.push(m[2] ?? "");
  return values;
}

/** Whether a request is a delivery to one of our inboxes. */
export const isInboxPost = (request: Request) =>
  request.method === "POST" && /\/inbox$/.test(new URL(request.url).pathname);

/**
 * Wraps the inbox: a delivery whose server or actor has used up its window
 * gets 429 with Retry-After; an accepted one (202) is counted.
 */
export async function limitInbox(
  limiter: InboxLimiter,
  request: Request,
  handle: (request: Request) => Promise<Response>,
): Promise<Response> {
  if (!isInboxPost(request)) return handle(request);
  const claimed = claimedKeyId(request.headers);
  if (claimed === "ambiguous")
    return new Response("One signature, naming one key, per delivery.", {
      status: 400,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  const keyId = claimed;
  if (keyId) {
    const wait = limiter.wait(keyId);
    if (wait > 0)
      return new Response("Too many activities from your server or account: retry later.", {
        status: 429,
        headers: { "Retry-After": String(wait), "Content-Type": "text/plain; charset=utf-8" },
      });
  }
  const response = await handle(request);
  if (keyId && response.status === 202) limiter.count(keyId);
  return response;
}
