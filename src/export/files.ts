// The archive's building blocks: keyset paging over large tables and files
// written piece by piece, so memory stays flat however large the account.

import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import type { SelectQueryBuilder } from "kysely";
import type { Database, Db } from "../../db/schema.ts";
import type { ArchiveRenderer } from "../context.ts";
import type { MediaStore } from "../media/store.ts";

export const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
/** Rows per query, and how often progress is reported. */
export const PAGE = 500;

/** What an archive is built from. */
export interface ArchiveSource {
  db: Db;
  origin: string;
  dataDir: string;
  archive: ArchiveRenderer;
  /** Where uploaded images are (by default the data folder's `media`). */
  media?: MediaStore;
}

// ---- paging ----

/** Post ids matching `filter`, oldest first, a page at a time (ids are time-ordered). */
export async function* pagedIds(
  db: Db,
  filter: (q: ReturnType<typeof postsQuery>) => ReturnType<typeof postsQuery>,
): AsyncGenerator<string> {
  let after = "";
  for (;;) {
    const rows = await filter(postsQuery(db)).where("id", ">", after).orderBy("id").limit(PAGE).execute();
    for (const r of rows) yield r.id;
    const last = rows.at(-1);
    if (rows.length < PAGE || !last) return;
    after = last.id;
  }
}
export const postsQuery = (db: Db) => db.selectFrom("posts").select("id");

/** Live direct messages `userId` sent or received. */
export function theirMessages<Q extends SelectQueryBuilder<Database, "posts", object>>(q: Q, userId: string): Q {
  return q
    .where("audience", "=", "direct")
    .where("deleted_at", "is", null)
    .where((eb) =>
      eb.or([
        eb("author_id", "=", userId),
        eb.exists(
          eb
            .selectFrom("post_recipients")
            .select("post_id")
            .whereRef("post_recipients.post_id", "=", "posts.id")
            .where("post_recipients.actor_id", "=", userId),
        ),
      ]),
    ) as Q;
}

/** Rows fetched a page at a time after the last row's id. */
export async function* keyset<R extends { id: string }>(
  fetchPage: (after: string, limit: number) => Promise<R[]>,
): AsyncGenerator<R[]> {
  let after = "";
  for (;;) {
    const rows = await fetchPage(after, PAGE);
    if (rows.length > 0) yield rows;
    const last = rows.at(-1);
    if (rows.length < PAGE || !last) return;
    after = last.id;
  }
}

// ---- writers ----

/** A file written piece by piece, waiting for the disk when its buffer is full. */
export class StreamFile {
  readonly #out: WriteStream;
  constructor(path: string) {
    this.#out = createWriteStream(path, { encoding: "utf8", mode: 0o600 });
  }
  async write(text: string): Promise<void> {
    if (!this.#out.write(text)) await once(this.#out, "drain");
  }
  async close(): Promise<void> {
    this.#out.end();
    await once(this.#out, "finish");
  }
}

export async function writeText(path: string, text: string): Promise<void> {
  const f = new StreamFile(path);
  await f.write(text);
  await f.close();
}

export const writeJson = (path: string, value: unknown) => writeText(path, `${JSON.stringify(value, null, 2)}\n`);

/** An `OrderedCollection` whose `orderedItems` are streamed in, as in Mastodon's outbox.json and likes.json. */
export function writeCollection(
  path: string,
  id: string,
  totalItems: number,
  fill: (emit: (item: unknown) => Promise<void>) => Promise<void>,
): Promise<void> {
  return writeStreamedArray(
    path,
    { "@context": AS_CONTEXT, id, type: "OrderedCollection", totalItems },
    "orderedItems",
    fill,
  );
}

/** A JSON object with one streamed array member; `head` holds the other members. */
export async function writeStreamedArray(
  path: string,
  head: Record<string, unknown>,
  key: string,
  fill: (emit: (item: unknown) => Promise<void>) => Promise<void>,
): Promise<void> {
  const f = new StreamFile(path);
  const opening = JSON.stringify(head, null, 2).replace(/\n}$/, "");
  await f.write(`${opening === "{" ? "{" : `${opening},`}\n  ${JSON.stringify(key)}: [`);
  let first = true;
  await fill(async (item) => {
    await f.write(`${first ? "\n    " : ",\n    "}${JSON.stringify(item)}`);
    first = false;
  });
  await f.write(`${first ? "" : "\n  "}]\n}\n`);
  await f.close();
}

export const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
