import { mkdir, unlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { invalid } from "../errors.ts";
import { newId } from "../ids.ts";
import { processImage } from "./images.ts";

export const AVATAR_MAX_BYTES = 512 * 1024;

const kinds: { ext: string; type: string; magic: (b: Uint8Array) => boolean }[] = [
  { ext: "png", type: "image/png", magic: (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 },
  { ext: "jpg", type: "image/jpeg", magic: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { ext: "gif", type: "image/gif", magic: (b) => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 },
  {
    ext: "webp",
    type: "image/webp",
    magic: (b) =>
      b[0] === 0x52 &&
      b[1] === 0x49 &&
      b[2] === 0x46 &&
      b[3] === 0x46 &&
      b[8] === 0x57 &&
      b[9] === 0x45 &&
      b[10] === 0x42 &&
      b[11] === 0x50,
  },
];

/** Avatars are shown at 24 to 96 px: 400 is plenty for a sharp picture on any screen. */
const AVATAR_SIDE = 400;

export const avatarDir = (dataDir: string) => join(dataDir, "media", "avatars");

/**
 * Stores an uploaded avatar after checking its real type by its first bytes,
 * re-encoded as every image we keep is (EXIF and GPS gone, bounded in size);
 * a PNG stays a PNG. Returns the file name.
 */
export async function saveAvatar(dataDir: string, file: File): Promise<string> {
  if (file.size > AVATAR_MAX_BYTES)
    throw invalid("avatar: must be at most 512 KiB", { avatar: "must be at most 512 KiB" });
  const bytes = new Uint8Array(await file.arrayBuffer());
  const kind = kinds.find((k) => k.magic(bytes));
  if (!kind)
    throw invalid("avatar: must be a PNG, JPEG, GIF or WebP image", {
      avatar: "must be a PNG, JPEG, GIF or WebP image",
    });
  const image = await processImage(
    bytes,
    { maxBytes: AVATAR_MAX_BYTES, maxSide: AVATAR_SIDE, keepPng: kind.ext === "png" },
    "avatar",
  );
  const name = `${newId()}.${image.ext}`;
  await mkdir(avatarDir(dataDir), { recursive: true });
  await writeFile(join(avatarDir(dataDir), name), image.bytes, { flag: "wx" });
  return name;
}

export async function removeAvatar(dataDir: string, url: string | null): Promise<void> {
  if (!url) return;
  await unlink(join(avatarDir(dataDir), basename(new URL(url).pathname))).catch(() => undefined);
}

export const avatarType = (name: string) => kinds.find((k) => name.endsWith(`.${k.ext}`))?.type;
