// Table types of images in posts (issue 12). Part of db/schema.ts.
import type { Bool, Iso } from "./scalars.ts";

/** An image of a post: uploaded here (`local`), or of a received post (cached on first view). */
export interface MediaTable {
  id: string;
  /** Random, unguessable: the image's address is its only key (as Mastodon's media URLs). */
  key: string;
  post_id: string;
  position: number;
  local: Bool;
  /** The image on its own server (received posts only). */
  remote_url: string | null;
  /** Its name in the media store: always for an upload, once fetched for a remote image. */
  file: string | null;
  media_type: string;
  /** Alternative text: required for uploads, as sent (or empty) for received images. */
  alt: string;
  width: number | null;
  height: number | null;
  bytes: number | null;
  created_at: Iso;
  /** Remote images: when our copy was made (the cache is pruned by age). */
  fetched_at: Iso | null;
  /** Remote images: the last failed fetch (not retried for a while). */
  failed_at: Iso | null;
}

/** A stored file to remove: its post was deleted inside a transaction that cannot touch the store. */
export interface MediaDeletionsTable {
  file: string;
  created_at: Iso;
}
