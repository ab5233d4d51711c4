// Other servers' images, served from our copy: a reader's browser never asks
// a third party for anything (the privacy rule). The first view fetches the
// image once, bounded in time, size and number at once, re-encodes it as
// uploads are, and keeps it until the cache is pruned.
import type { AppContext } from "../context.ts";
import { now } from "../ids.ts";
import { logger } from "../logging.ts";
import { hostOf } from "../urls.ts";
import type { ImageRow } from "./access.ts";
import { processImage } from "./images.ts";
import { withholds } from "./service.ts";

const log = logger("media", "cache");

export const REMOTE_FETCH = {
  /** From the request to the last byte. */
  timeoutMs: 30_000,
  /** Largest remote file read (before re-encoding). */
  maxBytes: 16 * 1024 * 1024,
  /** Fetches at once, for the whole process; more wait their turn. */
  concurrent: 4,
  /** Of which at most this many from one server: a slow one can't hold them all. */
  perHost: 2,
  /** Requests waiting beyond that are answered "try again later". */
  maxWaiting: 200,
  /** A failed image is not tried again before this. */
  retryAfterMs: 3_600_000,
};

export type RemoteImage =
  | { status: "ok"; bytes: Buffer; mediaType: string }
  | { status: "withheld" | "missing" | "failed" | "busy" };

/**
 * Our copy of the remote image in `row` (src/media/access.ts decided the reader may see it), fetched now if we
 * have none.
 */
export async function remoteImage(ctx: AppContext, row: ImageRow): Promise<RemoteImage> {
  if (!row.remote_url || row.local === 1) return { status: "missing" };
  const rejects = (host: string) => ctx.policy.check(host).rejectMedia || ctx.policy.isSuspended(host);
  if (withholds(rejects, row.remote_url, row.host)) return { status: "withheld" };
  if (row.file) {
    const bytes = await ctx.media.get(row.file);
    if (bytes) return { status: "ok", bytes, mediaType: row.media_type };
  }
  if (row.failed_at && Date.now() - Date.parse(row.failed_at) < REMOTE_FETCH.retryAfterMs) return { status: "failed" };
  let pending = inFlight.get(row.id);
  if (!pending) {
    if (waiting >= REMOTE_FETCH.maxWaiting) return { status: "busy" };
    const url = row.remote_url;
    pending = fetchAndStore(ctx, { id: row.id, key: row.key, url }).finally(() => inFlight.delete(row.id));
    inFlight.set(row.id, pending);
  }
  return pending;
}

const inFlight = new Map<string, Promise<RemoteImage>>();
let running = 0;
let waiting = 0;
const queue: (() => void)[] = [];
/** Fetches running or waiting per host: one slow server holds at most `perHost` of the process's slots. */
const perHost = new Map<string, number>();
const hostQueues = new Map<string, (() => void)[]>();

async function slot<T>(host: string, task: () => Promise<T>): Promise<T> {
  waiting++;
  try {
    // First a place among this host's fetches, then one of the process's slots.
    if ((perHost.get(host) ?? 0) >= REMOTE_FETCH.perHost)
      await new Promise<void>((resolve) => hostQueues.set(host, [...(hostQueues.get(host) ?? []), resolve]));
    perHost.set(host, (perHost.get(host) ?? 0) + 1);
    if (running >= REMOTE_FETCH.concurrent) await new Promise<void>((resolve) => queue.push(resolve));
  } finally {
    waiting--;
  }
  running++;
  try {
    return await task();
  } finally {
    running--;
    queue.shift()?.();
    const left = (perHost.get(host) ?? 1) - 1;
    if (left === 0) perHost.delete(host);
    else perHost.set(host, left);
    const next = hostQueues.get(host)?.shift();
    if (hostQueues.get(host)?.length === 0) hostQueues.delete(host);
    next?.();
  }
}

async function fetchAndStore(ctx: AppContext, media: { id: string; key: string; url: string }): Promise<RemoteImage> {
  return slot(hostOf(media.url), async () => {
    try {
      const bytes = await download(media.url, hostOf(ctx.config.origin));
      const image = await processImage(bytes, { maxBytes: REMOTE_FETCH.maxBytes, maxSide: 2048 });
      const file = `cache/${media.key}.${image.ext}`;
      await ctx.media.put(file, image.bytes);
      await ctx.db
        .updateTable("media")
        .set({
          file,
          media_type: image.mediaType,
          width: image.width,
          height: image.height,
          bytes: image.bytes.byteLength,
          fetched_at: now(),
          failed_at: null,
        })
        .where("id", "=", media.id)
        .execute();
      return { status: "ok", bytes: image.bytes, mediaType: image.mediaType };
    } catch (error) {
      log.debug("image from {host} not cached: {error}", { host: hostOf(media.url), error: String(error) });
      await ctx.db.updateTable("media").set({ failed_at: now() }).where("id", "=", media.id).execute();
      return { status: "failed" };
    }
  });
}

/**
 * The file, read within the time and size bounds. Private addresses are
 * refused by the process's outbound connector (federation/outbound-http.ts);
 * redirects are followed here, a few at most and never to our own host (an
 * image of ours is no remote image: two such could wait for each other).
 */
async function download(url: string, ownHost: string): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(REMOTE_FETCH.timeoutMs);
  let target = url;
  let res: Response | undefined;
  for (let hop = 0; hop <= 3; hop++) {
    if (hostOf(target) === ownHost) throw new Error("points at this server");
    res = await fetch(target, { signal, headers: { Accept: "image/*" }, redirect: "manual" });
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (!location) break;
    await res.body?.cancel().catch(() => undefined);
    target = new URL(location, target).href;
    if (!/^https?:$/.test(new URL(target).protocol)) throw new Error("redirected off the web");
    res = undefined;
  }
  if (!res) throw new Error("too many redirects");
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > REMOTE_FETCH.maxBytes) throw new Error(`declared ${declared} bytes`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > REMOTE_FETCH.maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new Error("larger than the limit");
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
