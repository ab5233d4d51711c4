import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { CompiledQuery, type DatabaseConnection, Kysely, PostgresDialect, SqliteDialect, SqliteDriver } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";

export type Dialect = "sqlite" | "postgres";

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL only: use (and create) this schema, so parallel test files never share tables. */
  schema?: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

/** Opens `sqlite:<path>` or `postgres://…`. */
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<DatabaseHandle> {
  if (url.startsWith("sqlite:")) return openSqlite(url.slice("sqlite:".length));
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return openPostgres(url, options);
  throw new Error(`unsupported DATABASE_URL scheme: ${url.split(":")[0]} (use sqlite: or postgres://)`);
}

function openSqlite(path: string): DatabaseHandle {
  const file = path === ":memory:" ? path : resolve(path);
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  // The busy timeout first: switching to WAL itself waits for another process's lock.
  const sqlite = new SqliteDatabase(file, { timeout: BUSY_TIMEOUT_MS });
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("synchronous = NORMAL");
  // Erased health data must not linger in free pages of the file.
  sqlite.pragma("secure_delete = ON");
  reusePreparedStatements(sqlite);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite) });
  return { db, dialect: "sqlite", close: () => db.destroy() };
}

/** Distinct SQL texts whose prepared statements are kept (Kysely's queries are a few hundred shapes). */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * Kysely prepares every query anew; compiling the SQL was the largest single
 * cost of an inbound activity. Statements are kept by their SQL text and
 * reused unless one is still being iterated (a streamed query), and only
 * Kysely holds this handle, so no one switches a kept statement's mode.
 */
function reusePreparedStatements(sqlite: SqliteDatabase.Database): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const kept = new Map<string, SqliteDatabase.Statement>();
  sqlite.prepare = ((sql: string) => {
    const statement = kept.get(sql);
    if (statement && !statement.busy) return statement;
    const fresh = prepare(sql);
    if (!statement) {
      if (kept.size >= STATEMENT_CACHE_SIZE) kept.delete(kept.keys().next().value as string);
      kept.set(sql, fresh);
    }
    return fresh;
  }) as typeof sqlite.prepare;
}

/** How long a write waits for another process (the CLI beside the server) to finish its write. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Transactions take the write lock when they begin (`BEGIN IMMEDIATE`). A
 * deferred transaction that reads and then writes while another process has
 * written meanwhile fails at once with "database is locked", the busy
 * timeout notwithstanding (SQLite cannot upgrade its stale read snapshot);
 * one that starts as a writer waits its turn instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase.Database;

  constructor(database: SqliteDatabase.Database) {
    super({ database });
    this.#database = database;
  }

  override createDriver() {
    return new ImmediateSqliteDriver({ database: this.#database });
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

async function openPostgres(url: string, options: OpenOptions): Promise<DatabaseHandle> {
  const schema = options.schema;
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: "postgres", close: () => db.destroy() };
}
