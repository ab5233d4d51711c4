// DATABASE_POOL_SIZE bounds the PostgreSQL connections one process opens: each
// web and worker process of a deployment has its own pool, and their sum must
// stay under the server's max_connections (DEPLOYMENT.md).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { openRuntime } from "../../src/runtime.ts";
import { freshDatabase, postgresUrl, type TestDatabase } from "../helpers/databases.ts";

describe("DATABASE_POOL_SIZE", () => {
  it("defaults to 10 and must be a whole number from 1", () => {
    expect(loadConfig({ SECRET_KEY: "k".repeat(32) }).databasePoolSize).toBe(10);
    expect(loadConfig({ SECRET_KEY: "k".repeat(32), DATABASE_POOL_SIZE: "3" }).databasePoolSize).toBe(3);
    for (const bad of ["0", "-1", "2.5", "many"])
      expect(() => loadConfig({ SECRET_KEY: "k".repeat(32), DATABASE_POOL_SIZE: bad }), bad).toThrow(ConfigError);
  });
});

describe.skipIf(!postgresUrl)("DATABASE_POOL_SIZE on PostgreSQL", () => {
  let database: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    database = await freshDatabase("postgres");
    dataDir = mkdtempSync(join(tmpdir(), "kindred-pool-"));
  });
  afterAll(async () => {
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** The distinct server processes (connections) that `queries` concurrent slow queries ran on. */
  async function connectionsUsed(poolSize: string | undefined, queries: number): Promise<number> {
    const config = loadConfig({
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      SECRET_KEY: "k".repeat(32),
      ...(poolSize === undefined ? {} : { DATABASE_POOL_SIZE: poolSize }),
    });
    const runtime = await openRuntime(config);
    try {
      const pids = await Promise.all(
        Array.from({ length: queries }, async () => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.2)`.execute(
            runtime.db,
          );
          return rows[0]?.pid;
        }),
      );
      return new Set(pids).size;
    } finally {
      await runtime.close();
    }
  }

  it("opens at most that many connections per process", async () => {
    expect(await connectionsUsed("2", 6)).toBe(2);
    expect(await connectionsUsed(undefined, 6)).toBe(6);
  });
});
