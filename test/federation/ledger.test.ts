import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerAndObject } from "../../federation/ledger.ts";
import { getCommunity } from "../../src/communities/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { eventually, Peer } from "../helpers/federation.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";

describe("ownerAndObject", () => {
  it("credits a post to its author, whoever sends or re-shares it", () => {
    const page = { id: "https://a.example/posts/1", type: "Page", attributedTo: "https://a.example/@alice" };
    expect(ownerAndObject({ type: "Create", actor: "https://a.example/@alice", object: page })).toEqual({
      owner: "https://a.example/@alice",
      object: page.id,
    });
    expect(
      ownerAndObject({
        type: "Announce",
        actor: "https://a.example/@group",
        object: { type: "Create", actor: "https://a.example/@alice", object: page },
      }),
    ).toEqual({ owner: "https://a.example/@alice", object: page.id });
    expect(ownerAndObject({ type: "Announce", actor: "https://a.example/@group", object: page })).toEqual({
      owner: "https://a.example/@alice",
      object: page.id,
    });
    expect(ownerAndObject({ type: "Like", actor: "https://a.example/@bo", object: page.id })).toEqual({
      owner: "https://a.example/@bo",
      object: page.id,
    });
  });
});

describe("the delivery ledger", () => {
  let a: Peer;
  let b: Peer;
  beforeAll(async () => {
    [a, b] = await Promise.all([Peer.start(), Peer.start()]);
  });
  afterAll(async () => {
    await Promise.all([a?.destroy(), b?.destroy()]);
  });

  const rowsFor = (objectIri: string) =>
    a.runtime.db
      .selectFrom("deliveries")
      .select(["inbox_url", "host", "status", "attempts", "last_error", "actor_id"])
      .where("object_iri", "=", objectIri)
      .execute();

  it("records which servers received a member's post, retries while one is down, and marks it delivered after", async () => {
    const admin = await seedUser(a, "admin", { role: "admin" });
    const community = await seedCommunity(a, admin, { slug: "mcas", name: "MCAS" });
    const bob = await seedUser(b, "bob");
    const groupId = await b.runtime.remote!.resolveActor(community.iri);
    await followRemote(b.runtime.db, b.url, bob.actorId, groupId!);
    await eventually(
      "bob's membership",
      async () =>
        (await b.runtime.db
          .selectFrom("follows")
          .select("status")
          .where("status", "=", "accepted")
          .executeTakeFirst()) ?? undefined,
    );

    const first = await createThread(a.runtime.db, a.url, await getCommunity(a.runtime.db, "mcas"), admin.actorId, {
      title: "First",
    });
    const delivered = await eventually("first thread delivered", async () => {
      const rows = await rowsFor(first.iri);
      return rows.length === 2 && rows.every((r) => r.status === "delivered") ? rows : undefined;
    });
    // Both announces (of the Create and of the Page) went to B's shared inbox, credited to the author.
    expect(delivered.map((r) => [r.inbox_url, r.host, r.actor_id])).toEqual([
      [`${b.url}/inbox`, new URL(b.url).host, admin.actorId],
      [`${b.url}/inbox`, new URL(b.url).host, admin.actorId],
    ]);

    await b.stop();
    const second = await createThread(a.runtime.db, a.url, await getCommunity(a.runtime.db, "mcas"), admin.actorId, {
      title: "While B is down",
    });
    const retrying = await eventually("second thread retrying", async () => {
      const rows = await rowsFor(second.iri);
      return rows.length === 2 && rows.every((r) => r.status === "retrying") ? rows : undefined;
    });
    expect(retrying[0]!.last_error).toContain("fetch failed");
    await b.start();
    await eventually("second thread delivered after B is back", async () => {
      const rows = await rowsFor(second.iri);
      return rows.length === 2 && rows.every((r) => r.status === "delivered" && r.attempts >= 2) ? rows : undefined;
    });
  });
});
