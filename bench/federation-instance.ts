// A real Kindred instance for the federation benchmarks: its own SQLite file
// (or PostgreSQL schema), real HTTP on loopback, real Fedify, its workers
// running in this process, an admin and one community.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type Dialect, openDatabase } from "../db/connect.ts";
import { createUser, type LocalUser } from "../src/accounts/service.ts";
import { createCommunity, getCommunity } from "../src/communities/service.ts";
import { loadConfig } from "../src/config.ts";
import { type RunningInstance, startInstance } from "../src/server.ts";

export interface BenchInstance {
  url: string;
  running: RunningInstance;
  admin: LocalUser;
  community: Awaited<ReturnType<typeof getCommunity>>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startBenchInstance(
  dialect: Dialect,
  postgresUrl: string,
  env: Record<string, string> = {},
): Promise<BenchInstance> {
  const dir = mkdtempSync(join(tmpdir(), "kindred-fedbench-"));
  const schema = `fedbench_${Date.now().toString(36)}`;
  let databaseUrl = `sqlite:${join(dir, "bench.sqlite")}`;
  if (dialect === "postgres") {
    await (await openDatabase(postgresUrl, { schema })).close();
    const u = new URL(postgresUrl);
    // libpq's `options` selects the schema for every connection of the instance.
    u.searchParams.set("options", `-c search_path=${schema}`);
    databaseUrl = u.toString();
  }
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    DATA_DIR: dir,
    ALLOW_PRIVATE_ADDRESS: "true",
    POSTING_LIMITS: "false",
    LOG_LEVEL: "error",
    INBOX_LIMIT_PER_SERVER: "10000000",
    INBOX_LIMIT_PER_ACTOR: "10000000",
    ...env,
  });
  const running = await startInstance(config);
  const db = running.runtime.db;
  const admin = await createUser(
    db,
    config.origin,
    { username: "admin", password: "correct horse battery" },
    { role: "admin", allowReserved: true },
  );
  await createCommunity(db, config.origin, admin, { slug: "bench", name: "Bench" });
  const community = await getCommunity(db, "bench");
  return {
    url: config.origin,
    running,
    admin,
    community,
    async stop() {
      await running.close();
      if (dialect === "postgres") {
        const c = new pg.Client({ connectionString: postgresUrl });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
