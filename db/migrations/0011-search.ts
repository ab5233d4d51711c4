import type { Kysely } from "kysely";

// Full-text search: SQLite FTS5 and PostgreSQL tsvector (issue 12).
export async function up(_db: Kysely<any>): Promise<void> {}
