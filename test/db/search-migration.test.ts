import { describe, expect, it } from "vitest";
import { migrations } from "../../db/migrations/index.ts";
import { decodeEntities, searchPosts, snippetParts } from "../../src/search/service.ts";
import { dialects, freshDatabase } from "../helpers/databases.ts";

const at = "2026-01-01T00:00:00.000Z";

describe.each(dialects)("search migration on %s", (dialect) => {
  it("indexes the posts that were there before it, except direct messages and deleted posts", async () => {
    const database = await freshDatabase(dialect, false);
    try {
      const db = database.db;
      // The schema as it was before 0011, with posts in it.
      for (const [name, migration] of Object.entries(migrations)) {
        if (name >= "0011") break;
        await migration.up(db);
      }
      await db
        .insertInto("actors")
        .values({
          id: "a1",
          iri: "http://x/@ann",
          type: "Person",
          username: "ann",
          username_key: "ann",
          host: "x",
          local: 1,
          manually_approves_followers: 0,
          discoverable: 1,
          created_at: at,
          updated_at: at,
        })
        .execute();
      const post = (id: string, title: string | null, html: string, extra: object = {}) => ({
        id,
        iri: `http://x/posts/${id}`,
        type: "Page" as const,
        author_id: "a1",
        thread_id: id,
        title,
        content_html: html,
        sensitive: 0 as const,
        audience: "public" as const,
        local: 1 as const,
        published_at: at,
        locked: 0 as const,
        created_at: at,
        ...extra,
      });
      await db
        .insertInto("posts")
        .values([
          post("p1", "Old thread", "<p>About <strong>hydration</strong> &amp; salt</p>"),
          post("p2", null, "<p>Private hydration note</p>", { audience: "direct" }),
          post("p3", "Gone", "<p>hydration gone</p>", { deleted_at: at }),
        ])
        .execute();
      for (const [name, migration] of Object.entries(migrations)) if (name >= "0011") await migration.up(db);
      const found = await searchPosts(db, dialect, "hydration", undefined);
      expect(found.items.map((p) => p.id)).toEqual(["p1"]);
      const text = found.items[0]?.snippet.map((s) => (s.mark ? `[${s.text}]` : s.text)).join("");
      expect(text?.replace(/\s+/g, " ").trim()).toBe("About [hydration] & salt");
      // And the triggers (or the generated column) follow writes made after it.
      await db.updateTable("posts").set({ content_html: "<p>now about sleep</p>" }).where("id", "=", "p1").execute();
      expect((await searchPosts(db, dialect, "hydration", undefined)).items).toEqual([]);
      expect((await searchPosts(db, dialect, "sleep", undefined)).items.map((p) => p.id)).toEqual(["p1"]);
      await db.deleteFrom("posts").where("id", "=", "p1").execute();
      expect((await searchPosts(db, dialect, "sleep", undefined)).items).toEqual([]);
    } finally {
      await database.drop();
    }
  });
});

describe("snippets", () => {
  it("splits marked text into parts and drops stray markers", () => {
    expect(snippetParts("a \u0002b\u0003 c")).toEqual([
      { text: "a ", mark: false },
      { text: "b", mark: true },
      { text: " c", mark: false },
    ]);
    expect(snippetParts("x\u0003y\u0002z")).toEqual([
      { text: "xy", mark: false },
      { text: "z", mark: false },
    ]);
  });

  it("decodes entities once", () => {
    expect(decodeEntities("&lt;script&gt; &amp;lt; &#39;&#x27; &bogus;")).toBe("<script> &lt; '' &bogus;");
  });
});
