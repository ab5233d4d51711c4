// Nobody can speak for someone else (FEP-fe34), written as the attacks that
// worked on Kindred before: a server that serves a key document naming its
// victim as `owner`, an account signing for a neighbour on its own server,
// activities in a local member's name, objects claimed from another origin.
// Each forged request is refused and changes nothing; the real actor's
// requests still go through.
import { signRequest } from "@fedify/fedify";
import { exportMultibaseKey } from "@fedify/fedify/runtime";
import { signObject } from "@fedify/fedify/sig";
import { Delete, PUBLIC_COLLECTION as PUBLIC_IRI } from "@fedify/fedify/vocab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shippedContextLoader } from "../../federation/documents.ts";
import { createThread } from "../../src/posts/service.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, PUBLIC, snowflake, uuid } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { followRow, postByIri, queueIdle } from "../interop/support.ts";
import { seedFollow } from "../policy/support.ts";

const AS = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"];

describe("forged keys and borrowed origins", () => {
  let k: TestInstance;
  let mastodon: Peer;
  let evil: Peer;
  let lemmy: Peer;
  let vic: PeerActor;
  let eve: PeerActor;
  let mallory: PeerActor;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let thread: { id: string; iri: string };
  const forgedKeyFor = (victim: string) => `${evil.origin}/keys/${encodeURIComponent(victim)}`;

  /** POSTs `body` to `inbox`, signed with mallory's private key under `keyId` (a key document evil serves). */
  async function sendForged(inbox: string, body: Record<string, unknown>, keyId: string) {
    const request = new Request(inbox, {
      method: "POST",
      headers: { "content-type": "application/activity+json" },
      body: JSON.stringify(body),
    });
    const signed = await signRequest(request, mallory.privateKey, new URL(keyId), {
      spec: "draft-cavage-http-signatures-12",
    });
    const res = await fetch(signed);
    return { status: res.status, text: await res.text() };
  }

  /** Serves, on evil's server, a key document with mallory's public key that names `victim` as its owner. */
  function publishForgedKey(victim: string) {
    evil.publish({
      "@context": AS,
      id: forgedKeyFor(victim),
      type: "CryptographicKey",
      owner: victim,
      publicKeyPem: mallory.publicKeyPem,
    });
  }

  const note = (actor: PeerActor, text: string, inReplyTo: string, id = `${actor.id}/statuses/${snowflake()}`) => ({
    id,
    type: "Note",
    attributedTo: actor.id,
    content: `<p>${text}</p>`,
    inReplyTo,
    to: [PUBLIC],
    cc: [actor.followers, community.iri],
    published: new Date().toISOString(),
  });
  const create = (actor: PeerActor, object: Record<string, unknown>) => ({
    "@context": AS,
    id: `${actor.id}/activities/${uuid()}`,
    type: "Create",
    actor: actor.id,
    to: [PUBLIC],
    cc: [community.iri],
    object,
  });

  /** Alice, on Kindred, follows the remote group `iri` (fetched and stored from its server). */
  async function aliceFollows(iri: string) {
    const groupId = await k.runtime.remote?.resolveActor(iri);
    expect(groupId).toBeTruthy();
    const alice = await k.runtime.db
      .selectFrom("actors")
      .select("id")
      .where("username", "=", "alice")
      .executeTakeFirstOrThrow();
    await seedFollow(k.runtime.db, alice.id, groupId ?? "");
  }

  beforeAll(async () => {
    k = await startTestInstance();
    [mastodon, evil, lemmy] = await Promise.all([Peer.start("mastodon"), Peer.start("mastodon"), Peer.start("lemmy")]);
    vic = await mastodon.addActor("vic");
    eve = await mastodon.addActor("eve");
    mallory = await evil.addActor("mallory");
    const admin = await seedUser(k, "admin", { role: "admin" });
    const alice = await seedUser(k, "alice");
    community = await seedCommunity(k, admin, { slug: "hivsupport", name: "HIV positive support" });
    thread = await createThread(k.runtime.db, k.url, community, alice.actorId, { title: "Day one", body: "Hello" });
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: vic.id,
      object: community.iri,
    });
    expect((await mastodon.send(vic, `${community.iri}/inbox`, follow)).status).toBe(202);
    await mastodon.waitForDelivery((b) => b.type === "Accept", { label: "Accept of vic's Follow" });
  });
  afterAll(async () => {
    await Promise.all([k?.stop(), mastodon?.stop(), evil?.stop(), lemmy?.stop()]);
  });

  it("a key document on another server that names a remote member as owner speaks for nobody", async () => {
    publishForgedKey(vic.id);
    const inbox = `${community.iri}/inbox`;
    const undo = {
      "@context": AS,
      id: `${vic.id}#undo-${uuid()}`,
      type: "Undo",
      actor: vic.id,
      object: { id: `${mastodon.origin}/${uuid()}`, type: "Follow", actor: vic.id, object: community.iri },
    };
    const purge = {
      "@context": AS,
      id: `${vic.id}#delete`,
      type: "Delete",
      actor: vic.id,
      object: vic.id,
      to: [PUBLIC],
    };
    const post = create(vic, note(vic, "forged-in-vics-name-7KQ", thread.iri));
    for (const body of [undo, purge, post]) {
      const res = await sendForged(inbox, body, forgedKeyFor(vic.id));
      expect(res.status, `${body.type}: ${res.text}`).toBe(401);
    }
    await queueIdle(k);
    expect((await followRow(k, vic.id, community.iri))?.status).toBe("accepted");
    expect(await postByIri(k, (post.object as { id: string }).id)).toBeUndefined();
  });

  it("another account on the member's own server cannot sign for her", async () => {
    const post = create(vic, note(vic, "eve-signs-for-vic-3PD", thread.iri));
    const res = await mastodon.send(vic, `${community.iri}/inbox`, post, { signAs: eve });
    expect(res.status, res.text).toBe(401);
    expect(await postByIri(k, (post.object as { id: string }).id)).toBeUndefined();
  });

  it("activities in a local member's name are never accepted from outside, forged key or not", async () => {
    const aliceIri = `${k.url}/@alice`;
    publishForgedKey(aliceIri);
    const update = {
      "@context": AS,
      id: `${aliceIri}#update-${uuid()}`,
      type: "Update",
      actor: aliceIri,
      object: {
        id: thread.iri,
        type: "Page",
        attributedTo: aliceIri,
        name: "Forged title 9ZX",
        content: "<p>forged</p>",
      },
    };
    const res = await sendForged(`${community.iri}/inbox`, update, forgedKeyFor(aliceIri));
    expect(res.status, res.text).toBe(401);
    expect(res.text).toContain("never accepted from elsewhere");
    await queueIdle(k);
    expect((await postByIri(k, thread.iri))?.title).toBe("Day one");
    // Nothing forged was re-shared to the community's followers.
    expect(mastodon.received((b) => JSON.stringify(b).includes("Forged title 9ZX"))).toEqual([]);
  });

  it("an activity or object whose id is on another server (ours included) is not stored under the sender", async () => {
    for (const host of [k.url, evil.origin]) {
      const object = note(vic, `id-on-${host}-5TR`, thread.iri, `${host}/posts/${uuid()}`);
      // The whole claim on the other host, as the attack sent it: the Create's id and its object's.
      const res = await mastodon.send(vic, `${community.iri}/inbox`, {
        ...create(vic, object),
        id: `${host}/activities/${uuid()}`,
      });
      expect(res.status, res.text).toBe(400);
      // Only the object elsewhere: refetched from its own server, which does not have it.
      await mastodon.send(vic, `${community.iri}/inbox`, create(vic, object));
      await queueIdle(k);
      expect(await postByIri(k, object.id)).toBeUndefined();
    }
  });

  it("the member's own signed reply still goes through", async () => {
    const real = note(vic, "vic-real-reply-8HV", thread.iri);
    const res = await mastodon.send(vic, `${community.iri}/inbox`, create(vic, real));
    expect(res.status, res.text).toBe(202);
    await queueIdle(k);
    expect((await postByIri(k, real.id))?.content_html).toContain("vic-real-reply-8HV");
  });

  it("a remote group's Announce of an object its server attributes to a third server stores nothing", async () => {
    const group = await lemmy.addActor("hiv_remote", { type: "Group", name: "HIV remote" });
    await aliceFollows(group.id);
    const page = {
      id: `${lemmy.origin}/post/${uuid()}`,
      type: "Page",
      attributedTo: vic.id,
      name: "Attributed-to-vic-by-lemmy 6YU",
      content: "<p>not vic's</p>",
      to: [group.id, PUBLIC],
      audience: group.id,
      published: new Date().toISOString(),
    };
    const announce = {
      "@context": AS,
      id: `${lemmy.origin}/activities/announce/${uuid()}`,
      type: "Announce",
      actor: group.id,
      to: [PUBLIC],
      cc: [group.followers],
      object: page,
    };
    expect((await lemmy.send(group, `${k.url}/inbox`, announce)).status).toBe(202);
    // And an outsider's Create addressed to that group, which the group never re-shared.
    const outsider = {
      ...note(mallory, "outsider-in-remote-group-4BN", "", `${mallory.id}/statuses/${snowflake()}`),
      inReplyTo: null,
      cc: [group.id],
      audience: group.id,
      name: "Outsider",
    };
    evil.publish(outsider);
    const res = await evil.send(mallory, `${k.url}/inbox`, { ...create(mallory, outsider), cc: [group.id] });
    expect(res.status, res.text).toBe(202);
    await queueIdle(k);
    expect(await postByIri(k, page.id)).toBeUndefined();
    expect(await postByIri(k, outsider.id)).toBeUndefined();
  });

  // Found by review: the gate once only checked that a body's signature or proof named a key the actor lists.
  it("a body signature or proof that names the victim's key, next to the attacker's HTTP signature, vouches for nothing", async () => {
    publishForgedKey(vic.id);
    const extras = [
      { signature: { creator: vic.keyId } },
      {
        signature: {
          type: "RsaSignature2017",
          creator: vic.keyId,
          created: new Date().toISOString(),
          signatureValue: "AAAA",
        },
      },
      {
        proof: {
          type: "DataIntegrityProof",
          cryptosuite: "eddsa-jcs-2022",
          verificationMethod: vic.keyId,
          proofPurpose: "assertionMethod",
          proofValue: "zabc",
          created: new Date().toISOString(),
        },
      },
    ];
    for (const extra of extras) {
      const object = note(vic, "forged-with-embedded-signature-1MN", thread.iri);
      const res = await sendForged(
        `${community.iri}/inbox`,
        { ...create(vic, object), ...extra },
        forgedKeyFor(vic.id),
      );
      expect(res.status, res.text).toBe(401);
      await queueIdle(k);
      expect(await postByIri(k, object.id)).toBeUndefined();
    }
    const purge = {
      "@context": AS,
      id: `${vic.id}#delete`,
      type: "Delete",
      actor: vic.id,
      object: vic.id,
      signature: { creator: vic.keyId },
    };
    expect((await sendForged(`${community.iri}/inbox`, purge, forgedKeyFor(vic.id))).status).toBe(401);
    await queueIdle(k);
    expect((await followRow(k, vic.id, community.iri))?.status).toBe("accepted");
  });

  it("an unverifiable Delete of a live actor, carrying a proof by a key that claims her as controller, purges no one", async () => {
    const ghost = await evil.addActor("ghost");
    ghost.gone = true; // its key answers 410, as an erased account's does
    const pair = (await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
    const multikey = `${evil.origin}/multikey/${uuid()}`;
    evil.publish({
      "@context": "https://w3id.org/security/multikey/v1",
      id: multikey,
      type: "Multikey",
      controller: vic.id,
      publicKeyMultibase: await exportMultibaseKey(pair.publicKey),
    });
    const unsigned = new Delete({
      id: new URL(`${vic.id}#delete`),
      actor: new URL(vic.id),
      object: new URL(vic.id),
      to: PUBLIC_IRI,
    });
    const signed = await signObject(unsigned, pair.privateKey, new URL(multikey), {
      contextLoader: shippedContextLoader,
    });
    const body = await signed.toJsonLd({ format: "compact", contextLoader: shippedContextLoader });
    const res = await sendForged(`${community.iri}/inbox`, body as Record<string, unknown>, ghost.keyId);
    expect(res.status).toBe(202);
    await queueIdle(k);
    expect((await followRow(k, vic.id, community.iri))?.status).toBe("accepted");
  });

  it("a context that renames actor or id, so that plain JSON and JSON-LD disagree, is refused", async () => {
    const object = note(vic, "aliased-actor-6FG", thread.iri);
    const aliased = {
      ...create(mallory, object),
      "@context": [
        ...AS,
        {
          actor: { "@id": "https://evil.invalid/ns#decoy", "@type": "@id" },
          by: { "@id": "as:actor", "@type": "@id" },
        },
      ],
      by: vic.id,
    };
    const res = await evil.send(mallory, `${community.iri}/inbox`, aliased);
    expect(res.status).toBe(400);
    expect(res.text).toContain("redefine");
    const keyed = { ...create(mallory, object), "https://www.w3.org/ns/activitystreams#actor": vic.id };
    expect((await evil.send(mallory, `${community.iri}/inbox`, keyed)).status).toBe(400);
    await queueIdle(k);
    expect(await postByIri(k, object.id)).toBeUndefined();
  });

  // Runs last: it stops the member's server.
  it("a group's Announce of a Delete(Person) while the person's server is down purges no one", async () => {
    const group = await lemmy.addActor("relay_like", { type: "Group", name: "Relay-like" });
    await aliceFollows(group.id);
    await mastodon.stop();
    const del = { id: `${vic.id}#delete-${uuid()}`, type: "Delete", actor: vic.id, object: vic.id, to: [PUBLIC] };
    const announce = {
      "@context": AS,
      id: `${lemmy.origin}/activities/announce/${uuid()}`,
      type: "Announce",
      actor: group.id,
      to: [PUBLIC],
      object: del,
    };
    expect((await lemmy.send(group, `${k.url}/inbox`, announce)).status).toBe(202);
    await queueIdle(k);
    expect((await followRow(k, vic.id, community.iri))?.status).toBe("accepted");
  });
});
