import { type Kysely, PostgresAdapter, sql } from "kysely";
import { Migrator } from "kysely/migration";
import { migrations } from "./migrations/index.ts";

export interface MigrationReport {
  applied: string[];
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationReport> {
  // On PostgreSQL, Kysely looks for its bookkeeping tables in every schema;
  // pin them to the current one so databases in separate schemas (tests,
  // several instances on one server) never see each other's migrations.
  const schema =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  let outcome = await migrator.migrateToLatest();
  // Kysely looks for its tables by introspecting every schema, which fails when another
  // schema is dropped at that moment (several databases on one server): look again.
  for (let retry = 0; retry < 20 && schema && trippedOverOthers(outcome); retry++)
    outcome = await migrator.migrateToLatest();
  const { error, results = [] } = outcome;
  const failed = results.find((r) => r.status === "Error");
  if (error !== undefined || failed !== undefined) {
    const name = failed?.migrationName ?? "(migrator)";
    throw new Error(`migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return { applied: results.filter((r) => r.status === "Success").map((r) => r.migrationName) };
}

/** Codes PostgreSQL answers when a schema, table or column vanishes while the catalog is read. */
const VANISHED = new Set(["3F000", "42P01", "42703"]);

/**
 * Whether the migrator failed before running any migration because something
 * it introspected (in any schema) was dropped meanwhile.
 */
function trippedOverOthers(outcome: Awaited<ReturnType<Migrator["migrateToLatest"]>>): boolean {
  if (outcome.error === undefined || outcome.results?.some((r) => r.status !== "NotExecuted")) return false;
  for (let e: unknown = outcome.error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (VANISHED.has(String((e as { code?: unknown }).code))) return true;
  }
  return false;
}
