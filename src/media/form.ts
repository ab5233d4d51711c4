// The image fields of every form that posts (a thread, a reply, a message, an
// edit): files `image1`…`imageN`, each with its description `alt1`…`altN`;
// on the edit form, `alt-{key}` and `remove-{key}` for the images it has.
import type { Config } from "../config.ts";
import { invalid } from "../errors.ts";
import type { ImageLimits } from "./images.ts";
import { discardImages, type ImageUpload, MAX_IMAGES_PER_POST, type StoredImage, storeUploads } from "./service.ts";
import type { MediaStore } from "./store.ts";

/** A parsed form body: strings and files (what Hono's parseBody returns). */
type FormBody = Record<string, string | File | (string | File)[]>;

/** The size limits of an upload on this instance (MEDIA_MAX_MB). */
export const imageLimits = (config: Pick<Config, "mediaMaxBytes">): ImageLimits => ({
  maxBytes: config.mediaMaxBytes,
  maxSide: 2048,
});

/** Room for the text fields and multipart framing beside the images. */
const FORM_TEXT_BYTES = 1024 * 1024;

/** The largest body a form with images may send: four images of the largest size and the text. */
export const imageFormMaxBytes = (config: Pick<Config, "mediaMaxBytes">) =>
  MAX_IMAGES_PER_POST * config.mediaMaxBytes + FORM_TEXT_BYTES;

/** The routes whose forms carry images: only their multipart bodies get the larger limit. */
const IMAGE_FORMS = [/^\/@[^/]+\/submit$/, /^\/posts\/[^/]+\/(replies|edit)$/, /^\/messages\/[^/]+$/];

export const takesImages = (method: string, path: string, contentType: string | undefined): boolean =>
  method === "POST" && /^multipart\/form-data/i.test(contentType ?? "") && IMAGE_FORMS.some((r) => r.test(path));

const IMAGE_FIELD = /^image([1-9][0-9]?)$/;

/**
 * The images a form attaches, in the order of their fields, with their bytes.
 * An empty file input (nothing chosen) is no image; a description without a
 * file is ignored. Alternative text and the files themselves are checked by
 * storeUploads.
 */
export async function readUploads(body: FormBody): Promise<ImageUpload[]> {
  const found: { n: number; file: File }[] = [];
  for (const [name, value] of Object.entries(body)) {
    const n = IMAGE_FIELD.exec(name)?.[1];
    const file = Array.isArray(value) ? value.at(-1) : value;
    if (n && file instanceof File && file.size > 0) found.push({ n: Number(n), file });
  }
  if (found.length > MAX_IMAGES_PER_POST)
    throw invalid(`images: at most ${MAX_IMAGES_PER_POST} to a post`, { images: `at most ${MAX_IMAGES_PER_POST}` });
  found.sort((a, b) => a.n - b.n);
  return Promise.all(
    found.map(async ({ n, file }) => ({
      bytes: new Uint8Array(await file.arrayBuffer()),
      alt: stringField(body[`alt${n}`]),
      field: `image${n}`,
      altField: `alt${n}`,
    })),
  );
}

/** What the edit form says of the images a post already has. */
export interface ExistingImageChanges {
  /** New descriptions, by image key. */
  alts: Record<string, string>;
  /** Keys of images to remove. */
  remove: string[];
}

const KEY = "[A-Za-z0-9_-]{16,64}";
const ALT_OF = new RegExp(`^alt-(${KEY})$`);
const REMOVE = new RegExp(`^remove-(${KEY})$`);

export function existingImageChanges(body: FormBody): ExistingImageChanges {
  const alts: Record<string, string> = {};
  const remove: string[] = [];
  for (const [name, value] of Object.entries(body)) {
    const alt = ALT_OF.exec(name)?.[1];
    if (alt) alts[alt] = stringField(value);
    const removed = REMOVE.exec(name)?.[1];
    if (removed && stringField(value) === "1") remove.push(removed);
  }
  return { alts, remove };
}

const stringField = (value: FormBody[string] | undefined): string => {
  const v = Array.isArray(value) ? value.at(-1) : value;
  return typeof v === "string" ? v : "";
};

/**
 * Stores the uploads, then runs what creates the post with them; if that
 * fails (a refused post, a failed transaction) the files go again.
 */
export async function withStoredImages<T>(
  media: MediaStore,
  uploads: ImageUpload[],
  limits: ImageLimits,
  run: (stored: StoredImage[]) => Promise<T>,
): Promise<T> {
  const stored = await storeUploads(media, uploads, limits);
  try {
    return await run(stored);
  } catch (error) {
    await discardImages(media, stored);
    throw error;
  }
}
