// Deleting posts so that every server drops its copy. NodeBB answers 202 to an
// erasure's `Delete(Person)` (with Lemmy's `removeData`) and keeps the text;
// it hard-deletes a post only on a `Delete` whose object is a bare IRI that
// answers 410 Gone, as Lemmy sends it. So every `Delete` of a post we send
// (the author's or a moderator's deletion, retention, an erasure; directly or
// in the community's `Announce`) names the post by its bare IRI, and that IRI
// answers 410 with a `Tombstone`, also once an erasure removed the row. The
// Mastodon- and Lemmy-shaped peers check that they get the same, signed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { queuedDeliveriesOf } from "../../src/context.ts";
import { eraseAccount } from "../../src/erasure/service.ts";
import { newId } from "../../src/ids.ts";
import { createReply, createThread, deletePost } from "../../src/posts/service.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, uuid, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { Sink } from "../helpers/sinks.ts";
import { getJson, idOf, postByIri, queueIdle } from "../interop/support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

/**
 * NodeBB's rule, as the issue found it: a post goes only on a `Delete` whose
 * object is a bare IRI, fetched, that answers 410 Gone.
 */
async function nodebbWouldPurge(del: any): Promise<boolean> {
  if (del?.type !== "Delete" || typeof del.object !== "string") return false;
  const res = await fetch(del.object, { headers: { accept: "application/activity+json" } });
  await res.arrayBuffer();
  return res.status === 410;
}

