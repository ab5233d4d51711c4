// Looking for left-over personal data: every column of every table of a
// database (found by Kysely's introspection, read over a connection of its
// own), and the raw bytes of a SQLite database file and its write-ahead log.
import { existsSync, readFileSync } from "node:fs";
import { type Kysely, sql } from "kysely";
import { openDatabase } from "../../db/connect.ts";

/** One place a needle was found in a database. */
export interface DbHit {
  needle: string;
  table: string;
  column: string;
  /** The value around the hit, for the failure message. */
  excerpt: string;
}

const excerptOf = (text: string, at: number, length: number) => text.slice(Math.max(0, at - 60), at + length + 60);

/** The text of a cell as it would be compared: strings as they are, bytes as UTF-8; other types hold no text. */
function cellText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  return undefined;
}

/** The schema unqualified names resolve to on PostgreSQL (each test database is one); undefined on SQLite. */
async function ownSchema(db: Kysely<any>): Promise<string | undefined> {
  try {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    return rows[0]?.schema;
  } catch {
    return undefined;
  }
}

/**
 * Every (table, column) whose value contains one of `needles`, compared
 * case-insensitively, across every table the database has (Kysely's own
 * migration tables included) and every column of it, whatever its declared
 * type. Rows are read with `select *`, so a column missing from our schema
 * types is scanned too.
 */
export async function scanDatabase(db: Kysely<any>, needles: readonly string[]): Promise<DbHit[]> {
  // On PostgreSQL only this database's schema: introspection lists (and trips over) other test files' schemas.
  const own = await ownSchema(db);
  const tables =
    own === undefined
      ? await db.introspection.getTables({ withInternalKyselyTables: true })
      : (
          await sql<{ name: string }>`select table_name as name from information_schema.tables
            where table_schema = ${own} and table_type = 'BASE TABLE'`.execute(db)
        ).rows;
  const lowered = needles.map((n) => [n, n.toLowerCase()] as const);
  const hits: DbHit[] = [];
  for (const table of tables) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table.name)}`.execute(db)).rows;
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        const text = cellText(value);
        if (text === undefined) continue;
        const lower = text.toLowerCase();
        for (const [needle, key] of lowered) {
          const at = lower.indexOf(key);
          if (at >= 0) hits.push({ needle, table: table.name, column, excerpt: excerptOf(text, at, key.length) });
        }
      }
    }
  }
  return hits;
}

/** The names of every table and its columns, to show a scan covered them. */
export async function tableColumns(db: Kysely<any>): Promise<Map<string, string[]>> {
  const own = await ownSchema(db);
  if (own === undefined) {
    const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
    return new Map(tables.map((t) => [t.name, t.columns.map((c) => c.name)]));
  }
  // On PostgreSQL only this database's schema: introspection lists (and trips over) other test files' schemas.
  const { rows } = await sql<{ table: string; column: string }>`select table_name as table, column_name as column
    from information_schema.columns where table_schema = ${own} order by table_name, ordinal_position`.execute(db);
  const columns = new Map<string, string[]>();
  for (const r of rows) columns.set(r.table, [...(columns.get(r.table) ?? []), r.column]);
  return columns;
}

/** `scanDatabase` over a fresh connection to `url` (closed afterwards). */
export async function scanDatabaseAt(url: string, needles: readonly string[]): Promise<DbHit[]> {
  const handle = await openDatabase(url);
  try {
    return await scanDatabase(handle.db, needles);
  } finally {
    await handle.close();
  }
}

/** One place a needle was found in a file. */
export interface ByteHit {
  needle: string;
  file: string;
  offset: number;
}

/**
 * Byte offsets of the UTF-8 of each needle (as given, lower-cased and
 * upper-cased) in each file that exists. Files are read raw: free pages,
 * unused space inside pages and log frames are searched like live rows.
 */
export function scanFiles(files: readonly string[], needles: readonly string[]): ByteHit[] {
  const hits: ByteHit[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    for (const needle of needles) {
      for (const form of new Set([needle, needle.toLowerCase(), needle.toUpperCase()])) {
        const pattern = Buffer.from(form, "utf8");
        for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + 1))
          hits.push({ needle, file, offset: at });
      }
    }
  }
  return hits;
}

/** The SQLite database file of a `sqlite:<path>` URL and the write-ahead log beside it. */
export function sqliteFiles(url: string): { db: string; wal: string } {
  if (!url.startsWith("sqlite:")) throw new Error(`not a SQLite URL: ${url}`);
  const path = url.slice("sqlite:".length);
  return { db: path, wal: `${path}-wal` };
}
