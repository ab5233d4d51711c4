import { Hono } from "hono";
import { notFound } from "../errors.ts";
import { clientIp } from "../web/client-ip.ts";
import type { WebContext, WebEnv } from "../web/env.ts";
import { consume, RateLimitedError } from "../web/rate-limit.ts";
import { sessionUser } from "../web/session.ts";
import { type ImageRow, imageAccess, imageRow } from "./access.ts";
import { remoteImage } from "./remote-cache.ts";

/** Images: uploads (`/media/{key}.jpg`) and our copies of other servers' images (`/media/remote/{key}`). */
export const mediaRoutes = new Hono<WebEnv>();

const TYPES: Record<string, string> = { jpg: "image/jpeg", png: "image/png" };

// An image is only ever an image: no sniffing, no scripts even if opened on its own.
const IMAGE_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy": "default-src 'none'; sandbox",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** The image's row, if the reader may see it, and how it may be cached. */
async function readable(c: WebContext, key: string): Promise<{ row: ImageRow; cache: "public" | "private" }> {
  const app = c.get("app");
  const row = await imageRow(app.db, key);
  if (!row) throw notFound("image");
  const access = await imageAccess(app.db, row, async () => (await sessionUser(c))?.actorId);
  if (!access) throw notFound("image");
  return { row, cache: access };
}

mediaRoutes.get("/media/:name{[A-Za-z0-9_-]{16,64}\\.(jpg|png)}", async (c) => {
  const app = c.get("app");
  const name = c.req.param("name");
  const { row, cache } = await readable(c, name.slice(0, name.lastIndexOf(".")));
  // The row goes with its post at once; the file waits for the sweep, and is not served meanwhile.
  const bytes = row.local === 1 && row.file === `posts/${name}` ? await app.media.get(row.file) : null;
  if (!bytes) throw notFound("image");
  const type = TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream";
  // The address changes whenever the image does: cached for good (by the reader only, for a post not addressed
  // to the public).
  return c.body(new Uint8Array(bytes), 200, {
    ...IMAGE_HEADERS,
    "Content-Type": type,
    "Cache-Control": `${cache}, max-age=31536000, immutable`,
  });
});

/** Remote images a visitor may make us fetch, per client address: pages show a few each, a scraper many. */
const REMOTE_FETCHES_PER_MINUTE = 120;

mediaRoutes.get("/media/remote/:key{[A-Za-z0-9_-]{16,64}}", async (c) => {
  const app = c.get("app");
  const { row, cache } = await readable(c, c.req.param("key"));
  if (!row.file) {
    // Only a fetch costs us anything: counted per address (TRUST_PROXY decides what the address is).
    try {
      await consume(app.db, `media-fetch:${clientIp(c)}`, REMOTE_FETCHES_PER_MINUTE, 60_000);
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      return c.text(error.message, 429, { "Retry-After": String(error.retryAfterSeconds) });
    }
  }
  const image = await remoteImage(app, row);
  if (image.status === "ok")
    return c.body(new Uint8Array(image.bytes), 200, {
      ...IMAGE_HEADERS,
      "Content-Type": image.mediaType,
      // Not immutable: the cache is pruned, and a policy change may withhold it.
      "Cache-Control": `${cache}, max-age=86400`,
    });
  if (image.status === "busy")
    return c.text("Too many images are being fetched; try again in a moment.", 503, { "Retry-After": "5" });
  if (image.status === "withheld")
    return c.text("Images from this server are not shown here (the instance's media policy).", 403);
  if (image.status === "failed") return c.text("This image could not be fetched from its server.", 404);
  throw notFound("image");
});