describe("Deletes of posts name the bare IRI, which answers 410 Gone with a Tombstone", () => {
  let instance: TestInstance;
  let mastodon: Peer;
  let lemmy: Peer;
  let admin: LocalUser;
  let alice: LocalUser;
  let bob: LocalUser;
  let carol: LocalUser;
  let community: Community;
  let mara: PeerActor;
  let lem: PeerActor;

  beforeAll(async () => {
    [instance, mastodon, lemmy] = await Promise.all([startTestInstance(), Peer.start("mastodon"), Peer.start("lemmy")]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    [alice, bob, carol] = await Promise.all([
      seedUser(instance, "alice"),
      seedUser(instance, "bob"),
      seedUser(instance, "carol"),
    ]);
    community = await seedCommunity(instance, admin, { slug: "pacing", name: "Pacing" });
    [mara, lem] = await Promise.all([mastodon.addActor("mara"), lemmy.addActor("lem")]);
    for (const [peer, actor] of [
      [mastodon, mara],
      [lemmy, lem],
    ] as const) {
      const vars = { origin: peer.origin, uuid: uuid(), actor: actor.id };
      const follow =
        peer === mastodon
          ? fixture("mastodon/follow.json", { ...vars, object: community.iri })
          : fixture("lemmy/follow.json", { ...vars, group: community.iri });
      const res = await peer.send(actor, `${community.iri}/inbox`, follow);
      expect(res.status, res.text).toBe(202);
      await peer.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id, {
        label: `the community's Accept of ${actor.id}`,
      });
    }
  });
  afterAll(async () => {
    await Promise.all([mastodon?.stop(), lemmy?.stop()]);
    await instance?.stop();
  });

  const db = () => instance.runtime.db;
  /** A community's `Announce` of a `Delete` of `iri` by `by`. */
  const announcedDelete = (iri: string, by: string) => (b: any) =>
    b.type === "Announce" &&
    b.actor === community.iri &&
    b.object?.type === "Delete" &&
    b.object.actor === by &&
    idOf(b.object.object) === iri;
  /** The author's own `Delete` of `iri`. */
  const directDelete = (iri: string, by: string) => (b: any) =>
    b.type === "Delete" && b.actor === by && idOf(b.object) === iri;
  const arrived = (peer: Peer, iri: string) =>
    peer.waitForDelivery((b) => b.type === "Announce" && b.object?.type === "Create" && b.object.object?.id === iri, {
      label: `the post ${iri} at ${peer.software}`,
    });

  async function expectGone(iri: string, formerType: "Page" | "Note") {
    const doc = await getJson(iri);
    expect({ status: doc.status, contentType: doc.contentType }, iri).toEqual({
      status: 410,
      contentType: "application/activity+json",
    });
    expect(doc.body).toMatchObject({ id: iri, type: "Tombstone", formerType });
    // It says that the IRI is gone, and nothing more.
    expect(Object.keys(doc.body).sort()).toEqual(["@context", "formerType", "id", "type"]);
  }

  it("the author's deletion of a thread and a reply: their Delete and the community's Announce(Delete) name the bare IRI", async () => {
    const thread = await createThread(db(), instance.url, community, alice.actorId, {
      title: "Heart-rate pacing",
      body: "Keeping under my threshold helps.",
    });
    const reply = await createReply(db(), instance.url, community, alice.actorId, thread.id, {
      body: "Update: a watch with alerts helps too.",
    });
    await Promise.all([arrived(mastodon, thread.iri), arrived(mastodon, reply.iri), arrived(lemmy, reply.iri)]);
    // Live, they are served as documents.
    expect((await getJson(thread.iri)).status).toBe(200);

    await deletePost(db(), reply.id, alice.actorId);
    await deletePost(db(), thread.id, alice.actorId);

    for (const [iri, type] of [
      [thread.iri, "Page"],
      [reply.iri, "Note"],
    ] as const) {
      for (const peer of [mastodon, lemmy]) {
        const announce = await peer.waitForDelivery(announcedDelete(iri, alice.iri), {
          label: `Announce(Delete ${iri}) at ${peer.software}`,
        });
        const direct = await peer.waitForDelivery(directDelete(iri, alice.iri), {
          label: `alice's Delete ${iri} at ${peer.software}`,
        });
        expect({ verified: announce.verified, signer: announce.signer }).toEqual({
          verified: true,
          signer: community.iri,
        });
        expect({ verified: direct.verified, signer: direct.signer }).toEqual({ verified: true, signer: alice.iri });
        // The wire shape: a bare IRI, as Lemmy sends it (Mastodon, Lemmy and Misskey read it as well as a Tombstone).
        expect(announce.body.object.object).toBe(iri);
        expect(direct.body.object).toBe(iri);
        expect(await nodebbWouldPurge(announce.body.object), "NodeBB drops the announced copy").toBe(true);
        expect(await nodebbWouldPurge(direct.body), "NodeBB drops the author's copy").toBe(true);
      }
      await expectGone(iri, type);
    }
  });

  it("an IRI that never was a post answers 404, not 410; a live one is unaffected", async () => {
    expect((await getJson(`${instance.url}/posts/${newId()}`)).status).toBe(404);
    expect((await getJson(`${instance.url}/replies/${newId()}`)).status).toBe(404);
    const live = await createThread(db(), instance.url, community, bob.actorId, { title: "Still here", body: "Yes" });
    const doc = await getJson(live.iri);
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({ id: live.iri, type: "Page", name: "Still here" });
    // A thread's IRI under the replies path (or the reverse) is not its IRI: no Tombstone there either.
    await deletePost(db(), live.id, bob.actorId);
    await expectGone(live.iri, "Page");
    expect((await getJson(live.iri.replace("/posts/", "/replies/"))).status).not.toBe(200);
    expect((await getJson(live.iri.replace("/posts/", "/replies/"))).body?.type).not.toBe("Tombstone");
  });

  it("an erasure sends Delete(Person) (no Delete per post to Mastodon or Lemmy), and every IRI answers 410, also where the row is gone", async () => {
    const lone = await createThread(db(), instance.url, community, carol.actorId, {
      title: "Carol's lone thread",
      body: "Nobody answered this one.",
    });
    const answered = await createThread(db(), instance.url, community, carol.actorId, {
      title: "Carol's answered thread",
      body: "Bob answered this one.",
    });
    const bobsThread = await createThread(db(), instance.url, community, bob.actorId, { title: "Bob's", body: "Hi" });
    await createReply(db(), instance.url, community, bob.actorId, answered.id, { body: "Bob's answer stays." });
    const carolsReply = await createReply(db(), instance.url, community, carol.actorId, bobsThread.id, {
      body: "Carol's reply to Bob.",
    });
    await Promise.all([lone, answered, carolsReply].map((p) => arrived(lemmy, p.iri)));

    await eraseAccount(db(), instance.url, carol.actorId, { queued: queuedDeliveriesOf(instance.runtime) });
    // Carol's post with a reply stays as a tombstone row; the others are removed outright.
    expect(await postByIri(instance, lone.iri)).toBeUndefined();
    expect(await postByIri(instance, carolsReply.iri)).toBeUndefined();
    expect((await postByIri(instance, answered.iri))?.deleted_at).not.toBeNull();

    // Lemmy still gets the Delete(Person) with removeData, as before.
    const person = await lemmy.waitForDelivery(
      (b) => b.type === "Delete" && b.actor === carol.iri && b.object === carol.iri,
      {
        label: "Delete(Person) of carol at Lemmy",
      },
    );
    expect(person.body.removeData).toBe(true);
    await mastodon.waitForDelivery((b) => b.type === "Delete" && b.actor === carol.iri && b.object === carol.iri, {
      label: "Delete(Person) of carol at Mastodon",
    });
    await queueIdle(instance);
    for (const [post, type] of [
      [lone, "Page"],
      [answered, "Page"],
      [carolsReply, "Note"],
    ] as const) {
      // Mastodon and Lemmy drop her posts with her: no Delete per post is queued for them.
      for (const peer of [mastodon, lemmy]) expect(peer.received(announcedDelete(post.iri, carol.iri))).toEqual([]);
      await expectGone(post.iri, type);
    }
    // What keeps the removed IRIs answering 410: their ids and kinds, nothing anyone wrote nor who wrote it.
    const gone = await db().selectFrom("gone_posts").selectAll().orderBy("type").execute();
    expect(gone.map((g) => ({ id: g.id, type: g.type })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: lone.id, type: "Page" },
        { id: carolsReply.id, type: "Note" },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    // Under the other kind's path, the same id is nobody's IRI.
    expect((await getJson(`${instance.url}/replies/${lone.id}`)).status).toBe(404);
    expect((await getJson(`${instance.url}/posts/${carolsReply.id}`)).status).toBe(404);
    await queueIdle(instance);
  });

  it("a server whose NodeInfo says NodeBB gets each post's own Delete by its bare IRI, which NodeBB purges", async () => {
    const nodebb = await Sink.start("normal", { software: "nodebb" });
    try {
      const status = await nodebb.send(`${community.iri}/inbox`, {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${nodebb.origin}/follow/${uuid()}`,
        type: "Follow",
        actor: nodebb.actor,
        object: community.iri,
      });
      expect(status).toBe(202);
      await queueIdle(instance);
      const dora = await seedUser(instance, "dora");
      const thread = await createThread(db(), instance.url, community, dora.actorId, { title: "Dora's", body: "Hi" });
      const reply = await createReply(db(), instance.url, community, dora.actorId, thread.id, { body: "Me again" });
      await queueIdle(instance);
      await eraseAccount(db(), instance.url, dora.actorId, { queued: queuedDeliveriesOf(instance.runtime) });
      for (const post of [thread, reply]) {
        const del = await waitFor(
          async () => nodebb.posts.find((p) => p.type === "Delete" && JSON.parse(p.raw).object === post.iri),
          { label: `Delete(${post.iri}) at NodeBB` },
        );
        expect(JSON.parse(del.raw).actor).toBe(dora.iri);
        expect(await nodebbWouldPurge(JSON.parse(del.raw)), `NodeBB drops ${post.iri}`).toBe(true);
      }
      await queueIdle(instance);
      for (const peer of [mastodon, lemmy])
        expect(
          peer.received((b) => b.type === "Delete" && [thread.iri, reply.iri].includes(idOf(b.object) ?? "")),
        ).toEqual([]);
    } finally {
      await nodebb.stop();
    }
  });
});
