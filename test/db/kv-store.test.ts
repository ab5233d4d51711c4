import type { KvKey } from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import { describe, expect, it } from "vitest";
import { KyselyKvStore } from "../../db/kv-store.ts";
import { dialects, freshDatabase } from "../helpers/databases.ts";

async function collect(store: KyselyKvStore, prefix?: KvKey) {
  const out: { key: KvKey; value: unknown }[] = [];
  for await (const entry of store.list(prefix)) out.push({ key: entry.key, value: entry.value });
  return out.sort((a, b) => compareKeys(a.key, b.key));
}

/** Element-wise, shorter first: ["a"] < ["a","b"] < ["ab"]. */
function compareKeys(a: KvKey, b: KvKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

describe.each(dialects)("KyselyKvStore on %s", (dialect) => {
  it("gets, sets, overwrites and deletes JSON values", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const store = new KyselyKvStore(tdb.db);
      expect(await store.get(["missing"])).toBeUndefined();
      await store.set(["doc", "https://example.com/a"], { "@context": "x", n: 1, list: [1, "two", null] });
      expect(await store.get(["doc", "https://example.com/a"])).toEqual({
        "@context": "x",
        n: 1,
        list: [1, "two", null],
      });
      await store.set(["doc", "https://example.com/a"], "replaced");
      expect(await store.get(["doc", "https://example.com/a"])).toBe("replaced");
      await store.set(["n"], 0);
      expect(await store.get(["n"])).toBe(0);
      await store.delete(["doc", "https://example.com/a"]);
      expect(await store.get(["doc", "https://example.com/a"])).toBeUndefined();
      await store.delete(["never-set"]);
      expect(await store.get(["n"])).toBe(0);
      await expect(store.set(["u"], undefined)).rejects.toThrow(TypeError);
    } finally {
      await tdb.drop();
    }
  });

  it("stores the ttl as an expiry and hides and cleans up expired entries", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const store = new KyselyKvStore(tdb.db);
      const before = Date.now();
      await store.set(["long"], "stays", { ttl: Temporal.Duration.from({ hours: 1 }) });
      await store.set(["short"], "goes", { ttl: Temporal.Duration.from({ milliseconds: 50 }) });
      await store.set(["forever"], "stays");
      const rows = await tdb.db.selectFrom("fedify_kv").selectAll().orderBy("key").execute();
      const expiry = Object.fromEntries(rows.map((r) => [r.key, r.expires_at]));
      expect(expiry['["forever"]']).toBeNull();
      const longMs = Date.parse(expiry['["long"]']!) - before;
      expect(longMs).toBeGreaterThanOrEqual(3_600_000);
      expect(longMs).toBeLessThan(3_600_000 + 10_000);
      const shortMs = Date.parse(expiry['["short"]']!) - before;
      expect(shortMs).toBeGreaterThanOrEqual(50);
      expect(shortMs).toBeLessThan(10_000);

      await new Promise((r) => setTimeout(r, 80));
      expect(await collect(store)).toEqual([
        { key: ["forever"], value: "stays" },
        { key: ["long"], value: "stays" },
      ]);
      expect(await store.get(["short"])).toBeUndefined();
      expect(await store.get(["long"])).toBe("stays");
      const left = await tdb.db.selectFrom("fedify_kv").select("key").orderBy("key").execute();
      expect(left.map((r) => r.key)).toEqual(['["forever"]', '["long"]']);

      // Setting again without ttl clears the expiry.
      await store.set(["long"], "now forever");
      const row = await tdb.db
        .selectFrom("fedify_kv")
        .selectAll()
        .where("key", "=", '["long"]')
        .executeTakeFirstOrThrow();
      expect(row.expires_at).toBeNull();
    } finally {
      await tdb.drop();
    }
  });

  it("cas swaps only when the current value deep-equals the expected one", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const store = new KyselyKvStore(tdb.db);
      // Missing key: expected undefined inserts, anything else fails.
      expect(await store.cas(["c"], "x", 1)).toBe(false);
      expect(await store.get(["c"])).toBeUndefined();
      expect(await store.cas(["c"], undefined, { a: 1, b: [2] })).toBe(true);
      expect(await store.get(["c"])).toEqual({ a: 1, b: [2] });
      // Present key: expected undefined fails; a mismatch fails and changes nothing.
      expect(await store.cas(["c"], undefined, "nope")).toBe(false);
      expect(await store.cas(["c"], { a: 1, b: [3] }, "nope")).toBe(false);
      expect(await store.get(["c"])).toEqual({ a: 1, b: [2] });
      // Deep equality, whatever the key order.
      expect(await store.cas(["c"], { b: [2], a: 1 }, 2, { ttl: Temporal.Duration.from({ milliseconds: 30 }) })).toBe(
        true,
      );
      expect(await store.get(["c"])).toBe(2);
      // An expired entry counts as missing.
      await new Promise((r) => setTimeout(r, 60));
      expect(await store.cas(["c"], 2, 3)).toBe(false);
      expect(await store.cas(["c"], undefined, 3)).toBe(true);
      expect(await store.get(["c"])).toBe(3);
      const row = await tdb.db.selectFrom("fedify_kv").selectAll().where("key", "=", '["c"]').executeTakeFirstOrThrow();
      expect(row.expires_at).toBeNull();
    } finally {
      await tdb.drop();
    }
  });

  it("cas is atomic under concurrent callers", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const store = new KyselyKvStore(tdb.db);
      // Racing inserts of a missing key: exactly one wins.
      const inserts = await Promise.all(Array.from({ length: 10 }, (_, i) => store.cas(["race"], undefined, i)));
      expect(inserts.filter(Boolean)).toHaveLength(1);
      expect(await store.get(["race"])).toBe(inserts.indexOf(true));
      // A counter incremented with retrying cas loses no increment.
      await store.set(["counter"], 0);
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (;;) {
            const n = (await store.get<number>(["counter"]))!;
            if (await store.cas(["counter"], n, n + 1)) return;
          }
        }),
      );
      expect(await store.get(["counter"])).toBe(8);
    } finally {
      await tdb.drop();
    }
  });

  it("lists exact key-array prefixes, including keys with LIKE wildcards and quotes", async () => {
    const tdb = await freshDatabase(dialect);
    try {
      const store = new KyselyKvStore(tdb.db);
      const keys: KvKey[] = [
        ["a"],
        ["a", "b"],
        ["a", "b", "c"],
        ["ab"],
        ["ab", "x"],
        ["A", "b"],
        ["a%"],
        ["a%", "1"],
        ["a_"],
        ['a"'],
        ['a"', "q"],
        ["a\\"],
        ["x", "a"],
      ];
      for (const [i, key] of keys.entries()) await store.set(key, i);
      const keysOf = async (prefix?: KvKey) => (await collect(store, prefix)).map((e) => e.key);

      expect(await keysOf(["a"])).toEqual([["a"], ["a", "b"], ["a", "b", "c"]]);
      expect(await keysOf(["a", "b"])).toEqual([
        ["a", "b"],
        ["a", "b", "c"],
      ]);
      expect(await keysOf(["ab"])).toEqual([["ab"], ["ab", "x"]]);
      expect(await keysOf(["A"])).toEqual([["A", "b"]]);
      expect(await keysOf(["a%"])).toEqual([["a%"], ["a%", "1"]]);
      expect(await keysOf(["a_"])).toEqual([["a_"]]);
      expect(await keysOf(['a"'])).toEqual([['a"'], ['a"', "q"]]);
      expect(await keysOf(["a\\"])).toEqual([["a\\"]]);
      expect(await keysOf(["nothing"])).toEqual([]);
      expect(await collect(store, ["a", "b", "c"])).toEqual([{ key: ["a", "b", "c"], value: 2 }]);
      expect(await keysOf()).toHaveLength(keys.length);
    } finally {
      await tdb.drop();
    }
  });
});
