import type { Kysely } from "kysely";

// What backfilling remote threads and communities keeps (issue 12).
export async function up(_db: Kysely<any>): Promise<void> {}
