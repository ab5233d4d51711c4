import { sql, type Kysely } from "kysely";
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
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
}
