// Moderation from other servers can't be claimed by anyone else (FEP-fe34,
// FEP-1b12), written as the attacks: a non-moderator's Lock, removal, ban or
// appointment; an Announce signed with someone else's key; a moderation
// activity said to come from a third server that does not serve it, or that
// serves it in another actor's name; one community's Announce about another's
// post; a moderator of one community acting on another's post; a remote
// community's moderator going around the community. Each is refused and
// changes nothing; the real moderators' activities, sent the same way, apply.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { type LemmyModeration, lemmyAnnounce, lemmyModeration, lemmyUndo } from "../helpers/lemmy-moderation.ts";
import { fixture, Peer, type PeerActor, uuid, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { actorByIri, followRow, postByIri, queueIdle } from "../interop/support.ts";

let postSeq = 9000;

describe.each(dialects)("forged moderation (%s)", (dialect) => {
  let instance: TestInstance;
  let lemmy: Peer;
  let far: Peer;
  let admin: LocalUser;
  let main: PeerActor;
  let other: PeerActor;
  let mod: PeerActor;
  let farMod: PeerActor;
  let otherMod: PeerActor;
  let mallory: PeerActor;
  let beta: PeerActor;
  let localMod: PeerActor;
  let mainThread: string;
  let otherThread: string;
  let x: Awaited<ReturnType<typeof seedCommunity>>;
  let y: Awaited<ReturnType<typeof seedCommunity>>;
  let xThread: { iri: string };
  let yThread: { iri: string };

  const db = () => instance.runtime.db;
  const act = (
    kind: LemmyModeration,
    actor: PeerActor,
    group: PeerActor | { iri: string },
    object: string,
    extra = {},
  ) => lemmyModeration(kind, { actor: actor.id, group: "iri" in group ? group.iri : group.id, object, ...extra });
  const announce = async (group: PeerActor, inner: Record<string, any>) => {
    const res = await lemmy.send(group, `${instance.url}/inbox`, lemmyAnnounce(group.id, inner));
    expect(res.status, res.text).toBe(202);
  };

  /** Everything moderation can change here. */
  const state = async () => {
    const posts = await db()
      .selectFrom("posts")
      .select(["iri", "locked", "removed_at", "pinned_at", "deleted_at"])
      .orderBy("iri")
      .execute();
    const bans = await db().selectFrom("community_bans").select(["community_id", "actor_id"]).execute();
    const moderators = await db()
      .selectFrom("community_moderators")
      .select(["community_id", "actor_id"])
      .orderBy("community_id")
      .orderBy("actor_id")
      .execute();
    const actions = await db().selectFrom("moderation_actions").select("id").execute();
    return { posts, bans, moderators, actions: actions.length };
  };
  /** Runs `attack`, waits until everything it caused has happened, and checks that nothing changed. */
  const refused = async (attack: () => Promise<void>) => {
    const before = await state();
    await attack();
    await queueIdle(instance);
    expect(await state()).toEqual(before);
  };
  const locked = async (iri: string) => (await postByIri(instance, iri))?.locked === 1;

  const pageIn = async (group: PeerActor, title: string) => {
    const a = fixture("lemmy/announce_create_page.json", {
      origin: lemmy.origin,
      group: group.id,
      actor: beta.id,
      id: ++postSeq,
      uuid: uuid(),
      announceUuid: uuid(),
      title,
      source: title,
      content: `<p>${title}</p>`,
      published: new Date().toISOString(),
    });
    expect((await lemmy.send(group, `${instance.url}/inbox`, a)).status).toBe(202);
    await waitFor(() => postByIri(instance, a.object.object.id), { label: title });
    return a.object.object.id as string;
  };
  const join = async (group: PeerActor) => {
    const id = (await instance.runtime.remote!.resolveActor(group.id))!;
    await followRemote(db(), instance.url, admin.actorId, id);
    await lemmy.acceptFollow(group, admin.iri);
    await waitFor(async () => (await followRow(instance, admin.iri, group.id))?.status === "accepted", {
      label: `the join of ${group.id}`,
    });
  };
  const joinLocal = async (person: PeerActor, community: { iri: string }) => {
    const follow = fixture("lemmy/follow.json", {
      origin: lemmy.origin,
      actor: person.id,
      group: community.iri,
      uuid: uuid(),
    });
    expect((await lemmy.send(person, `${community.iri}/inbox`, follow)).status).toBe(202);
    await waitFor(async () => (await followRow(instance, person.id, community.iri))?.status === "accepted", {
      label: `${person.id} joining ${community.iri}`,
    });
  };

  beforeAll(async () => {
    [instance, lemmy, far] = await Promise.all([
      startTestInstance({ dialect }),
      Peer.start("lemmy"),
      Peer.start("lemmy"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    [main, other] = await Promise.all([
      lemmy.addActor("main", { type: "Group" }),
      lemmy.addActor("other", { type: "Group" }),
    ]);
    [mod, otherMod, mallory, beta, localMod] = await Promise.all([
      lemmy.addActor("lemmy_mod"),
      lemmy.addActor("other_mod"),
      lemmy.addActor("mallory"),
      lemmy.addActor("lemmy_beta"),
      lemmy.addActor("lemmy_local_mod"),
    ]);
    farMod = await far.addActor("far_mod");
    lemmy.setModerators(main, [mod.id, farMod.id]);
    lemmy.setModerators(other, [otherMod.id]);
    await join(main);
    await join(other);
    mainThread = await pageIn(main, "Main thread");
    otherThread = await pageIn(other, "Other thread");

    x = await seedCommunity(instance, admin, { slug: "pacing" });
    y = await seedCommunity(instance, admin, { slug: "sleep" });
    [xThread, yThread] = await Promise.all([
      seedThread(instance, x, admin, "X thread"),
      seedThread(instance, y, admin, "Y thread"),
    ]);
    await joinLocal(localMod, x);
    await joinLocal(localMod, y);
    await joinLocal(mallory, x);
    const localModRow = (await actorByIri(instance, localMod.id))!;
    await addModerator(db(), instance.url, { role: "admin", actorId: null }, x.id, localModRow.id);
  });
  afterAll(async () => {
    await Promise.all([lemmy?.stop(), far?.stop()]);
    await instance?.stop();
  });

  it("a non-moderator's Lock, removal, ban and appointment, announced by the community, are refused", async () => {
    await refused(async () => {
      await announce(main, act("lock", mallory, main, mainThread));
      await announce(main, act("remove", mallory, main, mainThread, { summary: "mine now" }));
      await announce(main, act("block", mallory, main, beta.id, { summary: "bye" }));
      await announce(main, act("add_mod", mallory, main, mallory.id));
      await announce(main, act("feature", mallory, main, mainThread));
    });
  });

  it("a non-moderator's Lock sent straight to one of our communities is refused", async () => {
    await refused(async () => {
      const res = await lemmy.send(mallory, `${x.iri}/inbox`, act("lock", mallory, x, xThread.iri));
      expect(res.status).toBe(202);
    });
  });

  it("an Announce, or a Lock, signed with another actor's key is refused at the door", async () => {
    await refused(async () => {
      const forged = lemmyAnnounce(main.id, act("lock", mod, main, mainThread));
      const res = await lemmy.send(main, `${instance.url}/inbox`, forged, { signAs: mallory });
      expect(res.status).toBe(401);
      const direct = await lemmy.send(localMod, `${x.iri}/inbox`, act("lock", localMod, x, xThread.iri), {
        signAs: mallory,
      });
      expect(direct.status).toBe(401);
    });
  });

  it("an announced activity of a third server that does not serve it is refused; served, it applies", async () => {
    await refused(() => announce(main, act("lock", farMod, main, mainThread)));
    const served = act("lock", farMod, main, mainThread);
    far.publish(served);
    await announce(main, served);
    await waitFor(() => locked(mainThread), { label: "the far moderator's Lock, served by its server" });
    const unlock = lemmyUndo(served);
    far.publish(unlock);
    await announce(main, unlock);
    await waitFor(async () => !(await locked(mainThread)), { label: "unlocked" });
  });

  it("an announced activity whose server serves it in the name of an actor elsewhere is refused", async () => {
    await refused(async () => {
      // Served by the third server at its id, but naming a moderator of the group's server as its actor.
      const claimed = act("lock", mod, main, mainThread, { idOrigin: far.origin });
      far.publish(claimed);
      await announce(main, claimed);
      // On the group's origin (vouched by its signature), but by an actor of another server.
      await announce(main, act("lock", farMod, main, mainThread, { idOrigin: lemmy.origin }));
    });
  });

  it("one community's Announce about another community's post is refused", async () => {
    await refused(async () => {
      await announce(other, act("lock", otherMod, other, mainThread));
      await announce(other, act("lock", other, other, mainThread));
      await announce(other, act("remove", otherMod, main, mainThread, { summary: "x" }));
      await announce(other, act("block", otherMod, main, beta.id));
    });
  });

  it("a moderator of one community acting on another community's post is refused", async () => {
    await refused(async () => {
      await announce(main, act("lock", mod, main, otherThread));
      await announce(main, act("lock", mod, other, otherThread));
      const send = (body: Record<string, any>, to: { iri: string }) => lemmy.send(localMod, `${to.iri}/inbox`, body);
      expect((await send(act("lock", localMod, y, yThread.iri), y)).status).toBe(202);
      expect((await send(act("lock", localMod, x, yThread.iri), x)).status).toBe(202);
      expect((await send(act("feature", localMod, x, yThread.iri), x)).status).toBe(202);
      expect((await send(act("block", localMod, y, mallory.id), y)).status).toBe(202);
    });
  });

  it("a remote community's moderator sending Lock straight to us, around the community, is refused", async () => {
    // A moderator we know as such: their Lock announced by the community applies.
    const lock = act("lock", mod, main, mainThread);
    await announce(main, lock);
    await waitFor(() => locked(mainThread), { label: "the moderator's announced Lock" });
    await announce(main, lemmyUndo(lock));
    await waitFor(async () => !(await locked(mainThread)), { label: "the moderator's announced Undo(Lock)" });
    await refused(async () => {
      const res = await lemmy.send(mod, `${instance.url}/inbox`, act("lock", mod, main, mainThread));
      expect(res.status).toBe(202);
    });
  });

  it("a ban of a remote community sent straight to us applies only from a moderator the community lists", async () => {
    await refused(async () => {
      const res = await lemmy.send(mallory, `${instance.url}/inbox`, act("block", mallory, main, beta.id));
      expect(res.status).toBe(202);
    });
    const ban = act("block", mod, main, beta.id, { summary: "spam" });
    expect((await lemmy.send(mod, `${instance.url}/inbox`, ban)).status).toBe(202);
    const group = (await actorByIri(instance, main.id))!;
    const banned = async () =>
      (await db().selectFrom("community_bans").select("reason").where("community_id", "=", group.id).execute()).length;
    await waitFor(async () => (await banned()) > 0, { label: "the listed moderator's direct ban" });
    // Announced again by the community, the same Block is not applied twice.
    await announce(main, ban);
    const lock = act("lock", mod, main, mainThread);
    await announce(main, lock);
    await waitFor(() => locked(mainThread), { label: "a later announced Lock" });
    await announce(main, lemmyUndo(lock));
    await waitFor(async () => !(await locked(mainThread)), { label: "its Undo" });
    const logged = await db()
      .selectFrom("moderation_actions")
      .select("id")
      .where("activity_iri", "=", ban.id)
      .execute();
    expect(logged).toHaveLength(1);
    await announce(main, lemmyUndo(ban));
    await waitFor(async () => (await banned()) === 0, { label: "the Undo(Block)" });
  });

  it("the real moderators' activities, sent the same ways, apply (the attacks above could have worked)", async () => {
    await announce(main, act("lock", mod, main, mainThread));
    await waitFor(() => locked(mainThread), { label: "the moderator's announced Lock" });
    await announce(other, act("lock", otherMod, other, otherThread));
    await waitFor(() => locked(otherThread), { label: "the other community's own Lock" });
    const res = await lemmy.send(localMod, `${x.iri}/inbox`, act("lock", localMod, x, xThread.iri));
    expect(res.status).toBe(202);
    await waitFor(() => locked(xThread.iri), { label: "our community's remote moderator's Lock" });
  });
});
