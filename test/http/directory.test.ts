// The directory of communities (/communities, and a visitor's home page) and
// a community page's orders over real HTTP: new, active (latest reply) and top
// (likes of threads published within a period), pinned threads first, and
// cursor pagination that returns every thread exactly once in every order.
import SqliteDatabase from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/schema.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { communityDirectory, joinedCommunities } from "../../src/communities/directory.ts";
import { decideMembership, join } from "../../src/communities/membership.ts";
import { listFeed, listThreads } from "../../src/posts/queries.ts";
import { createReply, like } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects, freshDatabase } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { element, loggedIn, nextLink, seedCommunity, seedThread, seedUser, threadTitles } from "../helpers/seed.ts";

const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
const DAY = 24;

describe.each(dialects)("community directory and thread orders (%s)", (dialect) => {
  let instance: TestInstance;
  let boss: LocalUser;
  let likers: LocalUser[];
  let anonymous: WebClient;
  let member: WebClient;
  type Community = Awaited<ReturnType<typeof seedCommunity>>;
  let sorts: Community;
  let many: Community;
  /** Titles of the 31 threads of `many`, none pinned. */
  const manyTitles: string[] = [];

  const db = () => instance.runtime.db;
  const setPublished = (id: string, at: string) =>
    db().updateTable("posts").set({ published_at: at }).where("id", "=", id).execute();

  /** A thread of `sorts` published `hours` ago, liked by `likes` people, with replies `replyHours` ago. */
  async function thread(title: string, hours: number, likes: number, replyHours: number[] = []) {
    const post = await seedThread(instance, sorts, boss, title, `About ${title}.`);
    await setPublished(post.id, ago(hours));
    for (const liker of likers.slice(0, likes)) await like(db(), instance.url, post.id, liker.actorId);
    for (const h of replyHours) {
      const reply = await createReply(db(), instance.url, sorts, boss.actorId, post.id, { body: `Re ${title}` });
      await setPublished(reply.id, ago(h));
    }
    return post;
  }

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    boss = await seedUser(instance, "boss", { role: "admin" });
    likers = await Promise.all([1, 2, 3, 4, 5].map((i) => seedUser(instance, `liker${i}`)));
    sorts = await seedCommunity(instance, boss, { slug: "sorts", name: "Sorting things" });
    many = await seedCommunity(instance, boss, { slug: "many", name: "Many threads" });
    const circle = await seedCommunity(instance, boss, {
      slug: "circle",
      name: "Closed circle",
      visibility: "members",
    });
    for (const l of likers.slice(0, 3)) await join(db(), instance.url, sorts, l.actorId);
    expect(await join(db(), instance.url, circle, likers[0]!.actorId)).toBe("pending");
    await decideMembership(db(), circle.id, boss.actorId, likers[0]!.actorId, true);

    // Created oldest first, so "new" (by id) lists them C, A, B, E.
    const pinned = await thread("Pinned welcome", 100 * DAY, 0);
    await db()
      .updateTable("posts")
      .set({ pinned_at: ago(1) })
      .where("id", "=", pinned.id)
      .execute();
    await thread("E old and loved", 60 * DAY, 5);
    await thread("B quiet until an hour ago", 20 * DAY, 0, [19 * DAY, 1]);
    await thread("A ten days old", 10 * DAY, 1);
    await thread("C five days old", 5 * DAY, 3, [3 * DAY]);
    // A deleted reply does not make its thread active.
    const deleted = await createReply(db(), instance.url, sorts, boss.actorId, pinned.id, { body: "gone" });
    await db()
      .updateTable("posts")
      .set({ published_at: ago(0), deleted_at: ago(0) })
      .where("id", "=", deleted.id)
      .execute();

    // 31 threads, many of them tied on every key (same time, no likes, no replies).
    const tied = ago(2 * DAY);
    for (let i = 0; i < 31; i++) {
      const title = `Thread ${String(i).padStart(2, "0")}`;
      const post = await seedThread(instance, many, boss, title);
      await setPublished(post.id, i % 3 === 0 ? tied : ago(i));
      if (i % 5 === 0) await like(db(), instance.url, post.id, likers[i % 5]!.actorId);
      if (i % 7 === 0) {
        const reply = await createReply(db(), instance.url, many, boss.actorId, post.id, { body: "reply" });
        await setPublished(reply.id, ago(i % 2 === 0 ? 0.5 : 1));
      }
      manyTitles.push(title);
    }
    anonymous = new WebClient(instance.url);
    member = await loggedIn(instance, "liker1");
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const titles = async (path: string) => {
    const res = await anonymous.get(path);
    expect(res.status, `${path}: ${res.text.slice(0, 300)}`).toBe(200);
    return threadTitles(res.text);
  };

  it("new (the default) lists threads newest first, the pinned one first", async () => {
    const expected = [
      "Pinned welcome",
      "C five days old",
      "A ten days old",
      "B quiet until an hour ago",
      "E old and loved",
    ];
    expect(await titles("/@sorts")).toEqual(expected);
    expect(await titles("/@sorts?sort=new")).toEqual(expected);
  });

  it("active orders by the latest reply still there (else the thread's own time), pinned first", async () => {
    expect(await titles("/@sorts?sort=active")).toEqual([
      "Pinned welcome",
      "B quiet until an hour ago",
      "C five days old",
      "A ten days old",
      "E old and loved",
    ]);
  });

  it("top orders by likes among threads published within the period, pinned first", async () => {
    expect(await titles("/@sorts?sort=top&period=all")).toEqual([
      "Pinned welcome",
      "E old and loved",
      "C five days old",
      "A ten days old",
      "B quiet until an hour ago",
    ]);
    expect(await titles("/@sorts?sort=top&period=month")).toEqual([
      "Pinned welcome",
      "C five days old",
      "A ten days old",
      "B quiet until an hour ago",
    ]);
    expect(await titles("/@sorts?sort=top&period=week")).toEqual(["Pinned welcome", "C five days old"]);
    expect(await titles("/@sorts?sort=top&period=day")).toEqual(["Pinned welcome"]);
  });

  it("sort links work without JavaScript and mark the current order", async () => {
    const page = (await anonymous.get("/@sorts?sort=top&period=month")).text;
    const nav = element(page, '<nav class="sort" aria-label="Sort threads"') ?? "";
    expect(nav).toContain('href="/@sorts"');
    expect(nav).toContain('href="/@sorts?sort=active"');
    expect(nav).toMatch(/<a href="\/@sorts\?sort=top" aria-current="page">/);
    const periods = element(page, '<nav class="sort" aria-label="Top of"') ?? "";
    expect(periods).toMatch(/<a href="\/@sorts\?sort=top&amp;period=month" aria-current="page">/);
    expect(periods).toContain('href="/@sorts?sort=top&amp;period=year"');
  });

  it("refuses an unknown order or period, and a cursor it did not give out, with a reason", async () => {
    const badSort = await anonymous.get("/@sorts?sort=hot");
    expect(badSort.status).toBe(422);
    expect(badSort.text).toContain("sort");
    expect((await anonymous.get("/@sorts?sort=top&period=decade")).status).toBe(422);
    const badCursor = await anonymous.get("/@sorts?sort=active&cursor=nonsense");
    expect(badCursor.status).toBe(400);
    expect(badCursor.text).toContain("cursor");
  });

  for (const path of ["/@many", "/@many?sort=active", "/@many?sort=top&period=all", "/@many?sort=top&period=week"]) {
    it(`pagination of ${path} returns every thread exactly once, in order`, async () => {
      const seen: string[] = [];
      let next: string | undefined = path;
      let pages = 0;
      while (next) {
        const res = await member.get(next);
        expect(res.status, next).toBe(200);
        seen.push(...threadTitles(res.text));
        next = nextLink(res.text);
        pages++;
        expect(pages, "pages").toBeLessThan(5);
      }
      expect(pages).toBe(2);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual(manyTitles);
      // The same order as one long page would give: compared with the single-page listing.
      const sort = path.includes("active") ? "active" : path.includes("top") ? "top" : "new";
      const all = await listThreads(db(), many.id, {
        sort,
        period: path.includes("week") ? "week" : "all",
        limit: 100,
      });
      expect(seen).toEqual(all.items.map((p) => p.title));
    });
  }

  it("the directory lists this instance's communities with member and activity counts, never members' names", async () => {
    const res = await anonymous.get("/communities");
    expect(res.status).toBe(200);
    const card = element(res.text, '<li class="card">\n  <h3><a href="/@sorts">') ?? "";
    expect(card).toContain("Sorting things");
    // The owner and three likers joined; threads of the last 30 days: A, B and C.
    expect(card).toContain("4 members");
    expect(card).toContain("3 threads in the last 30 days");
    expect(card).toMatch(/last post <time datetime="[^"]+"/);
    const circle = element(res.text, '<li class="card">\n  <h3><a href="/@circle">') ?? "";
    expect(circle).toContain("2 members");
    expect(circle).toContain("Members only");
    expect(circle).toContain("0 threads in the last 30 days");
    expect(res.text).not.toContain("liker1");
    // A visitor's home page is the instance and the same directory.
    const home = await anonymous.get("/");
    expect(home.text).toContain('<h2 id="communities-h">Communities on this instance</h2>');
    expect(home.text).toContain('href="/@circle"');
  });
});

