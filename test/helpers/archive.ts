// Reading export archives (.tar.gz) the way a member's tools would: list the
// entries, unpack them with the `tar` package into a scratch folder, and keep
// the raw (gunzipped) tar bytes for "this must appear nowhere" checks.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { extract, list } from "tar";

export interface ArchiveEntry {
  path: string;
  type: string;
  size: number;
  mode: number | undefined;
}

export interface UnpackedArchive {
  /** The folder the archive was unpacked into. */
  dir: string;
  /** Entries in archive order. */
  entries: ArchiveEntry[];
  /** The uncompressed tar stream: every byte of every file and header. */
  tarBytes: Buffer;
  /** A file's bytes. */
  bytes(name: string): Buffer;
  /** A file as UTF-8 text. */
  text(name: string): string;
  /** A file parsed as JSON. */
  json(name: string): unknown;
}

/** Unpacks a .tar.gz (given as bytes or a path) into a new temp folder under `parent` (default: the OS temp dir). */
export async function unpackArchive(archive: Uint8Array | string, parent = tmpdir()): Promise<UnpackedArchive> {
  const dir = mkdtempSync(join(parent, "kindred-archive-"));
  let file: string;
  if (typeof archive === "string") file = archive;
  else {
    file = join(dir, "..", `${dir.split("/").at(-1)}.tar.gz`);
    writeFileSync(file, archive);
  }
  const entries: ArchiveEntry[] = [];
  await list({ file, onReadEntry: (e) => entries.push({ path: e.path, type: e.type, size: e.size, mode: e.mode }) });
  await extract({ file, cwd: dir, strict: true });
  const tarBytes = gunzipSync(readFileSync(file));
  const bytes = (name: string) => readFileSync(join(dir, name));
  const text = (name: string) => bytes(name).toString("utf8");
  return { dir, entries, tarBytes, bytes, text, json: (name) => JSON.parse(text(name)) as unknown };
}

/** A CSV file's lines (without the final newline's empty line). */
export const csvLines = (text: string) => (text === "" ? [] : text.replace(/\n$/, "").split("\n"));
