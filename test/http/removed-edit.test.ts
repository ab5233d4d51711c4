// A removed post's author cannot route around the removal with an edit: no
// Edit link, POST /posts/:id/edit refused, and nothing goes out as Update or
// as the community's Announce(Update) to the servers that follow it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { removePost } from "../../src/moderation/posts.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, uuid } from "../helpers/peer.ts";
import { loggedIn, seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { idOf, queueIdle } from "../interop/support.ts";

describe("editing a removed post (sqlite)", () => {
  let instance: TestInstance;
  let mastodon: Peer;
  let alice: PeerActor;
  let mod: LocalUser;
  let author: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  const db = () => instance.runtime.db;

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance(), Peer.start("mastodon")]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    mod = await seedUser(instance, "moira");
    author = await seedUser(instance, "author");
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    for (const u of [mod, author]) await join(db(), instance.url, community, u.actorId);
    await addModerator(db(), instance.url, { role: "admin", actorId: admin.actorId }, community.id, mod.actorId);
    alice = await mastodon.addActor("alice");
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: alice.id,
      object: community.iri,
    });
    expect((await mastodon.send(alice, `${community.iri}/inbox`, follow)).status).toBe(202);
    await mastodon.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id);
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  it("a removed post's edit is not sent to the community's followers", async () => {
    const t = await seedThread(instance, community, author, "Miracle cure", "Buy it here");
    await mastodon.waitForDelivery((b) => b.type === "Announce" && idOf(b.object) === t.iri);
    await removePost(db(), instance.url, { role: "moderator", actorId: mod.actorId }, t.id, { reason: "Spam" });
    await queueIdle(instance);
    const web = await loggedIn(instance, "author");
    await web.get(`/posts/${t.id}/edit`);
    const edited = await web.post(`/posts/${t.id}/edit`, { title: "Miracle cure", body: "zqstill selling it" });
    expect([303, 403, 409]).toContain(edited.status);
    await queueIdle(instance);
    const leaked = mastodon.received((_, d) => d.raw.includes("zqstill selling it"));
    expect(
      leaked.map((d) => `${d.body.type}(${d.body.object?.type ?? ""})`),
      "the removed post's new text reached a follower",
    ).toEqual([]);
  });
});