describe("query plans of the lists (sqlite)", () => {
  it("each order reads a community's threads through its index, never a scan of posts or actors", async () => {
    const database = await freshDatabase("sqlite");
    const sqlite = new SqliteDatabase(database.url.slice("sqlite:".length));
    const queries: { sql: string; parameters: readonly unknown[] }[] = [];
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: sqlite }),
      log: (event) => {
        if (event.level === "query") queries.push(event.query);
      },
    });
    try {
      const id = "019abcde-0000-7000-8000-000000000000";
      for (const sort of ["new", "active", "top"] as const) {
        await listThreads(db, id, { sort, period: "week", viewerId: id });
        await listThreads(db, id, { sort, cursor: sort === "new" ? id : `1_${id}` });
      }
      await listFeed(db, id, { communitiesOnly: true });
      await joinedCommunities(db, id);
      await communityDirectory(db);
      expect(queries.length).toBeGreaterThanOrEqual(12);
      for (const q of queries) {
        const params = q.parameters.map((p) => (typeof p === "boolean" ? Number(p) : p));
        const plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...params) as { detail: string }[]).map(
          (r) => r.detail,
        );
        expect(
          plan.filter((d) => /^SCAN (posts|actors|r|l|likes)\b/.test(d)),
          `${q.sql}\n${plan.join("\n")}`,
        ).toEqual([]);
        if (q.sql.includes('"posts"."community_id" = ?'))
          // One of the community indexes (db/migrations 0001 and 0023), whichever fits the query best.
          expect(plan.some((d) => /USING (COVERING )?INDEX posts_community_/.test(d))).toBe(true);
      }
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
