// Moderation in a local community, as its followers' servers receive it: a
// Lemmy-shaped and a Mastodon-shaped server follow the community on a real
// Kindred; each action taken through the domain reaches them as the
// community's Announce of the activity Lemmy sends for it (FEP-1b12), with
// the moderator as actor, the action's own id, and a signature they verify.
import { getDocumentLoader } from "@fedify/fedify/runtime";
import { verifyJsonLd } from "@fedify/fedify/sig";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { updateCommunity } from "../../src/communities/service.ts";
import type { Acting } from "../../src/moderation/authority.ts";
import { addModerator, banPerson, removeModerator, unbanPerson } from "../../src/moderation/people.ts";
import {
  lockThread,
  pinThread,
  removePost,
  restorePost,
  unlockThread,
  unpinThread,
} from "../../src/moderation/posts.ts";
import { createThread } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { type Delivery, fixture, Peer, type PeerActor, PUBLIC, uuid } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { addressing, getJson, idOf, queueIdle } from "../interop/support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;
/** Reads Kindred's keys over loopback, as a peer checking a Linked Data signature would. */
const loader = getDocumentLoader({ allowPrivateAddress: true });

describe.each(dialects)("moderation of a local community, to its followers (%s)", (dialect) => {
  let instance: TestInstance;
  let lemmy: Peer;
  let mastodon: Peer;
  let admin: LocalUser;
  let mod: LocalUser;
  let member: LocalUser;
  let community: Community;
  let alpha: PeerActor;
  let gamma: PeerActor;
  let alice: PeerActor;
  let acting: Acting;

  const db = () => instance.runtime.db;
  const thread = (title: string) =>
    createThread(db(), instance.url, community, member.actorId, { title, body: "Pacing, mostly." });
  const activityIri = async (actionId: string) =>
    (await db().selectFrom("moderation_actions").select("activity_iri").where("id", "=", actionId).executeTakeFirst())
      ?.activity_iri ?? "";
  /** The community's signed Announce of the activity `id`, as `peer` received it. */
  const announced = async (peer: Peer, id: string): Promise<Delivery> => {
    const d = await peer.waitForDelivery((b) => b.type === "Announce" && idOf(b.object) === id, {
      label: `the community's Announce of ${id} at ${peer.software}`,
    });
    expect(d.verified).toBe(true);
    expect(d.signer).toBe(community.iri);
    expect(d.body.actor).toBe(community.iri);
    expect(addressing(d.body, "to")).toEqual([PUBLIC]);
    return d;
  };
  /** Lemmy's addressing of a moderation activity in the community. */
  const lemmyAddressed = (activity: any) => {
    expect(addressing(activity, "to")).toEqual([PUBLIC]);
    expect(addressing(activity, "cc")).toEqual([community.iri]);
    expect(activity.audience).toBe(community.iri);
  };
  const follow = async (peer: Peer, actor: PeerActor, group = community.iri) => {
    const body =
      peer.software === "lemmy"
        ? fixture("lemmy/follow.json", { origin: peer.origin, actor: actor.id, group, uuid: uuid() })
        : fixture("mastodon/follow.json", { origin: peer.origin, uuid: uuid(), actor: actor.id, object: group });
    expect((await peer.send(actor, `${group}/inbox`, body)).status).toBe(202);
    await peer.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === body.id);
  };

  beforeAll(async () => {
    [instance, lemmy, mastodon] = await Promise.all([
      startTestInstance({ dialect }),
      Peer.start("lemmy"),
      Peer.start("mastodon"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    mod = await seedUser(instance, "moira");
    member = await seedUser(instance, "member");
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    for (const u of [mod, member]) expect(await join(db(), instance.url, community, u.actorId)).toBe("accepted");
    alpha = await lemmy.addActor("lemmy_alpha");
    gamma = await lemmy.addActor("lemmy_gamma");
    alice = await mastodon.addActor("alice");
    await follow(lemmy, alpha);
    await follow(lemmy, gamma);
    await follow(mastodon, alice);
    acting = { role: "moderator", actorId: mod.actorId };
  });
  afterAll(async () => {
    await Promise.all([lemmy?.stop(), mastodon?.stop()]);
    await instance?.stop();
  });

  it("announces a new moderator as Lemmy's Add to the moderators collection, and a dismissal as Remove", async () => {
    const added = await addModerator(
      db(),
      instance.url,
      { role: "moderator", actorId: admin.actorId },
      community.id,
      mod.actorId,
    );
    const id = await activityIri(added);
    expect(id).toMatch(new RegExp(`^${instance.url}/activities/add/`));
    for (const peer of [lemmy, mastodon]) {
      const add = (await announced(peer, id)).body.object;
      expect(add).toMatchObject({
        type: "Add",
        actor: admin.iri,
        object: mod.iri,
        target: `${community.iri}/moderators`,
      });
      lemmyAddressed(add);
    }
    const dismissed = await removeModerator(
      db(),
      instance.url,
      { role: "moderator", actorId: admin.actorId },
      community.id,
      mod.actorId,
    );
    const remove = (await announced(lemmy, await activityIri(dismissed))).body.object;
    expect(remove).toMatchObject({ type: "Remove", object: mod.iri, target: `${community.iri}/moderators` });
    await addModerator(db(), instance.url, { role: "moderator", actorId: admin.actorId }, community.id, mod.actorId);
  });

  it("announces a removal as Delete with summary, takes back Mastodon's boost, and stops serving the post", async () => {
    const t = await thread("Miracle cure");
    const boost = await mastodon.waitForDelivery((b) => b.type === "Announce" && b.object?.id === t.iri);
    const removed = await removePost(db(), instance.url, acting, t.id, { reason: "Unproven treatment claims" });
    const id = await activityIri(removed);
    expect(id).toMatch(new RegExp(`^${instance.url}/activities/delete/`));
    for (const peer of [lemmy, mastodon]) {
      const del = (await announced(peer, id)).body.object;
      expect(del).toEqual(
        expect.objectContaining({
          id,
          type: "Delete",
          actor: mod.iri,
          object: t.iri,
          summary: "Unproven treatment claims",
        }),
      );
      lemmyAddressed(del);
    }
    // Mastodon applies a Delete only from the author; the community's Undo of its boost removes the post there.
    const undo = await mastodon.waitForDelivery((b) => b.type === "Undo" && idOf(b.object) === boost.body.id);
    expect(undo.verified).toBe(true);
    expect(undo.body).toMatchObject({ actor: community.iri, object: { type: "Announce", actor: community.iri } });
    // A removed post may come back: it answers like a missing one, not 410.
    expect((await getJson(t.iri)).status).toBe(404);
    expect((await getJson(`${community.iri}/outbox`)).raw).not.toContain(t.iri);
  });

  it("announces a restore as Undo of the removal's own Delete, and boosts the post again for Mastodon", async () => {
    const t = await thread("Pacing diary");
    const oldBoost = await mastodon.waitForDelivery((b) => b.type === "Announce" && b.object?.id === t.iri);
    const removal = await activityIri(await removePost(db(), instance.url, acting, t.id, { reason: "Spam?" }));
    const restored = await restorePost(db(), instance.url, acting, t.id, { reason: "Not spam after all" });
    const id = await activityIri(restored);
    for (const peer of [lemmy, mastodon]) {
      const undo = (await announced(peer, id)).body.object;
      expect(undo).toMatchObject({ type: "Undo", actor: mod.iri, summary: "Not spam after all" });
      expect(undo.object).toEqual(
        expect.objectContaining({ id: removal, type: "Delete", actor: mod.iri, object: t.iri, summary: "Spam?" }),
      );
      lemmyAddressed(undo);
    }
    const reboost = await mastodon.waitForDelivery(
      (b) => b.type === "Announce" && b.object?.id === t.iri && b.id !== oldBoost.body.id,
    );
    expect(reboost.verified).toBe(true);
    expect((await getJson(t.iri)).status).toBe(200);
  });

  it("sends Lock and Undo(Lock) with Lemmy's type, inside the signed Announce", async () => {
    const t = await thread("Locked soon");
    const lockId = await activityIri(await lockThread(db(), instance.url, acting, t.id, { reason: "Heated" }));
    expect(lockId).toMatch(new RegExp(`^${instance.url}/activities/lock/`));
    const lock = await announced(lemmy, lockId);
    expect(lock.body.object).toEqual(
      expect.objectContaining({ id: lockId, type: "Lock", actor: mod.iri, object: t.iri, summary: "Heated" }),
    );
    lemmyAddressed(lock.body.object);
    expect(lock.raw).not.toContain('"Activity"');
    // Typed after Fedify signed it: the proof is left out, the Linked Data signature made again.
    expect(lock.body.proof).toBeUndefined();
    expect(await verifyJsonLd(lock.body, { documentLoader: loader, contextLoader: loader })).toBe(true);

    const unlockId = await activityIri(await unlockThread(db(), instance.url, acting, t.id, { reason: "Calmer now" }));
    const undo = (await announced(lemmy, unlockId)).body.object;
    expect(undo).toMatchObject({ type: "Undo", actor: mod.iri, summary: "Calmer now" });
    expect(undo.object).toEqual(expect.objectContaining({ id: lockId, type: "Lock", actor: mod.iri, object: t.iri }));
    await announced(mastodon, unlockId);
  });

  it("announces a pin as Add to the featured collection, which lists the thread until it is unpinned", async () => {
    const t = await thread("Read me first");
    const pinId = await activityIri(await pinThread(db(), instance.url, acting, t.id));
    const add = (await announced(lemmy, pinId)).body.object;
    expect(add).toMatchObject({ type: "Add", actor: mod.iri, object: t.iri, target: `${community.iri}/featured` });
    lemmyAddressed(add);
    const featured = await getJson(`${community.iri}/featured`);
    expect(featured.status).toBe(200);
    expect((featured.body.orderedItems ?? featured.body.items ?? []).map(idOf)).toEqual([t.iri]);

    // A removed thread is not featured, even while pinned.
    await removePost(db(), instance.url, acting, t.id);
    await queueIdle(instance);
    expect((await getJson(`${community.iri}/featured`)).raw).not.toContain(t.iri);
    await restorePost(db(), instance.url, acting, t.id);

    const unpinId = await activityIri(await unpinThread(db(), instance.url, acting, t.id));
    const remove = (await announced(mastodon, unpinId)).body.object;
    expect(remove).toMatchObject({ type: "Remove", object: t.iri, target: `${community.iri}/featured` });
    expect((await getJson(`${community.iri}/featured`)).raw).not.toContain(t.iri);
  });

  it("sends a ban as Block with target and endTime to the banned person and the followers; an unban undoes it", async () => {
    const gammaId = (await db().selectFrom("actors").select("id").where("iri", "=", gamma.id).executeTakeFirstOrThrow())
      .id;
    const banId = await activityIri(
      await banPerson(db(), instance.url, acting, community.id, gammaId, { reason: "Harassment", days: 7 }),
    );
    const ban = await db()
      .selectFrom("community_bans")
      .select("expires_at")
      .where("actor_id", "=", gammaId)
      .executeTakeFirstOrThrow();
    const expected = {
      id: banId,
      type: "Block",
      actor: mod.iri,
      object: gamma.id,
      target: community.iri,
      summary: "Harassment",
    };
    // Straight from the moderator to the banned person's server, as Lemmy sends it.
    const direct = await lemmy.waitForDelivery((b) => b.type === "Block" && b.id === banId);
    expect(direct.verified).toBe(true);
    expect(direct.signer).toBe(mod.iri);
    expect(direct.body).toMatchObject(expected);
    expect(Date.parse(direct.body.endTime)).toBe(Date.parse(ban.expires_at ?? ""));
    lemmyAddressed(direct.body);
    // And to the community's followers (alpha is still one), Mastodon included.
    for (const peer of [lemmy, mastodon]) expect((await announced(peer, banId)).body.object).toMatchObject(expected);

    const unbanId = await activityIri(await unbanPerson(db(), instance.url, acting, community.id, gammaId));
    const undo = await lemmy.waitForDelivery((b) => b.type === "Undo" && b.id === unbanId);
    expect(undo.verified).toBe(true);
    expect(undo.body.object).toMatchObject(expected);
    await announced(lemmy, unbanId);
  });

  it("re-shares a Lemmy moderator's Lock and Undo(Lock) exactly as received", async () => {
    const alphaRow = await db().selectFrom("actors").select("id").where("iri", "=", alpha.id).executeTakeFirstOrThrow();
    await addModerator(db(), instance.url, { role: "moderator", actorId: admin.actorId }, community.id, alphaRow.id);
    const t = await thread("Locked from Lemmy");
    const lock = {
      "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
      id: `${lemmy.origin}/activities/lock/${uuid()}`,
      actor: alpha.id,
      to: [PUBLIC],
      object: t.iri,
      cc: [community.iri],
      type: "Lock",
      summary: "Going in circles",
      audience: community.iri,
    };
    const received = (activity: Record<string, unknown>) => ({ activityIri: String(activity.id), activity });
    const remoteMod: Acting = { role: "moderator", actorId: alphaRow.id };
    await lockThread(db(), instance.url, remoteMod, t.id, { reason: lock.summary, received: received(lock) });
    const { "@context": _, ...asReceived } = lock;
    expect((await announced(mastodon, lock.id)).body.object).toEqual(asReceived);

    const undo = {
      id: `${lemmy.origin}/activities/undo/${uuid()}`,
      actor: alpha.id,
      to: [PUBLIC],
      object: asReceived,
      cc: [community.iri],
      type: "Undo",
      audience: community.iri,
      summary: "Calmer",
    };
    await unlockThread(db(), instance.url, remoteMod, t.id, { received: received(undo) });
    // Fedify's vocabulary would have turned the inner Lock into a bare Object, without actor or object.
    expect((await announced(mastodon, undo.id)).body.object).toEqual(undo);
    // Never back to the moderator's own server: it has both already.
    await queueIdle(instance);
    expect(lemmy.received((b) => b.type === "Announce" && [lock.id, undo.id].includes(idOf(b.object) ?? ""))).toEqual(
      [],
    );
  });

  it("sends nothing once a community is made local-only, though servers still follow it", async () => {
    const quiet = await seedCommunity(instance, admin, { slug: "quiet-room", name: "Quiet" });
    await follow(lemmy, alpha, quiet.iri);
    const t = await createThread(db(), instance.url, quiet, admin.actorId, { title: "Only here" });
    await updateCommunity(db(), instance.url, quiet.id, { name: "Quiet", federation: "local" });
    await queueIdle(instance);
    const before = lemmy.deliveries.length + mastodon.deliveries.length;
    const admins: Acting = { role: "moderator", actorId: admin.actorId };
    await lockThread(db(), instance.url, admins, t.id);
    await removePost(db(), instance.url, admins, t.id, { reason: "x" });
    // The moderator could sign a Block to the banned person's server: it must not go either.
    const alphaRow = await db().selectFrom("actors").select("id").where("iri", "=", alpha.id).executeTakeFirstOrThrow();
    await banPerson(db(), instance.url, admins, quiet.id, alphaRow.id, { reason: "x" });
    await queueIdle(instance);
    expect(lemmy.deliveries.length + mastodon.deliveries.length).toBe(before);
  });

  it("gives the same activities when five servers follow, through Fedify's fan-out queue", async () => {
    const more = await Promise.all([Peer.start("lemmy"), Peer.start("lemmy"), Peer.start("lemmy")]);
    try {
      for (const peer of more) await follow(peer, await peer.addActor("lemmy_delta"));
      const all = [lemmy, mastodon, ...more];
      const t = await thread("Fanned out");
      const boost = await mastodon.waitForDelivery((b) => b.type === "Announce" && b.object?.id === t.iri);
      const lockId = await activityIri(await lockThread(db(), instance.url, acting, t.id, { reason: "Busy" }));
      for (const peer of all)
        expect((await announced(peer, lockId)).body.object).toMatchObject({ type: "Lock", actor: mod.iri });
      await removePost(db(), instance.url, acting, t.id, { reason: "Gone for now" });
      await mastodon.waitForDelivery((b) => b.type === "Undo" && idOf(b.object) === boost.body.id);

      const alphaRow = await db()
        .selectFrom("actors")
        .select("id")
        .where("iri", "=", alpha.id)
        .executeTakeFirstOrThrow();
      const other = await thread("Locked from Lemmy, widely");
      const lock = {
        id: `${lemmy.origin}/activities/lock/${uuid()}`,
        actor: alpha.id,
        to: [PUBLIC],
        object: other.iri,
        cc: [community.iri],
        type: "Lock",
        audience: community.iri,
      };
      await lockThread(db(), instance.url, { role: "moderator", actorId: alphaRow.id }, other.id, {
        received: { activityIri: lock.id, activity: lock },
      });
      // Every follower but the moderator's own server, which has it already.
      for (const peer of [mastodon, ...more]) expect((await announced(peer, lock.id)).body.object).toEqual(lock);
      await queueIdle(instance);
      expect(lemmy.received((b) => b.type === "Announce" && idOf(b.object) === lock.id)).toEqual([]);
    } finally {
      await Promise.all(more.map((p) => p.stop()));
    }
  });
});
