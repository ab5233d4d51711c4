import { Hono } from "hono";
import { notFound } from "../errors.ts";
import type { WebEnv } from "../web/env.ts";
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

mediaRoutes.get("/media/:name{[A-Za-z0-9_-]{16,64}\\.(jpg|png)}", async (c) => {
  const app = c.get("app");
  const name = c.req.param("name");
  const bytes = await app.media.get(`posts/${name}`);
  if (!bytes) throw notFound("image");
  const type = TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream";
  // The address changes whenever the image does: cached for good.
  return c.body(new Uint8Array(bytes), 200, {
    ...IMAGE_HEADERS,
    "Content-Type": type,
    "Cache-Control": "public, max-age=31536000, immutable",
  });
});

mediaRoutes.get("/media/remote/:key{[A-Za-z0-9_-]{16,64}}", async (c) => {
  const image = await remoteImage(c.get("app"), c.req.param("key"));
  if (image.status === "ok")
    return c.body(new Uint8Array(image.bytes), 200, {
      ...IMAGE_HEADERS,
      "Content-Type": image.mediaType,
      // Not immutable: the cache is pruned, and a policy change may withhold it.
      "Cache-Control": "public, max-age=86400",
    });
  if (image.status === "busy")
    return c.text("Too many images are being fetched; try again in a moment.", 503, { "Retry-After": "5" });
  if (image.status === "withheld")
    return c.text("Images from this server are not shown here (the instance's media policy).", 403);
  if (image.status === "failed") return c.text("This image could not be fetched from its server.", 404);
  throw notFound("image");
});
