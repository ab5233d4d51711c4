// Images of posts on the wire: the `attachment`s we send with our posts, and
// the ones we keep of received posts.
import { type Object as ApObject, Image, Link } from "@fedify/fedify/vocab";
import { htmlToText } from "../src/content/markdown.ts";
import { MAX_REMOTE_IMAGES, type RemoteImageRef } from "../src/media/remote-images.ts";
import { imagePath, MAX_ALT_LENGTH } from "../src/media/service.ts";

/** A post's image as postForFederation reads it. */
export interface PostImage {
  key: string;
  local: number;
  file: string | null;
  mediaType: string;
  alt: string;
  width: number | null;
  height: number | null;
}

/**
 * Our images as `Image` attachments, the shape Lemmy reads (`type`, `url`,
 * `name` as alt text) and Mastodon too (it reads any type with a `url`, the
 * alt text from `name`, the type from `mediaType`, the size from
 * `width`/`height`); Misskey and lotide read `url` and `name`.
 */
export function imageAttachments(origin: string, images: readonly PostImage[]): Image[] {
  return images.map(
    (image) =>
      new Image({
        mediaType: image.mediaType,
        url: new URL(`${origin}${imagePath(image)}`),
        name: image.alt || null,
        width: image.width,
        height: image.height,
      }),
  );
}

/**
 * The images a received post refers to: `Image` attachments (Lemmy, lotide,
 * often with no `mediaType`), or any other attachment declared as `image/*`
 * (Mastodon's and Misskey's `Document`). Links (a Lemmy link post), videos,
 * attachments given only by IRI (never fetched for this) and anything not
 * served over http(s) are left out; at most MAX_REMOTE_IMAGES are kept.
 */
export async function remoteImages(o: ApObject): Promise<RemoteImageRef[]> {
  const images: RemoteImageRef[] = [];
  const seen = new Set<string>();
  // Embedded attachments only: one named by a bare IRI is skipped rather than fetched.
  const attachments = o.getAttachments({
    documentLoader: refuseFetch,
    contextLoader: refuseFetch,
    suppressError: true,
  });
  let looked = 0;
  for await (const attachment of attachments) {
    // A post with thousands of attachments is read no further than a real one ever needs.
    if (++looked > MAX_REMOTE_IMAGES * 4 || images.length >= MAX_REMOTE_IMAGES) break;
    if (attachment instanceof Link || !("url" in attachment)) continue;
    const ref = imageOf(attachment as ApObject);
    if (ref && !seen.has(ref.url)) {
      seen.add(ref.url);
      images.push(ref);
    }
  }
  return images;
}

function imageOf(a: ApObject): RemoteImageRef | null {
  const link = a.url instanceof Link ? a.url : null;
  const target = a.url instanceof URL ? a.url : (link?.href ?? null);
  // Only http(s): a `javascript:` or `data:` URL never reaches a page, nor our fetcher.
  if (!target || (target.protocol !== "https:" && target.protocol !== "http:")) return null;
  const url = target.href;
  if (url.length > 2048) return null;
  const declared = (a.mediaType ?? link?.mediaType ?? "").trim().toLowerCase();
  const isImage = /^image\/[a-z0-9.+-]+$/.test(declared);
  // An `Image` may leave its type out (lotide, Lemmy); any other attachment must say it is an image.
  if (!isImage && !(a instanceof Image && declared === "")) return null;
  const described = a.name ?? a.summary;
  return {
    url,
    mediaType: isImage ? declared : "image/*",
    alt: described ? htmlToText(String(described)).trim().slice(0, MAX_ALT_LENGTH) : "",
    width: dimension((a as { width?: unknown }).width),
    height: dimension((a as { height?: unknown }).height),
  };
}

/** A declared size, as a layout hint only (the fetched file's own size replaces it). */
const dimension = (v: unknown): number | null =>
  typeof v === "number" && Number.isInteger(v) && v > 0 && v <= 100_000 ? v : null;

const refuseFetch = (url: string): Promise<never> =>
  Promise.reject(new Error(`attachments are not fetched (${new URL(url).host})`));
