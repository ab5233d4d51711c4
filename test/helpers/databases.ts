import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type DatabaseHandle, type Dialect, openDatabase } from "../../db/connect.ts";
import { migrateToLatest } from "../../db/migrate.ts";

export interface TestDatabase extends DatabaseHandle {
  /** A URL another process (a second app, the CLI) can open to reach the same data. */
  url: string;
  /** PostgreSQL schema of this test database, when on PostgreSQL. */
  schema?: string;
  /** Closes the handle and removes the file or schema. */
  drop(): Promise<void>;
}

export const postgresUrl = process.env.TEST_DATABASE_URL;

/** The dialects this run covers: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const dialects: Dialect[] = postgresUrl ? ["sqlite", "postgres"] : ["sqlite"];

/** A fresh, migrated database of its own: a new SQLite file, or a new PostgreSQL schema. */
export async function freshDatabase(dialect: Dialect = "sqlite", migrate = true): Promise<TestDatabase> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "kindred-test-"));
    const url = `sqlite:${join(dir, "kindred.sqlite")}`;
    const handle = await openDatabase(url);
    if (migrate) await migrateToLatest(handle.db);
    return {
      ...handle,
      url,
      async drop() {
        await handle.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!postgresUrl) throw new Error("TEST_DATABASE_URL is not set");
  const schema = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const handle = await openDatabase(postgresUrl, { schema });
  if (migrate) await migrateToLatest(handle.db);
  const url = withSearchPath(postgresUrl, schema);
  return {
    ...handle,
    url,
    schema,
    async drop() {
      await handle.close();
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** libpq's `options` parameter in the URL selects the schema for any process that opens it. */
function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("options", `-c search_path=${schema}`);
  return u.toString();
}
