// A Mastodon user's followers-only or direct reply to a community thread must
// not become part of the thread, nor be re-shared to the community's followers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getCommunity } from "../../src/communities/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { mastodonFollow, mastodonNote } from "../policy/support.ts";
import { queueIdle } from "./support.ts";

describe("private replies to a community thread", () => {
  let instance: TestInstance;
  let mastodon: Peer;
  let other: Peer;
  let alice: PeerActor;
  let carol: PeerActor;
  let thread: { id: string; iri: string };
  let communityIri: string;

  beforeAll(async () => {
    [instance, mastodon, other] = await Promise.all([
      startTestInstance(),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    const community = await seedCommunity(instance, admin, { slug: "lc", name: "Long COVID" });
    communityIri = community.iri;
    [alice, carol] = await Promise.all([mastodon.addActor("alice"), other.addActor("carol")]);
    for (const [peer, actor] of [
      [mastodon, alice],
      [other, carol],
    ] as const) {
      expect((await peer.send(actor, `${instance.url}/inbox`, mastodonFollow(peer, actor, community.iri))).status).toBe(
        202,
      );
      await peer.waitForDelivery((b) => b.type === "Accept");
    }
    thread = await createThread(
      instance.runtime.db,
      instance.url,
      await getCommunity(instance.runtime.db, "lc"),
      admin.actorId,
      { title: "Open thread" },
    );
    await queueIdle(instance);
  });
  afterAll(async () => {
    await Promise.all([mastodon?.stop(), other?.stop()]);
    await instance?.stop();
  });

  it("keeps a followers-only reply out of the thread and out of re-shares", async () => {
    const since = other.deliveries.length;
    const reply = mastodonNote(mastodon, alice, {
      text: "PRIVATE reply 9c1e",
      mentioned: { iri: communityIri, name: "lc" },
      inReplyTo: thread.iri,
    });
    for (const o of [reply, reply.object]) Object.assign(o, { to: [`${alice.id}/followers`], cc: [communityIri] });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, reply)).status).toBe(202);
    await queueIdle(instance);
    const page = await (await fetch(`${instance.url}/posts/${thread.id}`)).text();
    expect(page).not.toContain("PRIVATE reply 9c1e");
    const row = await instance.runtime.db
      .selectFrom("posts")
      .select(["community_id"])
      .where("iri", "=", reply.object.id)
      .executeTakeFirst();
    expect(row?.community_id ?? null).toBeNull();
    expect(other.deliveries.slice(since).filter((d) => d.raw.includes("PRIVATE reply 9c1e"))).toEqual([]);
  });

  it("still takes a public reply into the thread", async () => {
    const reply = mastodonNote(mastodon, alice, {
      text: "Public reply 4d2a",
      mentioned: { iri: communityIri, name: "lc" },
      inReplyTo: thread.iri,
    });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, reply)).status).toBe(202);
    await queueIdle(instance);
    expect(await (await fetch(`${instance.url}/posts/${thread.id}`)).text()).toContain("Public reply 4d2a");
  });
});
