import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { exportsDir } from "../export/service.ts";
import { removeAvatar } from "../media/avatars.ts";
import type { ErasureResult } from "./service.ts";

/** After the erasure commits: the avatar and any export archives go from the disk. */
export async function removeErasedFiles(dataDir: string, files: ErasureResult["files"]): Promise<void> {
  await removeAvatar(dataDir, files.avatarUrl);
  for (const name of files.exportFiles) await unlink(join(exportsDir(dataDir), name)).catch(() => undefined);
}
