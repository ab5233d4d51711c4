// `npm run bench`: figures and ratios for the foundation's hot paths. Nothing
// here asserts timings; it prints them so changes can be compared run to run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type DatabaseHandle, type Dialect, openDatabase } from "../db/connect.ts";
import { KyselyMessageQueue } from "../db/message-queue.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { hashPassword } from "../src/accounts/passwords.ts";
import { createUser } from "../src/accounts/service.ts";
import { createCommunity } from "../src/communities/service.ts";
import { loadConfig } from "../src/config.ts";
import { FileMediaStore } from "../src/media/store.ts";
import { domainKeys } from "../src/policy/domains.ts";
import { DomainPolicy } from "../src/policy/matcher.ts";
import { listReplies, listThreads } from "../src/posts/queries.ts";
import { createReply, createThread } from "../src/posts/service.ts";
import { createApp } from "../src/web/app.ts";
import { erasureBench } from "./erasure.ts";
import { type ExportFigures, exportBench } from "./export.ts";
import { federationLines } from "./federation.ts";
import { formatPages, pagesBench } from "./pages.ts";

const ORIGIN = "http://bench.local";
const postgresUrl = process.argv.find((a) => a.startsWith("postgres://")) ?? "postgres://postgres@127.0.0.1:5432/test";

