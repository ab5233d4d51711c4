// The like counts remote posts publish (issue 12), read from objects already
// fetched: an embedded `likes` collection's `totalItems` (Mastodon, Pleroma,
// Kindred) costs nothing; a `likes` given only as a URL (Smithereen) costs a
// request, made only from a backfill's budget. Lemmy, NodeBB and Misskey
// objects carry no count. A count is believed only in the post's own document and
// only for a collection of the post's own origin.
import type { DocumentLoader } from "@fedify/fedify";
import { Collection } from "@fedify/fedify/vocab";
import type { AppContext } from "../src/context.ts";
import { recordRemoteLikes } from "../src/posts/like-counts.ts";
import type { PostObject } from "./remote.ts";

/** A loader that fetches nothing: what it is asked for was not in the document. */
const nothingFetched: DocumentLoader = () => Promise.reject(new Error("not embedded"));

/**
 * Stores the count `object` embeds (the object as its origin served it);
 * returns the `likes` URL to fetch when the count is not embedded, else null.
 */
export async function takeEmbeddedLikes(data: AppContext, object: PostObject): Promise<URL | null> {
  const iri = object.id;
  if (!iri) return null;
  // An embedded collection of another origin is not returned but looked up, which this loader refuses;
  // nor is a context fetched for one that brings its own `@context` (it is then read as a URL, in budget).
  const refused = { documentLoader: nothingFetched, contextLoader: nothingFetched, crossOrigin: "throw" } as const;
  const likes = await object.getLikes(refused).catch(() => null);
  if (likes instanceof Collection && likes.totalItems !== null) {
    await recordRemoteLikes(data.db, iri.href, likes.totalItems);
    return null;
  }
  // Only a collection of the post's own origin may be fetched for its count.
  return likes === null && object.likesId?.origin === iri.origin ? object.likesId : null;
}

/** Reads a `likes` collection given by URL through `loader` (a backfill's budget) and stores its count. */
export async function fetchLikes(data: AppContext, object: PostObject, loader: DocumentLoader): Promise<void> {
  if (!object.id || object.likesId?.origin !== object.id.origin) return;
  const likes = await object.getLikes({ documentLoader: loader, crossOrigin: "throw" });
  if (likes instanceof Collection && likes.totalItems !== null && likes.id?.origin === object.id.origin)
    await recordRemoteLikes(data.db, object.id.href, likes.totalItems);
}
