// Search figures: `node bench/search.ts` (PostgreSQL too when TEST_DATABASE_URL
// is set). Bulk-inserts 20,000 posts (the index follows by trigger or generated
// column, so the insert time includes indexing), then times searches for a
// common word, a rare word and two words, as a logged-out visitor and as a
// member (whose muted people and memberships the query checks). Prints figures;
// asserts nothing.
import { sql } from "kysely";
import type { Dialect } from "../db/connect.ts";
import { newId } from "../src/ids.ts";
import { searchPosts } from "../src/search/service.ts";
import { dialects, freshDatabase } from "../test/helpers/databases.ts";

const POSTS = Number(process.env.BENCH_POSTS ?? 20_000);
const at = new Date().toISOString();
const words = [
  "fatigue",
  "salt",
  "compression",
  "doctor",
  "sleep",
  "heat",
  "standing",
  "tilt",
  "fluids",
  "brain",
  "fog",
];
const pick = (i: number, k: number) => words[(i * 7 + k * 3) % words.length];

async function bench(dialect: Dialect) {
  const database = await freshDatabase(dialect);
  const db = database.db;
  try {
    await db
      .insertInto("actors")
      .values({
        id: "author",
        iri: "http://bench/@a",
        type: "Person",
        username: "a",
        username_key: "a",
        host: "bench",
        local: 1,
        manually_approves_followers: 0,
        discoverable: 1,
        created_at: at,
        updated_at: at,
      })
      .execute();
    const started = performance.now();
    for (let i = 0; i < POSTS; i += 500) {
      const rows = Array.from({ length: 500 }, (_, k) => {
        const n = i + k;
        const id = newId();
        const body = Array.from({ length: 60 }, (_, w) => pick(n, w)).join(" ");
        const rare = n % 1000 === 0 ? " zebrafinch" : "";
        return {
          id,
          iri: `http://bench/posts/${id}`,
          type: "Page" as const,
          author_id: "author",
          thread_id: id,
          title: `Day ${n}: ${pick(n, 1)}`,
          content_html: `<p>${body}${rare} &amp; <em>more</em></p>`,
          sensitive: 0 as const,
          audience: "public" as const,
          local: 1 as const,
          published_at: at,
          locked: 0 as const,
          created_at: at,
        };
      });
      await db.insertInto("posts").values(rows).execute();
    }
    const insertMs = performance.now() - started;
    // As autovacuum would soon after a bulk load: without statistics the planner misjudges the joins.
    if (dialect === "postgres") await sql`ANALYZE`.execute(db);
    const time = async (q: string, viewer?: string) => {
      const runs: number[] = [];
      for (let r = 0; r < 15; r++) {
        const t = performance.now();
        await searchPosts(db, dialect, q, viewer);
        runs.push(performance.now() - t);
      }
      runs.sort((a, b) => a - b);
      return `${runs[Math.floor(runs.length / 2)]?.toFixed(1)} ms`;
    };
    console.log(
      JSON.stringify({
        dialect,
        posts: POSTS,
        insertPostsPerSecond: Math.round(POSTS / (insertMs / 1000)),
        commonWordVisitor: await time("fatigue"),
        commonWordMember: await time("fatigue", "author"),
        rareWord: await time("zebrafinch"),
        twoWords: await time("brain fog"),
      }),
    );
  } finally {
    await database.drop();
  }
}

for (const dialect of dialects) await bench(dialect);
