import type { Kysely } from "kysely";
import type { Database, Db } from "./schema.ts";

/** Runs `fn` in a transaction, or inside the caller's when `db` already is one. */
export async function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  return (db as Kysely<Database>).transaction().execute(fn);
}
