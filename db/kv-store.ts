// Fedify's key–value store (caches, idempotency records, circuit breaker
// state…) on our own `fedify_kv` table, so it works on SQLite and PostgreSQL
// alike and lives in the same backups as everything else.
import { isDeepStrictEqual } from "node:util";
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from "kysely";
import type { Database } from "./schema.ts";

type Eb = ExpressionBuilder<Database, "fedify_kv">;

export class KyselyKvStore implements KvStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const row = await this.#db
      .selectFrom("fedify_kv")
      .select(["value", "expires_at"])
      .where("key", "=", encodeKey(key))
      .executeTakeFirst();
    if (row === undefined) return undefined;
    if (isExpired(row.expires_at)) {
      // Lazy cleanup; conditional so a concurrent fresh `set` is not lost.
      await this.#db.deleteFrom("fedify_kv").where("key", "=", encodeKey(key)).where(expired).execute();
      return undefined;
    }
    return JSON.parse(row.value) as T;
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    const row = { key: encodeKey(key), value: encodeValue(value), expires_at: expiresAt(options) };
    await this.#db
      .insertInto("fedify_kv")
      .values(row)
      .onConflict((oc) => oc.column("key").doUpdateSet({ value: row.value, expires_at: row.expires_at }))
      .execute();
  }

  async delete(key: KvKey): Promise<void> {
    await this.#db.deleteFrom("fedify_kv").where("key", "=", encodeKey(key)).execute();
  }

  /** Compares with deep equality (like Fedify's MemoryKvStore); a missing or expired entry equals `undefined`. */
  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    const k = encodeKey(key);
    // Swapping in `undefined` means removing the entry (Fedify clears a host's
    // circuit-breaker state this way after a successful delivery).
    const value = newValue === undefined ? undefined : encodeValue(newValue);
    const expires_at = expiresAt(options);
    // JSON round trip so a class instance compares like the plain object we would have stored.
    const expected = expectedValue === undefined ? undefined : JSON.parse(encodeValue(expectedValue));
    return await this.#db.transaction().execute(async (tx) => {
      // A no-op write first: on PostgreSQL it row-locks an existing entry (like
      // SELECT … FOR UPDATE); on SQLite it takes the database write lock up
      // front (like BEGIN IMMEDIATE). Either way nobody can change the entry
      // between our read and our write.
      await tx
        .updateTable("fedify_kv")
        .set((eb) => ({ key: eb.ref("key") }))
        .where("key", "=", k)
        .execute();
      const row = await tx
        .selectFrom("fedify_kv")
        .select(["value", "expires_at"])
        .where("key", "=", k)
        .executeTakeFirst();
      const current = row === undefined || isExpired(row.expires_at) ? undefined : JSON.parse(row.value);
      if (!isDeepStrictEqual(current, expected)) return false;
      if (value === undefined) {
        if (row !== undefined) await tx.deleteFrom("fedify_kv").where("key", "=", k).execute();
        return true;
      }
      if (row !== undefined) {
        await tx.updateTable("fedify_kv").set({ value, expires_at }).where("key", "=", k).execute();
        return true;
      }
      // No row to lock: a concurrent cas may insert the same key; the loser inserts nothing.
      const result = await tx
        .insertInto("fedify_kv")
        .values({ key: k, value, expires_at })
        .onConflict((oc) => oc.column("key").doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    });
  }

  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    const matches = (eb: Eb): Expression<SqlBool> => {
      if (prefix === undefined) return eb.lit(true);
      // A key-array prefix is, in JSON, either the whole key `["a"]` or the
      // start `["a",` of a longer key: `["ab"]` does not match `["a"]`.
      const exact = encodeKey(prefix);
      const pattern = `${escapeLike(exact.slice(0, -1))},%`;
      return eb.or([eb("key", "=", exact), sql<SqlBool>`${eb.ref("key")} like ${pattern} escape '\\'`]);
    };
    await this.#db.deleteFrom("fedify_kv").where(matches).where(expired).execute();
    const rows = await this.#db
      .selectFrom("fedify_kv")
      .select(["key", "value"])
      .where(matches)
      .orderBy("key")
      .execute();
    for (const row of rows) {
      const key = JSON.parse(row.key) as KvKey;
      // SQLite's LIKE ignores ASCII case: check the prefix exactly here.
      if (prefix !== undefined && !prefix.every((part, i) => key[i] === part)) continue;
      yield { key, value: JSON.parse(row.value) };
    }
  }
}

function encodeKey(key: KvKey): string {
  return JSON.stringify(key);
}

function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError("KvStore values must be JSON-serializable");
  return json;
}

function expiresAt(options?: KvStoreSetOptions): string | null {
  if (options?.ttl == null) return null;
  // A Temporal.Duration from Fedify; days count as 24 hours.
  const ms: number = options.ttl.total({ unit: "millisecond" });
  return new Date(Date.now() + ms).toISOString();
}

function isExpired(expires_at: string | null): boolean {
  return expires_at !== null && expires_at <= new Date().toISOString();
}

function expired(eb: Eb): Expression<SqlBool> {
  return eb.and([eb("expires_at", "is not", null), eb("expires_at", "<=", new Date().toISOString())]);
}

/** Escapes LIKE wildcards and the escape character itself (backslash). */
function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
