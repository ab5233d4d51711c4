// Pages under load (issue 14, item 7): the home page, a community page, a
// thread with 200 replies, a community's actor document and outbox, in a
// database of 100,000 posts, each loaded with `wrk` at 1 and 16 connections
// over loopback. Beside them, in the same run: a bare Hono "hello" and the
// community page's threads read with one raw prepared query and served as
// JSON, the ceiling a page could reach. Each page's query count comes from a
// Kysely plugin on the bench's own handle.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import SqliteDatabase from "better-sqlite3";
import { Hono } from "hono";
import { type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, sql } from "kysely";
import pg from "pg";
import { type Dialect, openDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { attachFederation } from "../federation/attach.ts";
import { loadConfig } from "../src/config.ts";
import type { AppContext } from "../src/context.ts";
import { FileMediaStore } from "../src/media/store.ts";
import { DomainPolicy } from "../src/policy/matcher.ts";
import { createApp } from "../src/web/app.ts";
import { seedPages } from "./seed.ts";

const ORIGIN = "http://bench.local";
const AP = "application/activity+json";

/** Counts the queries Kysely runs through the handle it is plugged into. */
class QueryCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs) {
    this.count++;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs) {
    return args.result;
  }
}

export interface Load {
  rps: number;
  p99Ms: number;
  errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Runs wrk against `url` and reads requests/s, the 99th percentile and non-2xx answers from its report. */
export function wrk(url: string, connections: number, seconds: number, headers: string[] = []): Promise<Load> {
  const args = ["-t", String(Math.min(connections, 2)), "-c", String(connections), "-d", `${seconds}s`, "--latency"];
  for (const h of headers) args.push("-H", h);
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", [...args, url], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
      if (code !== 0 || !rps || !p99) return reject(new Error(`wrk failed (${code}): ${out}`));
      const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
      const socket = /Socket errors:.*?timeout (\d+)/.exec(out);
      resolve({
        rps: Number(rps[1]),
        p99Ms: Number(p99[1]) * (UNIT_MS[p99[2] as string] ?? Number.NaN),
        errors: Number(non2xx?.[1] ?? 0) + Number(socket?.[1] ?? 0),
      });
    });
  });
}

function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(server));
  });
}

const portOf = (s: ServerType) => (s.address() as AddressInfo).port;
const closeServer = (s: ServerType) => new Promise<void>((resolve) => s.close(() => resolve()));

/** The community page's rows (threads with their authors) in one prepared statement, for the reference. */
const RAW_THREADS = `SELECT p.id, p.title, p.content_html, p.published_at, a.username, a.name
  FROM posts p JOIN actors a ON a.id = p.author_id
  WHERE p.community_id = $1 AND p.parent_id IS NULL AND p.deleted_at IS NULL AND p.removed_at IS NULL
    AND p.pinned_at IS NULL AND p.audience = 'public'
  ORDER BY p.id DESC LIMIT 26`;

export interface PageFigures {
  name: string;
  path: string;
  queries: number;
  bytes: number;
  c1: Load;
  c16: Load;
}

export interface PagesReport {
  dialect: Dialect;
  posts: number;
  seedSeconds: number;
  hello: { c1: Load; c16: Load };
  raw: { c1: Load; c16: Load };
  pages: PageFigures[];
}

