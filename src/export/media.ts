// The member's uploaded images in their archive, as Mastodon's archive keeps
// them under media_attachments/files/, with a listing (media_attachments.json)
// tying each file to its post, its address and its description.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { FileMediaStore } from "../media/store.ts";
import { type ArchiveSource, keyset, writeStreamedArray } from "./files.ts";

export const MEDIA_FOLDER = "media_attachments";
export const MEDIA_LISTING = "media_attachments.json";

/**
 * Copies the images of the member's live posts and messages, and lists them;
 * returns the archive entries it wrote (none when they have no images).
 */
export async function writeMedia(src: ArchiveSource, userId: string, dir: string): Promise<string[]> {
  const store = src.media ?? new FileMediaStore(join(src.dataDir, "media"));
  const folder = join(dir, MEDIA_FOLDER, "files");
  const page = (after: string, limit: number) =>
    src.db
      .selectFrom("media")
      .innerJoin("posts", "posts.id", "media.post_id")
      .select([
        "media.id",
        "media.file",
        "media.media_type",
        "media.alt",
        "media.width",
        "media.height",
        "media.position",
        "posts.iri as postIri",
      ])
      .where("posts.author_id", "=", userId)
      .where("posts.deleted_at", "is", null)
      .where("media.local", "=", 1)
      .where("media.file", "is not", null)
      .where("media.id", ">", after)
      .orderBy("media.id")
      .limit(limit)
      .execute();
  // Each file is an entry of its own: the archive holds plain files only, no folder entries.
  const entries: string[] = [];
  await writeStreamedArray(join(dir, MEDIA_LISTING), { server: src.origin }, "orderedItems", async (emit) => {
    for await (const rows of keyset(page)) {
      for (const m of rows) {
        const bytes = await store.get(m.file as string);
        // A file the sweep took between the query and now: its post was just deleted.
        if (!bytes) continue;
        if (entries.length === 0) await mkdir(folder, { recursive: true, mode: 0o700 });
        const entry = `${MEDIA_FOLDER}/files/${basename(m.file as string)}`;
        await writeFile(join(dir, entry), bytes, { mode: 0o600 });
        entries.push(entry);
        await emit({
          file: entry,
          url: `${src.origin}/media/${basename(m.file as string)}`,
          post: m.postIri,
          position: m.position,
          mediaType: m.media_type,
          name: m.alt,
          width: m.width,
          height: m.height,
        });
      }
    }
  });
  if (entries.length === 0) {
    await rm(join(dir, MEDIA_LISTING), { force: true });
    return [];
  }
  return [MEDIA_LISTING, ...entries];
}
