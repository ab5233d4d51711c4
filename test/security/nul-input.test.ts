// A NUL character in search, feed, discovery and notification input (found by
// review): PostgreSQL refuses NUL in text parameters (22021), so each is
// refused at the door with a 4xx, never reaching the database as a 500.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedCommunity, seedUser } from "../helpers/seed.ts";

describe.each(dialects)("NUL in issue 12 input (%s)", (dialect) => {
  let instance: TestInstance;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    const admin = await seedUser(instance, "admin", { role: "admin" });
    await seedCommunity(instance, admin, { slug: "chronicpain" });
  });
  afterAll(async () => instance?.stop());

  const status = async (path: string) =>
    (await fetch(`${instance.url}${path}`, { headers: { Accept: "text/html" }, redirect: "manual" })).status;

  it("search by name (people, communities, hashtags) answers below 500", async () => {
    expect(await status("/search?q=pain%00x")).toBeLessThan(500);
  });

  it("a hashtag feed answers below 500", async () => {
    expect(await status("/tags/pain%00.rss")).toBeLessThan(500);
  });

  it("the discovery links of an actor page or a post page answer below 500", async () => {
    expect(await status("/@chronicpain%00")).toBeLessThan(500);
    expect(await status("/posts/x%00")).toBeLessThan(500);
  });

  it("a community's active-sort cursor answers below 500", async () => {
    const cursor = encodeURIComponent("\u0000_00000000-0000-0000-0000-000000000000");
    expect(await status(`/@chronicpain?sort=active&cursor=${cursor}`)).toBeLessThan(500);
  });

  it("the notifications page's cursor and the ids of /notifications/read answer below 500", async () => {
    await seedUser(instance, "reader");
    const client = await loggedIn(instance, "reader");
    expect((await client.get("/notifications?cursor=%00")).status).toBeLessThan(500);
    expect((await client.post("/notifications/read", { ids: "a\u0000b" })).status).toBeLessThan(500);
  });
});
