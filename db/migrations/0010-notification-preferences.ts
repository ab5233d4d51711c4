import type { Kysely } from "kysely";

// Members' choice of notification kinds (issue 12).
export async function up(_db: Kysely<any>): Promise<void> {}
