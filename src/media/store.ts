// Where image files live. One interface, so object storage can replace the
// folder later; names are always ours (`posts/…`, `cache/…`), never a client's.

import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export interface MediaStore {
  /** Writes a file under `name` (never overwrites one). */
  put(name: string, bytes: Uint8Array): Promise<void>;
  /** The file's bytes, or null when there is none. */
  get(name: string): Promise<Buffer | null>;
  /** Removes a file; a missing one is not an error. */
  remove(name: string): Promise<void>;
}

/** Names the store accepts: one of our folders, a random key and a known extension. */
const NAME = /^(posts|cache)\/[A-Za-z0-9_-]{16,64}\.(jpg|png)$/;

export function checkedName(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a media file name: ${JSON.stringify(name).slice(0, 80)}`);
  return name;
}

/** Files under a folder of the data directory (`DATA_DIR/media`). */
export class FileMediaStore implements MediaStore {
  readonly #root: string;
  constructor(root: string) {
    this.#root = root;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    const path = join(this.#root, checkedName(name));
    await mkdir(dirname(path), { recursive: true });
    // Written beside and renamed: a crash mid-write never leaves half an image under the real name.
    const partial = `${path}.${randomBytes(6).toString("hex")}.part`;
    await writeFile(partial, bytes, { flag: "wx", mode: 0o600 });
    await rename(partial, path);
  }

  async get(name: string): Promise<Buffer | null> {
    try {
      return await readFile(join(this.#root, checkedName(name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async remove(name: string): Promise<void> {
    await unlink(join(this.#root, checkedName(name))).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }
}

/** A fresh unguessable key (128 bits), for a file name and the image's address. */
export const newMediaKey = (): string => randomBytes(16).toString("base64url");
