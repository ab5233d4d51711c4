import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followRemote } from "../../src/follows/service.ts";
import { eventually, Peer } from "../helpers/federation.ts";
import { seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";

describe("joining a remote community", () => {
  let a: Peer;
  let b: Peer;
  beforeAll(async () => {
    [a, b] = await Promise.all([Peer.start(), Peer.start()]);
  });
  afterAll(async () => {
    await Promise.all([a?.destroy(), b?.destroy()]);
  });

  it("fetches its latest threads from its outbox, so the page is not empty", async () => {
    const admin = await seedUser(a, "admin", { role: "admin" });
    const community = await seedCommunity(a, admin, { slug: "eds", name: "Ehlers-Danlos" });
    const ref = { id: community.id, visibility: "public" as const, joinPolicy: "open" as const };
    await seedThread(a, ref, admin, "Older thread one");
    await seedThread(a, ref, admin, "Older thread two");
    const bob = await seedUser(b, "bob");
    const groupId = await b.runtime.remote!.resolveActor(community.iri);
    expect(groupId).not.toBeNull();
    await followRemote(b.runtime.db, b.url, bob.actorId, groupId!);
    const titles = await eventually("both older threads on B", async () => {
      const rows = await b.runtime.db
        .selectFrom("posts")
        .select("title")
        .where("community_id", "=", groupId!)
        .orderBy("title")
        .execute();
      return rows.length === 2 ? rows.map((r) => r.title) : undefined;
    });
    expect(titles).toEqual(["Older thread one", "Older thread two"]);
  });
});
