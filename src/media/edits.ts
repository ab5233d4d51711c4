// Editing a post's images: its author rewrites descriptions, removes images
// and adds new ones; the ones kept stay in their order, new ones go after.
import type { Db } from "../../db/schema.ts";
import { invalid } from "../errors.ts";
import { now } from "../ids.ts";
import { attachImages, MAX_ALT_LENGTH, MAX_IMAGES_PER_POST, type StoredImage } from "./service.ts";

export interface ImageEdit {
  /** New descriptions of the post's images, by key. */
  alts: Record<string, string>;
  /** Keys of the post's images to remove. */
  remove: string[];
  /** New images, already stored (storeUploads). */
  added: StoredImage[];
}

/** Checks an edit against the post's images (before its transaction): described, and four at most. */
export async function checkImageEdit(db: Db, postId: string, edit: ImageEdit): Promise<void> {
  const current = await db
    .selectFrom("media")
    .select("key")
    .where("post_id", "=", postId)
    .where("local", "=", 1)
    .execute();
  const kept = current.filter((m) => !edit.remove.includes(m.key));
  for (const m of kept) {
    const alt = edit.alts[m.key];
    if (alt === undefined) continue;
    const field = `alt-${m.key}`;
    if (!alt.trim())
      throw invalid(`${field}: describe the image for people who can't see it`, { [field]: "is required" });
    if (alt.trim().length > MAX_ALT_LENGTH)
      throw invalid(`${field}: must be at most ${MAX_ALT_LENGTH} characters`, {
        [field]: `must be at most ${MAX_ALT_LENGTH} characters`,
      });
  }
  if (kept.length + edit.added.length > MAX_IMAGES_PER_POST)
    throw invalid(`images: at most ${MAX_IMAGES_PER_POST} to a post (remove one to add another)`, {
      images: `at most ${MAX_IMAGES_PER_POST}`,
    });
}

/** Inside the edit's transaction: descriptions, removals (files queued for the sweep), then the new images. */
export async function applyImageEdit(trx: Db, postId: string, edit: ImageEdit): Promise<void> {
  // Takes the post's row lock first: two edits of one post run one after the other, so the count below
  // sees the other's images (on PostgreSQL; SQLite has one writer anyway).
  await trx
    .updateTable("posts")
    .set((eb) => ({ updated_at: eb.ref("updated_at") }))
    .where("id", "=", postId)
    .execute();
  for (const [key, alt] of Object.entries(edit.alts)) {
    if (edit.remove.includes(key) || !alt.trim()) continue;
    await trx
      .updateTable("media")
      .set({ alt: alt.trim() })
      .where("post_id", "=", postId)
      .where("key", "=", key)
      .where("local", "=", 1)
      .execute();
  }
  if (edit.remove.length > 0) {
    const gone = await trx
      .selectFrom("media")
      .select("file")
      .where("post_id", "=", postId)
      .where("key", "in", edit.remove)
      .where("file", "is not", null)
      .execute();
    if (gone.length > 0)
      await trx
        .insertInto("media_deletions")
        .values(gone.map((g) => ({ file: g.file as string, created_at: now() })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    await trx.deleteFrom("media").where("post_id", "=", postId).where("key", "in", edit.remove).execute();
  }
  await attachImages(trx, postId, edit.added);
  const count = await trx
    .selectFrom("media")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("post_id", "=", postId)
    .executeTakeFirstOrThrow();
  if (Number(count.n) > MAX_IMAGES_PER_POST)
    throw invalid(`images: at most ${MAX_IMAGES_PER_POST} to a post (remove one to add another)`, {
      images: `at most ${MAX_IMAGES_PER_POST}`,
    });
}
