// Attacks on received moderation, each written as the attack (found by review):
// a remote moderator turning on our own moderators, plain Deletes, going around
// the community, fetches on behalf of strangers, Resolve from the wrong server,
// and floods of reports.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join as joinCommunity } from "../../src/communities/membership.ts";
import { followRemote } from "../../src/follows/service.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { fileReport, REMOTE_REPORTS_PER_HOUR } from "../../src/moderation/reports.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { lemmyAnnounce, lemmyModeration, lemmyUndo } from "../helpers/lemmy-moderation.ts";
import { fixture, Peer, type PeerActor, uuid, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { actorByIri, followRow, postByIri, queueIdle } from "../interop/support.ts";

let postSeq = 12000;

describe.each(dialects)("attacks on received moderation (%s)", (dialect) => {
  let instance: TestInstance;
  let lemmy: Peer;
  let far: Peer;
  let mastodon: Peer;
  let admin: LocalUser;
  let alice: LocalUser;
  let carol: LocalUser;
  let main: PeerActor;
  let mod: PeerActor;
  let beta: PeerActor;
  let localMod: PeerActor;
  let mallory: PeerActor;
  let mastodonActor: PeerActor;
  let x: Awaited<ReturnType<typeof seedCommunity>>;
  let carolThread: { id: string; iri: string };
  let aliceThread: { id: string; iri: string };
  let mainThread: string;

  const db = () => instance.runtime.db;
  const plainDelete = (actor: PeerActor, group: string, object: string) => {
    const { summary: _s, ...d } = lemmyModeration("remove", { actor: actor.id, group, object });
    return d;
  };

  beforeAll(async () => {
    [instance, lemmy, far, mastodon] = await Promise.all([
      startTestInstance({ dialect }),
      Peer.start("lemmy"),
      Peer.start("lemmy"),
      Peer.start("mastodon"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    alice = await seedUser(instance, "alice");
    carol = await seedUser(instance, "carol");
    main = await lemmy.addActor("main", { type: "Group" });
    [mod, beta, localMod, mallory] = await Promise.all([
      lemmy.addActor("lemmy_mod"),
      lemmy.addActor("lemmy_beta"),
      lemmy.addActor("lemmy_local_mod"),
      lemmy.addActor("mallory"),
    ]);
    mastodonActor = await mastodon.addInstanceActor();
    lemmy.setModerators(main, [mod.id]);

    // A remote community we follow, with a thread by beta.
    const mainId = (await instance.runtime.remote!.resolveActor(main.id))!;
    await followRemote(db(), instance.url, admin.actorId, mainId);
    await lemmy.acceptFollow(main, admin.iri);
    await waitFor(async () => (await followRow(instance, admin.iri, main.id))?.status === "accepted", {
      label: "join main",
    });
    const a = fixture("lemmy/announce_create_page.json", {
      origin: lemmy.origin,
      group: main.id,
      actor: beta.id,
      id: ++postSeq,
      uuid: uuid(),
      announceUuid: uuid(),
      title: "Main thread",
      source: "x",
      content: "<p>x</p>",
      published: new Date().toISOString(),
    });
    expect((await lemmy.send(main, `${instance.url}/inbox`, a)).status).toBe(202);
    mainThread = a.object.object.id;
    await waitFor(() => postByIri(instance, mainThread), { label: "main thread" });

    // A local community x (owned by admin) with a local moderator carol and a remote moderator localMod.
    x = await seedCommunity(instance, admin, { slug: "pacing" });
    for (const u of [alice, carol]) await joinCommunity(db(), instance.url, x, u.actorId);
    for (const p of [localMod, mallory, beta]) {
      const follow = fixture("lemmy/follow.json", { origin: lemmy.origin, actor: p.id, group: x.iri, uuid: uuid() });
      expect((await lemmy.send(p, `${x.iri}/inbox`, follow)).status).toBe(202);
      await waitFor(async () => (await followRow(instance, p.id, x.iri))?.status === "accepted", { label: p.id });
    }
    const admins = { role: "admin" as const, actorId: null };
    await addModerator(db(), instance.url, admins, x.id, carol.actorId);
    await addModerator(db(), instance.url, admins, x.id, (await actorByIri(instance, localMod.id))!.id);
    carolThread = await seedThread(instance, x, carol, "Carol's thread");
    aliceThread = await seedThread(instance, x, alice, "Alice's thread", "my own words");
  });
  afterAll(async () => {
    await Promise.all([lemmy?.stop(), far?.stop(), mastodon?.stop()]);
    await instance?.stop();
  });

  it("a remote moderator cannot ban a local fellow moderator (nor wipe her posts)", async () => {
    const ban = lemmyModeration("block", {
      actor: localMod.id,
      group: x.iri,
      object: carol.iri,
      removeData: true,
      summary: "coup",
    });
    expect((await lemmy.send(localMod, `${x.iri}/inbox`, ban)).status).toBe(202);
    await queueIdle(instance);
    const banned = await db()
      .selectFrom("community_bans")
      .select("actor_id")
      .where("community_id", "=", x.id)
      .where("actor_id", "=", carol.actorId)
      .execute();
    const thread = await postByIri(instance, carolThread.iri);
    // Locally this is refused ("a moderator cannot be banned; remove them as moderator first").
    expect({ banned: banned.length, removed: thread?.removed_at ?? null }).toEqual({ banned: 0, removed: null });
  });

  it("a remote moderator's plain Delete (no summary) of a LOCAL member's post is a logged, reversible removal", async () => {
    const del = plainDelete(localMod, x.iri, aliceThread.iri);
    expect((await lemmy.send(localMod, `${x.iri}/inbox`, del)).status).toBe(202);
    await queueIdle(instance);
    const post = await db()
      .selectFrom("posts")
      .select(["deleted_at", "removed_at", "source"])
      .where("id", "=", aliceThread.id)
      .executeTakeFirstOrThrow();
    const logged = await db()
      .selectFrom("moderation_actions")
      .select("action")
      .where("target_post_id", "=", aliceThread.id)
      .execute();
    // A reversible, logged removal, never a silent tombstone of our member's text.
    expect({ deleted: post.deleted_at !== null, removed: post.removed_at !== null, source: post.source }).toEqual({
      deleted: false,
      removed: true,
      source: expect.any(String),
    });
    expect(logged.map((l) => l.action)).toEqual(["remove_post"]);
  });

  it("a remote community's listed moderator cannot go around the community with a direct plain Delete", async () => {
    // The moderator is known as such once one of their actions was announced.
    const lock = lemmyModeration("lock", { actor: mod.id, group: main.id, object: mainThread });
    expect((await lemmy.send(main, `${instance.url}/inbox`, lemmyAnnounce(main.id, lock))).status).toBe(202);
    await waitFor(async () => (await postByIri(instance, mainThread))?.locked === 1, { label: "locked" });
    expect((await lemmy.send(main, `${instance.url}/inbox`, lemmyAnnounce(main.id, lemmyUndo(lock)))).status).toBe(202);
    await waitFor(async () => (await postByIri(instance, mainThread))?.locked === 0, { label: "unlocked" });

    const del = plainDelete(mod, main.id, mainThread);
    expect((await lemmy.send(mod, `${instance.url}/inbox`, del)).status).toBe(202);
    await queueIdle(instance);
    expect((await postByIri(instance, mainThread))?.deleted_at ?? null).toBeNull();
  });

  it("a non-moderator's Block to our community makes us fetch nothing it names", async () => {
    const victim = await far.addActor("victim");
    const ban = lemmyModeration("block", { actor: mallory.id, group: x.iri, object: victim.id });
    expect((await lemmy.send(mallory, `${x.iri}/inbox`, ban)).status).toBe(202);
    await queueIdle(instance);
    expect({
      fetched: far.fetches.filter((f) => f.path === "/u/victim").length,
      stored: (await actorByIri(instance, victim.id)) !== undefined,
    }).toEqual({ fetched: 0, stored: false });
  });

  it("the reported person's own server cannot close a local report about them with Resolve", async () => {
    const create = fixture("lemmy/create_page.json", {
      origin: lemmy.origin,
      actor: beta.id,
      group: x.iri,
      groupName: "pacing",
      id: ++postSeq,
      uuid: uuid(),
      title: "Harassment",
      source: "abuse",
      content: "<p>abuse</p>",
      published: new Date().toISOString(),
    });
    expect((await lemmy.send(beta, `${x.iri}/inbox`, create)).status).toBe(202);
    const post = await waitFor(() => postByIri(instance, create.object.id), { label: "beta's post in x" });
    const reportId = await fileReport(db(), instance.url, {
      reporterId: alice.actorId,
      postIds: [post.id],
      category: "harassment",
      comment: "he keeps doing this",
      forward: true,
    });
    const ours = (await db().selectFrom("reports").select("iri").where("id", "=", reportId).executeTakeFirstOrThrow())
      .iri!;
    // The forwarded Flag tells beta's server the report's IRI.
    await lemmy.waitForDelivery((b) => b.type === "Flag" && b.id === ours, { label: "forwarded Flag" });
    const resolve = {
      "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
      actor: beta.id,
      to: [x.iri],
      type: "Resolve",
      id: `${lemmy.origin}/activities/resolve/${uuid()}`,
      object: ours,
    };
    expect((await lemmy.send(beta, `${instance.url}/inbox`, resolve)).status).toBe(202);
    await queueIdle(instance);
    const status = (await db().selectFrom("reports").select("status").where("id", "=", reportId).executeTakeFirst())
      ?.status;
    expect(status, "our moderators' report, closed by the person reported").toBe("open");
  });

  const flagAbout = (object: string[]) => ({
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${mastodon.origin}/${uuid()}`,
    type: "Flag",
    actor: mastodonActor.id,
    content: "x".repeat(2000),
    object,
  });
  const adminNotes = async () =>
    (await db().selectFrom("notifications").select("id").where("user_id", "=", admin.actorId).execute()).length;

  it("one received Flag notifies each reviewer once", async () => {
    const before = await adminNotes();
    expect((await mastodon.send(mastodonActor, `${instance.url}/inbox`, flagAbout([alice.iri]))).status).toBe(202);
    await queueIdle(instance);
    expect(await adminNotes()).toBe(before + 1);
  });

  it("one remote account cannot file more than the hourly bound of reports, nor notify beyond it", async () => {
    for (let i = 0; i < REMOTE_REPORTS_PER_HOUR + 5; i++)
      expect((await mastodon.send(mastodonActor, `${instance.url}/inbox`, flagAbout([alice.iri]))).status).toBe(202);
    await queueIdle(instance);
    const reporter = (await actorByIri(instance, mastodonActor.id))!;
    const filed = await db().selectFrom("reports").select("id").where("reporter_id", "=", reporter.id).execute();
    expect(filed).toHaveLength(REMOTE_REPORTS_PER_HOUR);
    // One notification per report, and the other suites' few reports before.
    expect(await adminNotes()).toBeLessThanOrEqual(REMOTE_REPORTS_PER_HOUR + 5);
  });
});
