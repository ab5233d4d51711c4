import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dialect } from "../../db/connect.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import { type RunningInstance, startInstance } from "../../src/server.ts";
import { freshDatabase, type TestDatabase } from "./databases.ts";
import { freePort } from "./processes.ts";

export interface TestInstance extends RunningInstance {
  /** http://127.0.0.1:<port> — also the instance's ORIGIN. */
  url: string;
  config: Config;
  database: TestDatabase;
  stop(): Promise<void>;
}

/**
 * A real Kindred instance on loopback: its own database (SQLite file or
 * PostgreSQL schema), real HTTP, real Fedify. The port is picked first so the
 * ORIGIN can name it.
 */
export async function startTestInstance(
  options: { dialect?: Dialect; env?: Record<string, string> } = {},
): Promise<TestInstance> {
  const database = await freshDatabase(options.dialect ?? "sqlite", false);
  await database.close();
  const dataDir = mkdtempSync(join(tmpdir(), "kindred-data-"));
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    ALLOW_PRIVATE_ADDRESS: "true",
    // Suites post far more than a person would; test/http/posting-limits.test.ts turns the caps on.
    POSTING_LIMITS: "false",
    // Three suites run at once, several instances each, on one PostgreSQL of 100 connections.
    DATABASE_POOL_SIZE: "4",
    LOG_LEVEL: "error",
    ...options.env,
  });
  const running = await startInstance(config);
  return {
    ...running,
    url: config.origin,
    config,
    database,
    async stop() {
      await running.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
