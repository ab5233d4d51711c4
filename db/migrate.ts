import { type DatabaseIntrospector, type Kysely, PostgresAdapter, sql, type TableMetadata } from "kysely";
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
    db: schema ? withOwnSchemaIntrospection(db, schema) : db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r) => r.status === "Error");
  if (error !== undefined || failed !== undefined) {
    const name = failed?.migrationName ?? "(migrator)";
    throw new Error(`migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return { applied: results.filter((r) => r.status === "Success").map((r) => r.migrationName) };
}

/**
 * `db` whose introspection sees only `schema`. Kysely's own reads every
 * schema's columns through functions that fail when another schema is
 * dropped at that moment (several databases on one server, as in tests);
 * the migrator only needs to know which of its tables exist here.
 */
function withOwnSchemaIntrospection(db: Kysely<any>, schema: string): Kysely<any> {
  const introspection: DatabaseIntrospector = {
    getSchemas: async () =>
      (await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(db)).rows,
    getTables: async () =>
      (
        await sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_schema = ${schema}`.execute(db)
      ).rows.map((t): TableMetadata => ({ name: t.name, schema, isView: false, isForeign: false, columns: [] })),
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === "introspection") return introspection;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
