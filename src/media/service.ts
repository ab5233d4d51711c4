// Images of posts: uploads stored with their alternative text, the images a
// page shows, and what deleting a post or ageing the cache removes.
import type { SelectQueryBuilder } from "kysely";
import type { Database, Db } from "../../db/schema.ts";
import { invalid } from "../errors.ts";
import { newId, now } from "../ids.ts";
import { hostOf } from "../urls.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageLimits, processImage } from "./images.ts";
import { type MediaStore, newMediaKey } from "./store.ts";

/** As Mastodon: four images to a post, alternative text up to 1,500 characters. */
export const MAX_IMAGES_PER_POST = 4;
export const MAX_ALT_LENGTH = 1500;

export interface ImageUpload {
  bytes: Uint8Array;
  alt: string;
  /** Form fields named in errors (the file's and its description's). */
  field: string;
  altField: string;
}

export interface StoredImage {
  key: string;
  file: string;
  mediaType: string;
  width: number;
  height: number;
  bytes: number;
  alt: string;
}

/** Checks every upload (alternative text required), re-encodes them and stores the files; all or none. */
export async function storeUploads(
  store: MediaStore,
  uploads: ImageUpload[],
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<StoredImage[]> {
  if (uploads.length > MAX_IMAGES_PER_POST)
    throw invalid(`images: at most ${MAX_IMAGES_PER_POST} to a post`, { images: `at most ${MAX_IMAGES_PER_POST}` });
  for (const u of uploads) {
    const alt = u.alt.trim();
    if (!alt)
      throw invalid(`${u.altField}: describe the image for people who can't see it`, {
        [u.altField]: "describe the image for people who can't see it",
      });
    if (alt.length > MAX_ALT_LENGTH)
      throw invalid(`${u.altField}: must be at most ${MAX_ALT_LENGTH} characters`, {
        [u.altField]: `must be at most ${MAX_ALT_LENGTH} characters`,
      });
  }
  const stored: StoredImage[] = [];
  try {
    for (const u of uploads) {
      const image = await processImage(u.bytes, limits, u.field);
      const key = newMediaKey();
      const file = `posts/${key}.${image.ext}`;
      await store.put(file, image.bytes);
      stored.push({
        key,
        file,
        mediaType: image.mediaType,
        width: image.width,
        height: image.height,
        bytes: image.bytes.byteLength,
        alt: u.alt.trim(),
      });
    }
    return stored;
  } catch (error) {
    await discardImages(store, stored);
    throw error;
  }
}

/** Files stored for a post whose transaction then failed. */
export async function discardImages(store: MediaStore, stored: StoredImage[]): Promise<void> {
  await Promise.all(stored.map((s) => store.remove(s.file).catch(() => undefined)));
}

/** Rows for stored uploads, after the post's existing images. */
export async function attachImages(db: Db, postId: string, stored: StoredImage[]): Promise<void> {
  if (stored.length === 0) return;
  const last = await db
    .selectFrom("media")
    .select((eb) => eb.fn.max("position").as("position"))
    .where("post_id", "=", postId)
    .executeTakeFirst();
  const start = last?.position === null || last?.position === undefined ? 0 : Number(last.position) + 1;
  const ts = now();
  await db
    .insertInto("media")
    .values(
      stored.map((s, i) => ({
        id: newId(),
        key: s.key,
        post_id: postId,
        position: start + i,
        local: 1 as const,
        remote_url: null,
        file: s.file,
        media_type: s.mediaType,
        alt: s.alt,
        width: s.width,
        height: s.height,
        bytes: s.bytes,
        created_at: ts,
        fetched_at: null,
        failed_at: null,
      })),
    )
    .execute();
}

/** An image as a page shows it. */
export interface ShownImage {
  key: string;
  /** Our address for it: the upload, or our cached copy of a remote image. */
  src: string;
  alt: string;
  width: number | null;
  height: number | null;
  /** A remote image from a server whose media we refuse (`reject_media`): its text only, no image. */
  withheld: boolean;
  /** Where a withheld image lives, for a link the reader may follow themselves. */
  remoteUrl: string | null;
}

/**
 * Whether a remote image is withheld: `reject_media` of its author's server
 * (as Mastodon applies it) or of the server holding the file (a CDN).
 */
export const withholds = (rejectsMedia: (host: string) => boolean, url: string | null, authorHost: string) =>
  !url || rejectsMedia(authorHost) || rejectsMedia(hostOf(url));

/** The path of an image on our server (prefix it with the origin for ActivityPub). */
export const imagePath = (m: { key: string; local: number; file: string | null }): string =>
  m.local === 1 && m.file ? `/media/${m.file.slice(m.file.indexOf("/") + 1)}` : `/media/remote/${m.key}`;

/** The images of the given posts, in order; `rejectsMedia` is the domain policy's `reject_media`. */
export async function imagesOfPosts(
  db: Db,
  postIds: readonly string[],
  rejectsMedia: (host: string) => boolean,
): Promise<Map<string, ShownImage[]>> {
  const byPost = new Map<string, ShownImage[]>();
  if (postIds.length === 0) return byPost;
  const rows = await db
    .selectFrom("media")
    .innerJoin("posts", "posts.id", "media.post_id")
    .innerJoin("actors", "actors.id", "posts.author_id")
    .select([
      "media.post_id",
      "media.key",
      "media.local",
      "media.file",
      "media.remote_url",
      "media.alt",
      "media.width",
      "media.height",
      "actors.host as authorHost",
    ])
    .where("media.post_id", "in", [...new Set(postIds)])
    .orderBy("media.post_id")
    .orderBy("media.position")
    .execute();
  for (const m of rows) {
    const withheld = m.local === 0 && withholds(rejectsMedia, m.remote_url, m.authorHost);
    const list = byPost.get(m.post_id) ?? [];
    list.push({
      key: m.key,
      src: imagePath(m),
      alt: m.alt,
      width: m.width,
      height: m.height,
      withheld,
      remoteUrl: m.local === 0 ? m.remote_url : null,
    });
    byPost.set(m.post_id, list);
  }
  return byPost;
}

/**
 * Inside a post's deletion: its images' rows go, their files are queued for
 * the background loop to remove (a transaction can't undo a removed file).
 */
export async function forgetImagesOf(db: Db, posts: PostIds): Promise<void> {
  const files = await db
    .selectFrom("media")
    .select("file")
    .where("post_id", "in", posts)
    .where("file", "is not", null)
    .execute();
  const ts = now();
  for (let i = 0; i < files.length; i += 500)
    await db
      .insertInto("media_deletions")
      .values(files.slice(i, i + 500).map((f) => ({ file: f.file as string, created_at: ts })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  await db.deleteFrom("media").where("post_id", "in", posts).execute();
}

/** Post ids, or a query selecting them (as tombstonePosts takes). */
type PostIds = readonly string[] | SelectQueryBuilder<Database, "posts", { id: string }>;

/** Removes queued files from the store; returns how many went. */
export async function sweepMediaDeletions(db: Db, store: MediaStore, limit = 500): Promise<number> {
  const due = await db.selectFrom("media_deletions").select("file").orderBy("created_at").limit(limit).execute();
  for (const d of due) {
    await store.remove(d.file);
    await db.deleteFrom("media_deletions").where("file", "=", d.file).execute();
  }
  return due.length;
}

/** Drops cached copies of remote images fetched before `before`; they are fetched again if viewed. */
export async function pruneRemoteCache(db: Db, store: MediaStore, before: string, limit = 1000): Promise<number> {
  const old = await db
    .selectFrom("media")
    .select(["id", "file"])
    .where("local", "=", 0)
    .where("file", "is not", null)
    .where("fetched_at", "<", before)
    .limit(limit)
    .execute();
  for (const m of old) {
    await db.updateTable("media").set({ file: null, fetched_at: null, bytes: null }).where("id", "=", m.id).execute();
    await store.remove(m.file as string);
  }
  return old.length;
}
