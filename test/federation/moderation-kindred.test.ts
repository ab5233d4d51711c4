// Moderation across real Kindred instances: A hosts a community that B's and
// C's members joined and a Mastodon-shaped server follows. What A's
// moderator does reaches B and C through the community's Announce and is
// applied there; an appeal granted on A undoes a removal everywhere.
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/schema.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { followRemote } from "../../src/follows/service.ts";
import { decideAppeal, fileAppeal } from "../../src/moderation/appeals.ts";
import type { Acting } from "../../src/moderation/authority.ts";
import { banPerson } from "../../src/moderation/people.ts";
import { lockThread, pinThread, removePost, restorePost } from "../../src/moderation/posts.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { eventually, Peer, until } from "../helpers/federation.ts";
import { Peer as FakeServer, fixture, type PeerActor, uuid } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;
const remoteRef = (id: string) => ({ id, visibility: "public" as const, joinPolicy: "open" as const });
const postByIri = (db: Kysely<Database>, iri: string) =>
  db.selectFrom("posts").selectAll().where("iri", "=", iri).executeTakeFirst();
const idOf = (v: unknown) => (typeof v === "string" ? v : (v as { id?: string } | null)?.id);

describe.each(dialects)("moderation between Kindred instances (%s)", (dialect) => {
  let A: Peer;
  let B: Peer;
  let C: Peer;
  let mastodon: FakeServer;
  let gamma: PeerActor;
  let modA: LocalUser;
  let alice: LocalUser;
  let bob: LocalUser;
  let carol: LocalUser;
  let community: Community;
  let groupOnB: string;
  const asMod = (): Acting => ({ role: "moderator", actorId: modA.actorId });
  const peers = () =>
    [
      ["B", B],
      ["C", C],
    ] as const;

  /** Waits until `check` holds for the post `iri` on `peer`. */
  const onPeer = async (peer: Peer, name: string, iri: string, what: string, check: (p: any) => boolean) =>
    (await until(
      `${what} on ${name}`,
      () => postByIri(peer.db, iri),
      (p) => p !== undefined && check(p),
    ))!;

  async function joinRemote(peer: Peer, member: LocalUser): Promise<string> {
    const groupId = await peer.runtime.remote!.resolveActor(community.iri);
    expect(groupId).toBeTruthy();
    await followRemote(peer.db, peer.url, member.actorId, groupId!);
    await until(
      `membership on ${peer.url}`,
      () =>
        peer.db
          .selectFrom("follows")
          .select("status")
          .where("follower_id", "=", member.actorId)
          .where("followee_id", "=", groupId!)
          .executeTakeFirst(),
      (r) => r?.status === "accepted",
    );
    return groupId!;
  }

  beforeAll(async () => {
    [A, B, C, mastodon] = await Promise.all([
      Peer.start({ dialect }),
      Peer.start({ dialect }),
      Peer.start({ dialect }),
      FakeServer.start("mastodon"),
    ]);
    [modA, alice, bob, carol] = await Promise.all([
      seedUser(A, "mod_a", { role: "admin" }),
      seedUser(A, "alice"),
      seedUser(B, "bob"),
      seedUser(C, "carol"),
    ]);
    community = await seedCommunity(A, modA, { slug: "mecfs", name: "ME/CFS" });
    await join(A.db, A.url, community, alice.actorId);
    groupOnB = await joinRemote(B, bob);
    await joinRemote(C, carol);
    gamma = await mastodon.addActor("gamma");
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: gamma.id,
      object: community.iri,
    });
    expect((await mastodon.send(gamma, `${community.iri}/inbox`, follow)).status).toBe(202);
    await mastodon.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([A?.destroy(), B?.destroy(), C?.destroy(), mastodon?.stop()]);
  });

  it("a removal on A disappears on B (the author's own server) and C, reaches Mastodon, and restore brings it back", async () => {
    const thread = await createThread(B.db, B.url, remoteRef(groupOnB), bob.actorId, {
      title: "My supplement stack",
      body: "Buy these from my shop",
    });
    const onA = await eventually("bob's thread on A", () => postByIri(A.db, thread.iri));
    await onPeer(C, "C", thread.iri, "bob's thread", () => true);

    const removal = await removePost(A.db, A.url, asMod(), onA.id, { reason: "Advertising" });
    const removeIri = (
      await A.db
        .selectFrom("moderation_actions")
        .select("activity_iri")
        .where("id", "=", removal)
        .executeTakeFirstOrThrow()
    ).activity_iri;
    for (const [name, peer] of peers()) {
      const row = await onPeer(peer, name, thread.iri, "removal", (p) => p.removed_at !== null);
      // Removed, not deleted: the text stays for its author and the moderators.
      expect(row.deleted_at).toBeNull();
      expect(row.content_html).toContain("Buy these");
    }
    // Bob is told on his own server, with the reason, though he cannot appeal there (A decides).
    const told = await eventually("bob's notice on B", () =>
      B.db
        .selectFrom("notifications")
        .innerJoin("moderation_actions", "moderation_actions.id", "notifications.action_id")
        .select(["moderation_actions.reason"])
        .where("notifications.user_id", "=", bob.actorId)
        .executeTakeFirst(),
    );
    expect(told.reason).toBe("Advertising");
    const announce = await mastodon.waitForDelivery((b) => b.type === "Announce" && idOf(b.object) === removeIri, {
      label: "the group's Announce of the removal at Mastodon",
    });
    expect(announce.verified).toBe(true);
    expect(announce.body.object).toMatchObject({ type: "Delete", object: thread.iri, summary: "Advertising" });

    await restorePost(A.db, A.url, asMod(), onA.id);
    for (const [name, peer] of peers()) await onPeer(peer, name, thread.iri, "restore", (p) => p.removed_at === null);
  });

  it("an appeal granted on A reverses a removal on B and C", async () => {
    const thread = await createThread(A.db, A.url, community, alice.actorId, { title: "Graded exercise helped me" });
    for (const [name, peer] of peers()) await onPeer(peer, name, thread.iri, "alice's thread", () => true);
    const removal = await removePost(A.db, A.url, asMod(), thread.id, { reason: "Contradicts guidance" });
    for (const [name, peer] of peers()) await onPeer(peer, name, thread.iri, "removal", (p) => p.removed_at !== null);
    const appeal = await fileAppeal(A.db, alice.actorId, removal, "It is my own experience, clearly labelled");
    await decideAppeal(A.db, A.url, asMod(), appeal, true, "Fair");
    for (const [name, peer] of peers()) await onPeer(peer, name, thread.iri, "restore", (p) => p.removed_at === null);
  });

  it("a lock reaches B and C; a reply that B sends anyway is refused on A", async () => {
    const thread = await createThread(A.db, A.url, community, alice.actorId, { title: "Heated debate" });
    const onB = await onPeer(B, "B", thread.iri, "thread", () => true);
    await lockThread(A.db, A.url, asMod(), thread.id, { reason: "Cooling off" });
    for (const [name, peer] of peers()) await onPeer(peer, name, thread.iri, "lock", (p) => p.locked === 1);
    await expect(
      createReply(B.db, B.url, remoteRef(groupOnB), bob.actorId, onB.id, { body: "One more thing" }),
    ).rejects.toThrow(/locked/);
    // B behind on the news: its member replies, A refuses the reply.
    await B.db.updateTable("posts").set({ locked: 0 }).where("id", "=", onB.id).execute();
    const late = await createReply(B.db, B.url, remoteRef(groupOnB), bob.actorId, onB.id, { body: "Late reply" });
    const control = await createThread(B.db, B.url, remoteRef(groupOnB), bob.actorId, { title: "After the lock" });
    await eventually("a later thread of B's on A", () => postByIri(A.db, control.iri));
    expect(await postByIri(A.db, late.iri)).toBeUndefined();
  });

  it("a pin reaches B and C; a ban reaches B, where bob can no longer post, and A refuses what he sends", async () => {
    const thread = await createThread(A.db, A.url, community, alice.actorId, { title: "Read this first" });
    for (const [name, peer] of peers()) await onPeer(peer, name, thread.iri, "the thread", () => true);
    await pinThread(A.db, A.url, asMod(), thread.id);
    for (const [name, peer] of peers()) await onPeer(peer, name, thread.iri, "pin", (p) => p.pinned_at !== null);

    const bobOnA = await A.db.selectFrom("actors").select("id").where("iri", "=", bob.iri).executeTakeFirstOrThrow();
    await banPerson(A.db, A.url, asMod(), community.id, bobOnA.id, { reason: "Spam", days: 3 });
    const ban = await eventually("the ban on B", () =>
      B.db
        .selectFrom("community_bans")
        .selectAll()
        .where("community_id", "=", groupOnB)
        .where("actor_id", "=", bob.actorId)
        .executeTakeFirst(),
    );
    expect(ban.reason).toBe("Spam");
    expect(ban.expires_at).not.toBeNull();
    await expect(createThread(B.db, B.url, remoteRef(groupOnB), bob.actorId, { title: "Still here" })).rejects.toThrow(
      /banned/,
    );
    // B forgets the ban: A still refuses his post, and C never sees it.
    await B.db.deleteFrom("community_bans").where("actor_id", "=", bob.actorId).execute();
    const refused = await createThread(B.db, B.url, remoteRef(groupOnB), bob.actorId, { title: "Sneaking in" });
    const control = await createThread(A.db, A.url, community, alice.actorId, { title: "After the ban" });
    await onPeer(C, "C", control.iri, "a later thread", () => true);
    expect(await postByIri(A.db, refused.iri)).toBeUndefined();
    expect(await postByIri(C.db, refused.iri)).toBeUndefined();
  });
});
