import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCommunity, getCommunity } from "../../src/communities/service.ts";
import { createThread } from "../../src/posts/service.ts";
import type { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedUser } from "../helpers/seed.ts";

/** Titles of the thread cards on a page. */
const titles = (html: string) => [...html.matchAll(/<h3><a href="\/posts\/[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);

describe.each(dialects)("members' own filters (%s)", (dialect) => {
  let instance: TestInstance;
  let alice: WebClient;
  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    const admin = await seedUser(instance, "admin", { role: "admin" });
    await createCommunity(instance.runtime.db, instance.url, admin, { slug: "pots", name: "POTS" });
    const community = await getCommunity(instance.runtime.db, "pots");
    const bob = await seedUser(instance, "bob");
    await createThread(instance.runtime.db, instance.url, community, bob.actorId, { title: "Salt loading" });
    await createThread(instance.runtime.db, instance.url, community, admin.actorId, { title: "Welcome" });
    await seedUser(instance, "alice");
    alice = await loggedIn(instance, "alice");
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("a mute hides the person's threads from the member only", async () => {
    expect(titles((await alice.get("/@pots")).text)).toEqual(["Welcome", "Salt loading"]);
    expect((await alice.post("/@bob/mute", {})).status).toBe(303);
    expect(titles((await alice.get("/@pots")).text)).toEqual(["Welcome"]);
    const other = await loggedIn(instance, "admin");
    expect(titles((await other.get("/@pots")).text)).toEqual(["Welcome", "Salt loading"]);
    expect((await alice.post("/@bob/unfilter", {})).status).toBe(303);
    expect(titles((await alice.get("/@pots")).text)).toEqual(["Welcome", "Salt loading"]);
  });

  it("a block also refuses the person's direct messages", async () => {
    expect((await alice.post("/@bob/block", {})).status).toBe(303);
    const bob = await loggedIn(instance, "bob");
    await bob.get("/messages/alice");
    const res = await bob.post("/messages/alice", { body: "hello?" });
    expect(res.status).toBe(403);
    expect(res.text).toContain("does not accept messages from you");
    const stored = await instance.runtime.db
      .selectFrom("posts")
      .select("id")
      .where("audience", "=", "direct")
      .execute();
    expect(stored).toEqual([]);
  });

  it("a server block is listed and validated", async () => {
    await alice.get("/settings/filters");
    expect((await alice.post("/settings/filters/servers", { domain: "Spam.Example" })).status).toBe(200);
    const page = await alice.get("/settings/filters");
    expect(page.text).toContain("spam.example");
    const bad = await alice.post("/settings/filters/servers", { domain: "not a domain" });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("is not a domain name");
  });
});
