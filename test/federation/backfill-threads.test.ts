// Remote communities and threads complete (issue 12), between two real
// Kindred instances: B shows A's community's threads before anyone on B
// joined, fills in a thread's replies from its FEP-7888 `context`, and A serves
// those collections only to whoever may read the thread.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimRefresh } from "../../federation/refreshes.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { createReply } from "../../src/posts/service.ts";
import { dialects, freshDatabase } from "../helpers/databases.ts";
import { Peer } from "../helpers/federation.ts";
import { loggedIn, seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { getJson } from "../interop/support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

describe("remote threads complete, Kindred to Kindred", () => {
  let a: Peer;
  let b: Peer;
  let admin: LocalUser;
  let alice: LocalUser;
  let pots: Community;
  let secret: Community;
  let groupOnB: string;
  let thread: { id: string; iri: string };
  let first: { id: string; iri: string };
  let second: { id: string; iri: string };

  beforeAll(async () => {
    [a, b] = await Promise.all([Peer.start(), Peer.start()]);
    admin = await seedUser(a, "admin", { role: "admin" });
    alice = await seedUser(a, "alice");
    pots = await seedCommunity(a, admin, { slug: "pots", name: "POTS" });
    secret = await seedCommunity(a, admin, { slug: "secret", name: "Secret", visibility: "members" });
    thread = await seedThread(a, pots, admin, "Salt loading", "How much salt?");
    first = await createReply(a.db, a.url, pots, alice.actorId, thread.id, { body: "Three grams for me" });
    second = await createReply(a.db, a.url, pots, admin.actorId, first.id, { body: "Same here, with water" });
    await seedUser(b, "bob");
    groupOnB = (await b.runtime.remote!.resolveActor(pots.iri))!;
    expect(groupOnB).toBeTruthy();
  });
  afterAll(async () => {
    await Promise.all([a?.destroy(), b?.destroy()]);
  });

  const postOnB = (iri: string) => b.db.selectFrom("posts").selectAll().where("iri", "=", iri).executeTakeFirst();
  const titlesOnB = async () =>
    (await b.db.selectFrom("posts").select("title").where("community_id", "=", groupOnB).execute())
      .map((r) => r.title)
      .sort();

  it("lists a remote community's threads before anyone here joined, at most once per interval", async () => {
    expect(await b.db.selectFrom("follows").select("id").where("followee_id", "=", groupOnB).execute()).toEqual([]);
    await b.runtime.remote!.refreshCommunity!(groupOnB);
    expect(await titlesOnB()).toEqual(["Salt loading"]);
    // Only the thread: its replies come with the thread's own refresh.
    expect(await postOnB(first.iri)).toBeUndefined();

    await seedThread(a, pots, alice, "Compression socks");
    await b.runtime.remote!.refreshCommunity!(groupOnB);
    expect(await titlesOnB(), "read again within the interval").toEqual(["Salt loading"]);
    await b.db.deleteFrom("remote_refreshes").where("subject_id", "=", groupOnB).execute();
    await b.runtime.remote!.refreshCommunity!(groupOnB);
    expect(await titlesOnB()).toEqual(["Compression socks", "Salt loading"]);
  });

  it("fills in a thread's replies from its context collection, each in its place", async () => {
    const root = (await postOnB(thread.iri))!;
    await b.runtime.remote!.refreshThread!(root.id);
    const one = await postOnB(first.iri);
    const two = await postOnB(second.iri);
    expect(one?.parent_id).toBe(root.id);
    expect(two?.parent_id).toBe(one?.id);
    expect(two?.thread_id).toBe(root.id);
    expect(two?.community_id).toBe(groupOnB);
  });

  it("refreshes an opened remote thread for signed-in readers, never for visitors", async () => {
    const root = (await postOnB(thread.iri))!;
    const third = await createReply(a.db, a.url, pots, alice.actorId, thread.id, { body: "Electrolyte tabs" });
    await b.db.deleteFrom("remote_refreshes").where("subject_id", "=", root.id).execute();
    const visitor = await fetch(`${b.url}/posts/${root.id}`);
    expect(visitor.status).toBe(200);
    expect(await postOnB(third.iri), "a visitor made B fetch").toBeUndefined();
    const bob = await loggedIn(b, "bob");
    const page = await bob.get(`/posts/${root.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Electrolyte tabs");
  });

  it("carries context and replies on our Page and Note, and lists the thread in them", async () => {
    const page = await getJson(thread.iri);
    expect(page.body.context).toBe(`${thread.iri}/context`);
    expect(page.body.replies).toBe(`${thread.iri}/collections/replies`);
    const note = await getJson(second.iri);
    expect(note.body.context).toBe(`${thread.iri}/context`);
    expect(note.body.replies).toBe(`${second.iri}/collections/replies`);

    const context = await getJson(`${thread.iri}/context`);
    expect(context.status).toBe(200);
    expect(context.body.type).toBe("OrderedCollection");
    const inThread = await a.db.selectFrom("posts").select("id").where("thread_id", "=", thread.id).execute();
    expect(context.body.totalItems).toBe(inThread.length);
    const items = (await getJson(context.body.first)).body.orderedItems as { id: string }[];
    expect(items.map((i) => i.id)).toEqual(expect.arrayContaining([thread.iri, first.iri, second.iri]));
    const replies = await getJson(`${thread.iri}/collections/replies`);
    expect(replies.body.totalItems).toBe(2);
    const direct = (await getJson(replies.body.first)).body.orderedItems as { id: string }[];
    expect(direct.map((i) => i.id)).toContain(first.iri);
    expect(direct.map((i) => i.id)).not.toContain(second.iri);
  });

  it("does not list a members-only thread's collections to unsigned requests", async () => {
    const hidden = await seedThread(a, secret, admin, "Members only", "Not for everyone");
    const reply = await createReply(a.db, a.url, secret, admin.actorId, hidden.id, { body: "Quiet reply" });
    for (const url of [
      `${hidden.iri}/context`,
      `${hidden.iri}/collections/replies`,
      `${reply.iri}/collections/replies`,
    ]) {
      const res = await getJson(url);
      expect(res.status, url).toBe(401);
      expect(res.raw).not.toContain("Quiet reply");
    }
    expect((await getJson(`${a.url}/posts/00000000-0000-7000-8000-000000000000/context`)).status).toBe(404);
  });
});

describe.each(dialects)("refresh claims (%s)", (dialect) => {
  it("grants one refresh per subject within the interval, to one of two concurrent readers", async () => {
    const database = await freshDatabase(dialect);
    try {
      const claims = await Promise.all([
        claimRefresh(database.db, "thread-1", "thread"),
        claimRefresh(database.db, "thread-1", "thread"),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await claimRefresh(database.db, "thread-1", "thread")).toBe(false);
      expect(await claimRefresh(database.db, "thread-2", "thread")).toBe(true);
      // Once the interval has passed, the next reader refreshes again.
      await database.db
        .updateTable("remote_refreshes")
        .set({ refreshed_at: new Date(Date.now() - 6 * 60_000).toISOString() })
        .where("subject_id", "=", "thread-1")
        .execute();
      expect(await claimRefresh(database.db, "thread-1", "thread")).toBe(true);
    } finally {
      await database.drop();
    }
  });
});
