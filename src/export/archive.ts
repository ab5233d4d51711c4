// A member's archive (GDPR Art. 15 and 20): Mastodon's archive layout, which
// existing tools read, plus what Art. 15 asks for and Mastodon leaves out.
// Every file is written row by row from keyset-paged queries into a scratch
// folder, then packed and gzipped as a stream: memory stays flat however
// large the account.

import { chmod, copyFile, mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { create as createTar } from "tar";
import type { Db } from "../../db/schema.ts";
import { readmeHtml } from "../../views/pages/archive-readme.ts";
import { avatarDir } from "../media/avatars.ts";
import { hostOf } from "../urls.ts";
import {
  type ArchiveSource,
  keyset,
  PAGE,
  pagedIds,
  theirMessages,
  writeCollection,
  writeJson,
  writeText,
} from "./files.ts";
import { writeMedia } from "./media.ts";
import { account, communities, moderation, writeDeliveries, writeDirectMessages, writeFollowing } from "./sections.ts";

/** Scratch folders (and their packed `.partial`) beside an archive being built: `.archive-<name>-XXXXXX`. */
export const SCRATCH_PREFIX = ".archive-";

/** The archive (for an export job: the export's id) a scratch entry was made for, if it says. */
export function scratchOwner(entry: string): string | undefined {
  if (!entry.startsWith(SCRATCH_PREFIX)) return undefined;
  const name = entry.replace(/\.partial$/, "").slice(SCRATCH_PREFIX.length);
  return /^(.+)-[^-]{6}$/.exec(name)?.[1];
}

/** Called as items are written: `done` of `total`. */
export type Progress = (done: number, total: number) => Promise<void> | void;

/** Counts of what the archive holds, for README.html and the export page. */
export type ArchiveCounts = Record<"posts" | "messages" | "likes" | "following" | "communities" | "deliveries", number>;

/** Writes `userId`'s archive to `outFile` (a .tar.gz); returns its size in bytes. */
export async function writeArchive(
  src: ArchiveSource,
  userId: string,
  outFile: string,
  onProgress: Progress = () => {},
): Promise<number> {
  const user = await src.db
    .selectFrom("actors")
    .innerJoin("users", "users.actor_id", "actors.id")
    .select([
      "actors.id",
      "actors.username",
      "actors.username_key",
      "actors.iri",
      "actors.name",
      "actors.avatar_url",
      "actors.created_at",
      "users.email",
      "users.role",
      "users.is_clinician",
      "users.bio_source",
    ])
    .where("actors.id", "=", userId)
    .executeTakeFirstOrThrow();
  await mkdir(dirname(outFile), { recursive: true });
  // Named after the archive, so a worker starting after a crash can tell whose it was (recovery.ts).
  const dir = await mkdtemp(join(dirname(outFile), `${SCRATCH_PREFIX}${basename(outFile, ".tar.gz")}-`));
  try {
    const totals = await countItems(src.db, userId);
    const total = totals.posts + totals.messages + totals.likes + totals.deliveries;
    let done = 0;
    // Reported each time the count crosses a multiple of PAGE (items come one by one or a page at a time).
    const tick = async (n = 1) => {
      const before = done;
      done += n;
      if (Math.floor(done / PAGE) > Math.floor(before / PAGE) || done === total) await onProgress(done, total);
    };
    await onProgress(0, total);

    const files: string[] = [];
    const avatarFile = user.avatar_url ? `avatar${extname(user.avatar_url)}` : null;
    if (avatarFile && user.avatar_url) {
      const copied = await copyFile(
        join(avatarDir(src.dataDir), basename(new URL(user.avatar_url).pathname)),
        join(dir, avatarFile),
      )
        .then(() => chmod(join(dir, avatarFile), 0o600))
        .then(
          () => true,
          () => false,
        );
      if (copied) files.push(avatarFile);
    }
    await writeJson(
      join(dir, "actor.json"),
      await src.archive.actor(user.username_key, avatarFile && files.includes(avatarFile) ? avatarFile : null),
    );
    files.push("actor.json");

    await writeCollection(join(dir, "outbox.json"), "outbox.json", totals.posts, async (emit) => {
      for await (const id of pagedIds(src.db, (q) =>
        q.where("author_id", "=", userId).where("deleted_at", "is", null).where("audience", "!=", "direct"),
      )) {
        const item = await src.archive.createActivity(id);
        if (item) await emit(item);
        await tick();
      }
    });
    await writeCollection(join(dir, "likes.json"), "likes.json", totals.likes, async (emit) => {
      const likes = (after: string, limit: number) =>
        src.db
          .selectFrom("likes")
          .innerJoin("posts", "posts.id", "likes.post_id")
          .select(["likes.id", "posts.iri"])
          .where("likes.actor_id", "=", userId)
          .where("likes.id", ">", after)
          .orderBy("likes.id")
          .limit(limit)
          .execute();
      for await (const rows of keyset(likes)) {
        for (const r of rows) await emit(r.iri);
        await tick(rows.length);
      }
    });
    await writeDirectMessages(src, userId, join(dir, "direct_messages.json"), tick);
    await writeFollowing(src.db, userId, dir);
    await writeJson(join(dir, "communities.json"), await communities(src.db, userId));
    await writeJson(join(dir, "account.json"), await account(src.db, user, src.origin));
    await writeJson(join(dir, "moderation.json"), await moderation(src.db, userId));
    await writeDeliveries(src.db, userId, join(dir, "deliveries.json"), tick);
    files.push(...(await writeMedia(src, userId, dir)));
    files.push(
      "outbox.json",
      "likes.json",
      "direct_messages.json",
      "following_accounts.csv",
      "muted_accounts.csv",
      "blocked_accounts.csv",
      "blocked_domains.csv",
      "communities.json",
      "account.json",
      "moderation.json",
      "deliveries.json",
    );

    files.unshift("README.html");
    await writeText(
      join(dir, "README.html"),
      readmeHtml({
        handle: `@${user.username}@${hostOf(src.origin)}`,
        generatedAt: new Date().toISOString(),
        counts: totals,
        files,
      }),
    );

    // Unique: two workers building the same archive never write one file.
    const partial = `${dir}.partial`;
    await createTar({ gzip: true, file: partial, cwd: dir, portable: true }, files);
    // Health data: readable by the server's own user only.
    await chmod(partial, 0o600);
    await rename(partial, outFile);
    await onProgress(total, total);
    return (await stat(outFile)).size;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}.partial`, { force: true });
  }
}

const extname = (url: string) => /\.[a-z0-9]+$/i.exec(new URL(url).pathname)?.[0] ?? "";

async function countItems(db: Db, userId: string): Promise<ArchiveCounts> {
  const n = async (q: { executeTakeFirst(): Promise<{ n: string | number | bigint } | undefined> }) =>
    Number((await q.executeTakeFirst())?.n ?? 0);
  const posts = db
    .selectFrom("posts")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("author_id", "=", userId)
    .where("deleted_at", "is", null);
  return {
    posts: await n(posts.where("audience", "!=", "direct")),
    messages: await n(
      theirMessages(
        db.selectFrom("posts").select((eb) => eb.fn.countAll().as("n")),
        userId,
      ),
    ),
    likes: await n(
      db
        .selectFrom("likes")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("actor_id", "=", userId),
    ),
    following: await n(
      db
        .selectFrom("follows")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("follower_id", "=", userId)
        .where("status", "=", "accepted"),
    ),
    communities: await n(
      db
        .selectFrom("follows")
        .innerJoin("actors", "actors.id", "follows.followee_id")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("follows.follower_id", "=", userId)
        .where("follows.status", "=", "accepted")
        .where("actors.type", "=", "Group"),
    ),
    deliveries: await n(
      db
        .selectFrom("deliveries")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("actor_id", "=", userId),
    ),
  };
}
