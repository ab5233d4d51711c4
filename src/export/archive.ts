// A member's archive (GDPR Art. 15 and 20): Mastodon's archive layout, which
// existing tools read, plus what Art. 15 asks for and Mastodon leaves out.
// Every file is written row by row from keyset-paged queries into a scratch
// folder, then packed and gzipped as a stream: memory stays flat however
// large the account.
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { SelectQueryBuilder } from "kysely";
import { create as createTar } from "tar";
import type { Database, Db } from "../../db/schema.ts";
import { readmeHtml } from "../../views/pages/archive-readme.ts";
import type { ArchiveRenderer } from "../context.ts";
import { avatarDir } from "../media/avatars.ts";
import { hostOf } from "../urls.ts";

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
const PAGE = 500;

export interface ArchiveSource {
  db: Db;
  origin: string;
  dataDir: string;
  archive: ArchiveRenderer;
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
  const dir = await mkdtemp(join(dirname(outFile), ".archive-"));
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

// ---- paging ----

/** Post ids matching `filter`, oldest first, a page at a time (ids are time-ordered). */
async function* pagedIds(
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
const postsQuery = (db: Db) => db.selectFrom("posts").select("id");

/** Live direct messages `userId` sent or received. */
function theirMessages<Q extends SelectQueryBuilder<Database, "posts", object>>(q: Q, userId: string): Q {
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
async function* keyset<R extends { id: string }>(
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
class StreamFile {
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

async function writeText(path: string, text: string): Promise<void> {
  const f = new StreamFile(path);
  await f.write(text);
  await f.close();
}

const writeJson = (path: string, value: unknown) => writeText(path, `${JSON.stringify(value, null, 2)}\n`);

/** An `OrderedCollection` whose `orderedItems` are streamed in, as in Mastodon's outbox.json and likes.json. */
function writeCollection(
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
async function writeStreamedArray(
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

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Mastodon's CSV files: following (with its header), mutes, blocks and blocked servers. */
async function writeFollowing(db: Db, userId: string, dir: string): Promise<void> {
  const following = await db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.followee_id")
    .select(["actors.username", "actors.host"])
    .where("follows.follower_id", "=", userId)
    .where("follows.status", "=", "accepted")
    .orderBy("follows.created_at")
    .execute();
  await writeText(
    join(dir, "following_accounts.csv"),
    `${[
      "Account address,Show boosts,Notify on new posts,Languages",
      ...following.map((a) => `${csvCell(`${a.username}@${a.host}`)},true,false,`),
    ].join("\n")}\n`,
  );
  const filters = await db
    .selectFrom("member_filters")
    .leftJoin("actors", "actors.id", "member_filters.target_actor_id")
    .select(["member_filters.kind", "member_filters.target_domain", "actors.username", "actors.host"])
    .where("member_filters.user_id", "=", userId)
    .orderBy("member_filters.created_at")
    .execute();
  const accounts = (kind: string) =>
    filters.filter((f) => f.kind === kind && f.username).map((f) => csvCell(`${f.username}@${f.host}`));
  await writeText(
    join(dir, "muted_accounts.csv"),
    `${["Account address,Hide notifications", ...accounts("mute").map((a) => `${a},true`)].join("\n")}\n`,
  );
  await writeText(
    join(dir, "blocked_accounts.csv"),
    accounts("block")
      .map((a) => `${a}\n`)
      .join(""),
  );
  await writeText(
    join(dir, "blocked_domains.csv"),
    filters
      .filter((f) => f.kind === "block_domain" && f.target_domain)
      .map((f) => `${f.target_domain}\n`)
      .join(""),
  );
}

/** Every direct message they sent or received, oldest first, each with who it was between. */
async function writeDirectMessages(
  src: ArchiveSource,
  userId: string,
  path: string,
  tick: () => Promise<void>,
): Promise<void> {
  await writeStreamedArray(
    path,
    { description: "Direct messages sent and received, oldest first" },
    "messages",
    async (emit) => {
      const mine = (q: ReturnType<typeof postsQuery>) => theirMessages(q, userId);
      for await (const id of pagedIds(src.db, mine)) {
        const m = await src.db
          .selectFrom("posts")
          .innerJoin("actors", "actors.id", "posts.author_id")
          .select([
            "posts.iri",
            "posts.author_id",
            "posts.content_html",
            "posts.source",
            "posts.summary",
            "posts.published_at",
            "actors.username",
            "actors.host",
          ])
          .where("posts.id", "=", id)
          .executeTakeFirstOrThrow();
        const to = await src.db
          .selectFrom("post_recipients")
          .innerJoin("actors", "actors.id", "post_recipients.actor_id")
          .select(["actors.username", "actors.host"])
          .where("post_recipients.post_id", "=", id)
          .execute();
        await emit({
          id: m.iri,
          direction: m.author_id === userId ? "sent" : "received",
          from: `${m.username}@${m.host}`,
          to: to.map((r) => `${r.username}@${r.host}`),
          published: m.published_at,
          contentWarning: m.summary,
          content: m.content_html,
          source: m.source,
        });
        await tick();
      }
    },
  );
}

async function communities(db: Db, userId: string) {
  const rows = await db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.followee_id")
    .select([
      "actors.id",
      "actors.iri",
      "actors.username",
      "actors.host",
      "actors.name",
      "actors.local",
      "follows.status",
      "follows.created_at",
      "follows.accepted_at",
    ])
    .where("follows.follower_id", "=", userId)
    .where("actors.type", "=", "Group")
    .orderBy("follows.created_at")
    .execute();
  const moderated = new Set(
    (await db.selectFrom("community_moderators").select("community_id").where("actor_id", "=", userId).execute()).map(
      (r) => r.community_id,
    ),
  );
  return {
    memberships: rows.map((r) => ({
      handle: `${r.username}@${r.host}`,
      iri: r.iri,
      name: r.name,
      onThisServer: r.local === 1,
      status: r.status === "accepted" ? "member" : "requested",
      requestedAt: r.created_at,
      joinedAt: r.accepted_at,
      moderator: moderated.has(r.id),
    })),
  };
}

async function account(
  db: Db,
  user: {
    id: string;
    username: string;
    iri: string;
    name: string | null;
    created_at: string;
    email: string | null;
    role: string;
    is_clinician: number;
    bio_source: string;
  },
  origin: string,
) {
  const sessions = await db
    .selectFrom("sessions")
    .select(["created_at", "last_seen_at", "expires_at", "user_agent"])
    .where("user_id", "=", user.id)
    .where("expires_at", ">", new Date().toISOString())
    .orderBy("created_at")
    .execute();
  const filters = await db
    .selectFrom("member_filters")
    .select((eb) => ["kind", eb.fn.countAll().as("n")])
    .where("user_id", "=", user.id)
    .groupBy("kind")
    .execute();
  return {
    username: user.username,
    handle: `@${user.username}@${hostOf(origin)}`,
    iri: user.iri,
    displayName: user.name,
    email: user.email,
    signedUpAt: user.created_at,
    roles: [user.role, ...(user.is_clinician === 1 ? ["verified clinician"] : [])],
    settings: { bio: user.bio_source, filters: Object.fromEntries(filters.map((f) => [f.kind, Number(f.n)])) },
    activeSessions: sessions.map((s) => ({
      startedAt: s.created_at,
      lastSeenAt: s.last_seen_at,
      expiresAt: s.expires_at,
      userAgent: s.user_agent,
    })),
  };
}

async function moderation(db: Db, userId: string) {
  const reports = await db
    .selectFrom("reports")
    .select(["iri", "reason", "status", "created_at", "resolved_at", "target_post_id", "target_actor_id"])
    .where("reporter_id", "=", userId)
    .orderBy("created_at")
    .execute();
  const actions = await db
    .selectFrom("moderation_actions")
    .leftJoin("posts", "posts.id", "moderation_actions.target_post_id")
    .leftJoin("actors as community", "community.id", "moderation_actions.community_id")
    .select([
      "moderation_actions.action",
      "moderation_actions.reason",
      "moderation_actions.created_at",
      "posts.iri as postIri",
      "community.username as community",
      "community.host as communityHost",
    ])
    .where("moderation_actions.target_actor_id", "=", userId)
    .orderBy("moderation_actions.created_at")
    .execute();
  const bans = await db
    .selectFrom("community_bans")
    .innerJoin("actors", "actors.id", "community_bans.community_id")
    .select([
      "actors.username",
      "actors.host",
      "community_bans.reason",
      "community_bans.created_at",
      "community_bans.expires_at",
    ])
    .where("community_bans.actor_id", "=", userId)
    .execute();
  return {
    reportsFiled: reports.map((r) => ({
      iri: r.iri,
      reason: r.reason,
      status: r.status,
      filedAt: r.created_at,
      resolvedAt: r.resolved_at,
    })),
    actionsOnTheirContent: actions.map((a) => ({
      action: a.action,
      community: a.community ? `${a.community}@${a.communityHost}` : null,
      post: a.postIri,
      reason: a.reason,
      at: a.created_at,
    })),
    communityBans: bans.map((b) => ({
      community: `${b.username}@${b.host}`,
      reason: b.reason,
      since: b.created_at,
      until: b.expires_at,
    })),
  };
}

/** The delivery ledger: which server received which of their objects, and when. */
async function writeDeliveries(
  db: Db,
  userId: string,
  path: string,
  tick: (n?: number) => Promise<void>,
): Promise<void> {
  const servers = await db
    .selectFrom("deliveries")
    .select(["host", (eb) => eb.fn.countAll().as("n"), (eb) => eb.fn.max("delivered_at").as("last")])
    .where("actor_id", "=", userId)
    .groupBy("host")
    .orderBy("host")
    .execute();
  const head = {
    description:
      "Which servers received which of your objects, and when (status: delivered, pending, retrying or failed)",
    servers: servers.map((s) => ({ host: s.host, deliveries: Number(s.n), lastDeliveredAt: s.last })),
  };
  await writeStreamedArray(path, head, "deliveries", async (emit) => {
    const page = (after: string, limit: number) =>
      db
        .selectFrom("deliveries")
        .select([
          "id",
          "object_iri",
          "activity_iri",
          "inbox_url",
          "host",
          "status",
          "attempts",
          "created_at",
          "delivered_at",
        ])
        .where("actor_id", "=", userId)
        .where("id", ">", after)
        .orderBy("id")
        .limit(limit)
        .execute();
    for await (const rows of keyset(page)) {
      for (const r of rows)
        await emit({
          object: r.object_iri,
          activity: r.activity_iri,
          inbox: r.inbox_url,
          host: r.host,
          status: r.status,
          attempts: r.attempts,
          sentAt: r.created_at,
          deliveredAt: r.delivered_at,
        });
      await tick(rows.length);
    }
  });
}