async function open(dialect: Dialect): Promise<DatabaseHandle & { cleanup(): Promise<void> }> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "kindred-bench-"));
    const h = await openDatabase(`sqlite:${join(dir, "bench.sqlite")}`);
    await migrateToLatest(h.db);
    return {
      ...h,
      cleanup: async () => {
        await h.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `bench_${Date.now().toString(36)}`;
  const h = await openDatabase(postgresUrl, { schema });
  await migrateToLatest(h.db);
  return {
    ...h,
    cleanup: async () => {
      await h.close();
      const c = new pg.Client({ connectionString: postgresUrl });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

async function postgresAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

const ms = (t0: number) => performance.now() - t0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const fmt = (n: number, d = 1) => n.toFixed(d);

async function queueThroughput(dialect: Dialect, n: number): Promise<number> {
  const h = await open(dialect);
  try {
    const queue = new KyselyMessageQueue(h.db, { dialect, pollIntervalMs: 10, concurrency: 8 });
    await queue.enqueueMany(Array.from({ length: n }, (_, i) => ({ i })));
    const controller = new AbortController();
    let done = 0;
    const t0 = performance.now();
    const finished = new Promise<void>((resolve) => {
      void queue.listen(
        async () => {
          if (++done === n) resolve();
        },
        { signal: controller.signal },
      );
    });
    await finished;
    const elapsed = ms(t0);
    controller.abort();
    return (n / elapsed) * 1000;
  } finally {
    await h.cleanup();
  }
}

async function readPaths(dialect: Dialect) {
  const h = await open(dialect);
  try {
    const admin = await createUser(
      h.db,
      ORIGIN,
      { username: "admin", password: "benchmark-password" },
      { role: "admin", allowReserved: true },
    );
    const c = await createCommunity(
      h.db,
      ORIGIN,
      { actorId: admin.actorId, role: "admin" },
      { slug: "bench", name: "Bench" },
    );
    const community = { id: c.actorId, visibility: "public" as const, joinPolicy: "open" as const };
    const t0 = performance.now();
    let last = "";
    for (let i = 0; i < 1000; i++)
      last = (
        await createThread(h.db, ORIGIN, community, admin.actorId, { title: `Thread ${i}`, body: `Body ${i} #bench` })
      ).id;
    const insertPerSec = (1000 / ms(t0)) * 1000;
    let parent = last;
    // 500 replies in chains of five under the thread.
    for (let i = 0; i < 500; i++)
      parent = (
        await createReply(h.db, ORIGIN, community, admin.actorId, i % 5 === 0 ? last : parent, { body: `reply ${i}` })
      ).id;
    const listing: number[] = [];
    const thread: number[] = [];
    for (let i = 0; i < 30; i++) {
      let t = performance.now();
      await listThreads(h.db, community.id, { viewerId: admin.actorId });
      listing.push(ms(t));
      t = performance.now();
      await listReplies(h.db, last, { viewerId: admin.actorId });
      thread.push(ms(t));
    }
    const config = loadConfig({
      ORIGIN,
      DATABASE_URL: "sqlite::memory:",
      SECRET_KEY: "x".repeat(32),
      DATA_DIR: tmpdir(),
    });
    const app = createApp({
      db: h.db,
      dialect,
      config,
      policy: new DomainPolicy(h.db, "bench.local"),
      media: new FileMediaStore(join(tmpdir(), "kindred-bench-media")),
    });
    const page: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      const res = await app.request(`/posts/${last}`);
      await res.text();
      page.push(ms(t));
    }
    return { insertPerSec, listing: median(listing), thread: median(thread), page: median(page) };
  } finally {
    await h.cleanup();
  }
}

/** Domain policy with 10,000 blocked domains: the in-memory check vs asking the database each time. */
async function policyCheck(dialect: Dialect) {
  const h = await open(dialect);
  try {
    const ts = new Date().toISOString();
    const rows = Array.from({ length: 10_000 }, (_, i) => ({
      domain: `blocked-${i}.example`,
      severity: "suspend" as const,
      reject_media: 0 as const,
      reject_reports: 0 as const,
      public_comment: null,
      private_comment: null,
      obfuscate: 0 as const,
      created_at: ts,
      updated_at: ts,
    }));
    for (let i = 0; i < rows.length; i += 500)
      await h.db
        .insertInto("domain_blocks")
        .values(rows.slice(i, i + 500))
        .execute();
    const policy = new DomainPolicy(h.db, "bench.local");
    let t = performance.now();
    await policy.refresh();
    const loadMs = ms(t);
    const hosts = Array.from({ length: 200_000 }, (_, i) =>
      i % 2 ? `social.blocked-${i % 10_000}.example` : `fine-${i}.example`,
    );
    t = performance.now();
    let blocked = 0;
    for (const host of hosts) if (policy.isSuspended(host)) blocked++;
    const memoryNs = (ms(t) * 1e6) / hosts.length;
    t = performance.now();
    for (const host of hosts.slice(0, 2_000)) {
      await h.db
        .selectFrom("domain_blocks")
        .select("severity")
        .where("domain", "in", domainKeys(host))
        .executeTakeFirst();
    }
    const dbNs = (ms(t) * 1e6) / 2_000;
    return { loadMs, memoryNs, dbNs, blocked };
  } finally {
    await h.cleanup();
  }
}

const dialects: Dialect[] = (await postgresAvailable()) ? ["sqlite", "postgres"] : ["sqlite"];
if (dialects.length === 1) console.log(`(PostgreSQL at ${postgresUrl} not reachable: SQLite only)`);
// `--only=pages,export,federation,erasure` runs those sections alone; `--seconds=N` sets each wrk run's length.
const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const want = (section: "core" | "pages" | "export" | "federation" | "erasure") => !only || only.includes(section);
const wrkSeconds = Number(process.argv.find((a) => a.startsWith("--seconds="))?.slice("--seconds=".length) ?? 5);

const results: Record<string, { queue: number; insertPerSec: number; listing: number; thread: number; page: number }> =
  {};
if (want("core")) {
  const t = performance.now();
  for (let i = 0; i < 5; i++) await hashPassword("a password to hash");
  console.log(`argon2id hash: ${fmt(ms(t) / 5)} ms each`);
}
for (const d of want("core") ? dialects : []) {
  const queue = await queueThroughput(d, 2000);
  const r = await readPaths(d);
  results[d] = { queue, ...r };
  console.log(`\n[${d}]`);
  console.log(`  queue: 2000 messages drained at ${fmt(queue, 0)} msg/s (concurrency 8)`);
  console.log(`  threads inserted: ${fmt(r.insertPerSec, 0)}/s (1000, each with Markdown render and tags)`);
  console.log(`  community page query (25 of 1000 threads): median ${fmt(r.listing, 2)} ms`);
  console.log(`  thread replies query (first 200 of 500 replies, depth up to 5): median ${fmt(r.thread, 2)} ms`);
  console.log(`  thread page over HTTP (render incl.): median ${fmt(r.page, 2)} ms`);
  const p = await policyCheck(d);
  console.log(
    `  domain policy, 10,000 blocks: load ${fmt(p.loadMs)} ms; check ${fmt(p.memoryNs, 0)} ns/activity in memory vs ${fmt(p.dbNs / 1000, 1)} µs as a database query (${fmt(p.dbNs / p.memoryNs, 0)}x); ${p.blocked} of 200,000 hosts blocked`,
  );
}
if (results.sqlite && results.postgres) {
  const s = results.sqlite;
  const p = results.postgres;
  console.log(`\n[postgres / sqlite]`);
  console.log(
    `  queue throughput ${fmt(p.queue / s.queue, 2)}x, inserts ${fmt(p.insertPerSec / s.insertPerSec, 2)}x, listing latency ${fmt(p.listing / s.listing, 2)}x, thread page latency ${fmt(p.page / s.page, 2)}x`,
  );
}

for (const d of want("pages") ? dialects : []) {
  console.log(`\n[pages, ${d}: wrk ${wrkSeconds} s per run, 1 and 16 connections]`);
  for (const line of formatPages(await pagesBench(d, postgresUrl, wrkSeconds))) console.log(line);
}

for (const d of want("federation") ? dialects : [])
  for (const line of await federationLines(d, postgresUrl)) console.log(line);

// Export archives: memory must stay flat whatever the size. The 20,000-post export runs in a process of its
// own, so its peak RSS (the target, issue 14: under 100 MB) is the export's and not the bench's.
if (want("export")) {
  console.log(`\n[export archive, SQLite]`);
  const small = await exportBench(2_000);
  const child = spawnSync(process.execPath, ["--expose-gc", join(import.meta.dirname, "export-child.ts"), "20000"], {
    encoding: "utf8",
    timeout: 300_000,
  });
  if (child.status !== 0) throw new Error(`the export child failed (${child.status}): ${child.stderr.slice(-500)}`);
  const large: ExportFigures & { startRssMiB: number; processPeakRssMiB: number } = JSON.parse(
    child.stdout.trim().split("\n").at(-1) ?? "{}",
  );
  for (const f of [small, large]) {
    const live = f.peakLiveMiB === null ? "n/a (run with --expose-gc)" : `+${fmt(f.peakLiveMiB)} MiB`;
    console.log(
      `  ${f.posts.toLocaleString("en")} posts: ${fmt(f.seconds)} s (${fmt(f.posts / f.seconds, 0)} posts/s), archive ${fmt(f.bytes / 2 ** 20, 2)} MiB; live heap after GC ${live}, peak heap +${fmt(f.peakHeapMiB)} MiB, peak RSS +${fmt(f.peakRssMiB)} MiB`,
    );
  }
  console.log(
    `  20,000 posts, whole process: peak RSS ${fmt(large.processPeakRssMiB)} MiB, of which ` +
      `${fmt(large.startRssMiB)} MiB before anything ran (the modules loaded); target < 100 MB`,
  );
  const liveRatio =
    small.peakLiveMiB && large.peakLiveMiB
      ? `${fmt(large.peakLiveMiB / small.peakLiveMiB, 2)}x the live heap`
      : "live heap not measured";
  console.log(`  10x the posts: ${fmt(large.seconds / small.seconds, 1)}x the time, ${liveRatio}`);
}

// Erasure of a member with 2,000 posts whose community `--erasure-servers` (1,000) servers follow.
const erasureServers = Number(
  process.argv.find((a) => a.startsWith("--erasure-servers="))?.slice("--erasure-servers=".length) ?? 1000,
);
for (const d of want("erasure") ? dialects : []) {
  const e = await erasureBench(d, postgresUrl, { servers: erasureServers });
  console.log(
    `\n[erasure, ${d}]\n  a member with ${e.posts.toLocaleString("en")} posts, community followed from ${e.servers} ` +
      `servers: ${e.seconds === null ? `not done in 300 s (${e.reached} reached)` : `every Delete delivered in ${fmt(e.seconds, 2)} s`}` +
      `; Deletes per server ${e.deletesPerServer.min}–${e.deletesPerServer.max}`,
  );
}
