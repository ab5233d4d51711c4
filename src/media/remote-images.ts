// The images of received posts, as rows pointing at their own servers. Nothing
// is fetched here: the first view fetches (remote-cache.ts), so a post nobody
// opens costs no request, and a server whose media we refuse is never asked.
import type { Db } from "../../db/schema.ts";
import { newId, now } from "../ids.ts";
import { newMediaKey } from "./store.ts";

/**
 * Images kept of one received post. Mastodon sends at most 4, Misskey up to
 * 16 (it shows them all); past 8, a post is a gallery nobody here will read,
 * and every image is a row and, once viewed, a fetch.
 */
export const MAX_REMOTE_IMAGES = 8;

/** An image a received post refers to, as federation validated it (an http(s) URL, alt text as plain text). */
export interface RemoteImageRef {
  url: string;
  /** The declared type (`image/png`), or `image/*` when the sender gave none (lotide, Lemmy). */
  mediaType: string;
  alt: string;
  width: number | null;
  height: number | null;
}

/** Inside the post's insertion: a row per image, in order, nothing fetched. */
export async function storeRemoteImages(db: Db, postId: string, images: readonly RemoteImageRef[]): Promise<void> {
  await insertAt(
    db,
    postId,
    dedupe(images)
      .slice(0, MAX_REMOTE_IMAGES)
      .map((image, position) => ({ image, position })),
  );
}

/**
 * Inside an edit's transaction: the post's images become `images`. An image
 * still there (same URL) keeps its row, key and cached copy, with its new
 * alt text and place; one no longer there goes, its file queued for removal
 * as a deleted post's are; a new one gets a row, fetched on first view.
 */
export async function replaceRemoteImages(db: Db, postId: string, images: readonly RemoteImageRef[]): Promise<void> {
  const wanted = dedupe(images).slice(0, MAX_REMOTE_IMAGES);
  const current = await db
    .selectFrom("media")
    .select(["id", "remote_url", "file", "position", "alt", "width", "height"])
    .where("post_id", "=", postId)
    .where("local", "=", 0)
    .orderBy("position")
    .execute();
  const unchanged =
    current.length === wanted.length &&
    current.every((row, i) => {
      const w = wanted[i] as RemoteImageRef;
      return row.remote_url === w.url && row.alt === w.alt && row.position === i;
    });
  if (unchanged) return;
  const byUrl = new Map(current.map((row) => [row.remote_url, row]));
  const stays = new Set(wanted.map((w) => w.url));
  const gone = current.filter((row) => !row.remote_url || !stays.has(row.remote_url));
  const files = gone.flatMap((row) => (row.file ? [row.file] : []));
  if (files.length > 0)
    await db
      .insertInto("media_deletions")
      .values(files.map((file) => ({ file, created_at: now() })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  if (gone.length > 0)
    await db
      .deleteFrom("media")
      .where(
        "id",
        "in",
        gone.map((row) => row.id),
      )
      .execute();
  const added: { image: RemoteImageRef; position: number }[] = [];
  for (const [position, image] of wanted.entries()) {
    const row = byUrl.get(image.url);
    if (!row) {
      added.push({ image, position });
      continue;
    }
    await db
      .updateTable("media")
      .set({ position, alt: image.alt, width: row.width ?? image.width, height: row.height ?? image.height })
      .where("id", "=", row.id)
      .execute();
  }
  await insertAt(db, postId, added);
}

async function insertAt(db: Db, postId: string, added: { image: RemoteImageRef; position: number }[]): Promise<void> {
  if (added.length === 0) return;
  const ts = now();
  await db
    .insertInto("media")
    .values(
      added.map(({ image, position }) => ({
        id: newId(),
        key: newMediaKey(),
        post_id: postId,
        position,
        local: 0 as const,
        remote_url: image.url,
        file: null,
        media_type: image.mediaType,
        alt: image.alt,
        width: image.width,
        height: image.height,
        bytes: null,
        created_at: ts,
        fetched_at: null,
        failed_at: null,
      })),
    )
    .execute();
}

/** One row per URL: the same picture twice in an edit keeps its first place. */
function dedupe(images: readonly RemoteImageRef[]): RemoteImageRef[] {
  const seen = new Set<string>();
  return images.filter((image) => !seen.has(image.url) && seen.add(image.url));
}
