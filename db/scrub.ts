import { type Kysely, sql } from "kysely";
import type { Dialect } from "./connect.ts";
import type { Database } from "./schema.ts";

/**
 * After an erasure. On SQLite, `secure_delete` zeroes erased rows in the
 * database file, but the write-ahead log still holds the pages as they were
 * until a checkpoint: this copies the log into the file and truncates it.
 * PostgreSQL keeps dead row versions until VACUUM reclaims them (autovacuum
 * does, eventually; README.md says how to force it).
 */
export async function scrubErasedPages(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect !== "sqlite") return;
  // Busy while another connection (a CLI next to the server) reads: retry a little; upkeep runs it again hourly.
  for (let attempt = 0; attempt < 10; attempt++) {
    const row = (await sql<{ busy: number }>`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db)).rows[0];
    if (!row || row.busy === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