async function openFor(dialect: Dialect, postgresUrl: string, dir: string) {
  if (dialect === "sqlite") {
    const file = join(dir, "pages.sqlite");
    const h = await openDatabase(`sqlite:${file}`);
    // Opened after the migrations (the first query), so the statement finds its tables.
    let raw: SqliteDatabase.Database | undefined;
    let stmt: SqliteDatabase.Statement | undefined;
    return {
      h,
      rawQuery: async (id: string) => {
        raw ??= new SqliteDatabase(file, { readonly: true });
        stmt ??= raw.prepare(RAW_THREADS.replace("$1", "?"));
        return stmt.all(id);
      },
      cleanup: async () => {
        raw?.close();
        await h.close();
      },
    };
  }
  const schema = `bench_pages_${Date.now().toString(36)}`;
  const h = await openDatabase(postgresUrl, { schema });
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 10, options: `-c search_path=${schema}` });
  return {
    h,
    rawQuery: async (id: string) => (await pool.query({ name: "raw-threads", text: RAW_THREADS, values: [id] })).rows,
    cleanup: async () => {
      await pool.end();
      await h.close();
      const c = new pg.Client({ connectionString: postgresUrl });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

/** Seeds, serves and loads each page; `seconds` per wrk run (two per page). */
export async function pagesBench(dialect: Dialect, postgresUrl: string, seconds: number): Promise<PagesReport> {
  const dir = mkdtempSync(join(tmpdir(), "kindred-pages-bench-"));
  const { h, rawQuery, cleanup } = await openFor(dialect, postgresUrl, dir);
  const servers: ServerType[] = [];
  let policy: DomainPolicy | undefined;
  try {
    await migrateToLatest(h.db);
    const t0 = performance.now();
    const seeded = await seedPages(h.db, ORIGIN);
    // Autovacuum would analyze the new rows in a while; the bench reads them at once.
    if (dialect === "postgres") await sql`ANALYZE`.execute(h.db);
    const seedSeconds = (performance.now() - t0) / 1000;

    const counter = new QueryCounter();
    const db = h.db.withPlugin(counter);
    policy = new DomainPolicy(db, "bench.local");
    await policy.start();
    const config = loadConfig({
      ORIGIN,
      DATABASE_URL: "sqlite::memory:",
      SECRET_KEY: "x".repeat(48),
      DATA_DIR: dir,
      LOG_LEVEL: "error",
    });
    const runtime: AppContext = { db, dialect, config, policy, media: new FileMediaStore(join(dir, "media")) };
    const app = createApp(runtime, attachFederation(runtime).handle);
    const kindred = await listen(app.fetch);
    const hello = await listen(new Hono().get("/", (c) => c.text("hello")).fetch);
    const raw = await listen(new Hono().get("/", async (c) => c.json(await rawQuery(seeded.communityId))).fetch);
    servers.push(kindred, hello, raw);

    const host = ["Host: bench.local"];
    const load = async (port: number, path: string, headers: string[] = []) => {
      const url = `http://127.0.0.1:${port}${path}`;
      await wrk(url, 2, 1, headers); // warm-up: caches, JIT, statements
      return { c1: await wrk(url, 1, seconds, headers), c16: await wrk(url, 16, seconds, headers) };
    };
    const targets = [
      { name: "home page (visitor)", path: "/", accept: "text/html" },
      { name: "community page", path: `/@${seeded.slug}`, accept: "text/html" },
      { name: "thread, 200 replies", path: `/posts/${seeded.threadId}`, accept: "text/html" },
      { name: "community actor JSON", path: `/@${seeded.slug}`, accept: AP },
      { name: "member actor JSON", path: `/@${seeded.username}`, accept: AP },
      { name: "community outbox", path: `/@${seeded.slug}/outbox`, accept: AP },
    ];
    const pages: PageFigures[] = [];
    for (const t of targets) {
      const headers = [...host, `Accept: ${t.accept}`];
      // In process (the global dispatcher refuses loopback, as it must for remote fetches). The fewest of
      // three requests: the policy's periodic reload runs on the same handle and may fall within one.
      let queries = Number.POSITIVE_INFINITY;
      let bytes = 0;
      for (let i = 0; i < 3; i++) {
        counter.count = 0;
        const res = await app.request(`${ORIGIN}${t.path}`, { headers: { Accept: t.accept } });
        bytes = (await res.arrayBuffer()).byteLength;
        if (res.status !== 200) throw new Error(`${t.path} (${t.accept}) answered ${res.status}`);
        queries = Math.min(queries, counter.count);
      }
      pages.push({ name: t.name, path: t.path, queries, bytes, ...(await load(portOf(kindred), t.path, headers)) });
    }
    return {
      dialect,
      posts: seeded.posts,
      seedSeconds,
      hello: await load(portOf(hello), "/"),
      raw: await load(portOf(raw), "/"),
      pages,
    };
  } finally {
    for (const s of servers) await closeServer(s);
    policy?.stop();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));

/** The report as lines: each page beside the references measured in the same run, and the ratios. */
export function formatPages(r: PagesReport): string[] {
  const community = r.pages.find((p) => p.name === "community page");
  const row = (name: string, q: string, l: { c1: Load; c16: Load }, ratio: string) =>
    `  ${name.padEnd(22)} ${q.padStart(4)} ${f0(l.c1.rps).padStart(7)} ${f1(l.c1.p99Ms).padStart(8)} ` +
    `${f0(l.c16.rps).padStart(7)} ${f1(l.c16.p99Ms).padStart(8)}  ${ratio}` +
    (l.c1.errors + l.c16.errors ? `  (${l.c1.errors + l.c16.errors} errors)` : "");
  const lines = [
    `  ${r.posts.toLocaleString("en")} posts seeded in ${r.seedSeconds.toFixed(1)} s`,
    `  ${"".padEnd(22)} ${"qry".padStart(4)} ${"c=1 r/s".padStart(7)} ${"p99 ms".padStart(8)} ` +
      `${"c16 r/s".padStart(7)} ${"p99 ms".padStart(8)}  ratio at 16 connections`,
    row("hello (Hono)", "0", r.hello, ""),
    row("raw query over HTTP", "1", r.raw, `${f1(r.raw.c16.rps / r.hello.c16.rps)}x hello`),
  ];
  for (const p of r.pages) {
    const ratio =
      p === community
        ? `${f1((p.c16.rps / r.raw.c16.rps) * 100)} % of the raw query`
        : community
          ? `${f1(p.c16.rps / community.c16.rps)}x the community page`
          : "";
    lines.push(row(p.name, String(p.queries), p, ratio));
  }
  return lines;
}
