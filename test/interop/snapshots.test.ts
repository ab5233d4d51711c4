// The JSON Kindred puts on the wire, pinned: its Group and Person actors, a
// thread (Page), a reply (Note), and the Accept and Announces a Mastodon peer
// receives. Ports, UUIDs, timestamps and key material are replaced with
// placeholders so the snapshots only change when the shape does. Review a
// changed snapshot as a change of what other servers see.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { updateProfile } from "../../src/accounts/service.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { type Delivery, fixture, Peer, type PeerActor, uuid } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { getJson, idOf } from "./support.ts";

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;
/** Values that are random per run, replaced wherever they appear (by key). */
const SECRET_KEYS: Record<string, string> = {
  publicKeyPem: "<public-key-pem>",
  publicKeyMultibase: "<public-key-multibase>",
  proofValue: "<proof-value>",
  signatureValue: "<signature-value>",
};

describe("wire-format snapshots", () => {
  let instance: TestInstance;
  let mastodon: Peer;
  let admin: LocalUser;
  let river: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let alice: PeerActor;
  let accept: Delivery;
  let thread: { id: string; iri: string };
  let reply: { id: string; iri: string };

  /** Placeholders for everything that changes between runs. */
  function normalize(value: unknown): unknown {
    if (typeof value === "string") {
      return value
        .replaceAll(instance.url, "https://kindred.example")
        .replaceAll(mastodon.origin, "https://mastodon.example")
        .replaceAll(new URL(instance.url).host, "kindred.example")
        .replace(UUID, "<uuid>")
        .replace(TIMESTAMP, "<timestamp>");
    }
    if (Array.isArray(value)) return value.map(normalize);
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          k in SECRET_KEYS && typeof v === "string" ? SECRET_KEYS[k] : normalize(v),
        ]),
      );
    }
    return value;
  }
  const pretty = (value: unknown) => `${JSON.stringify(normalize(value), null, 2)}\n`;
  /** What a receiving server sees of a delivery: the signature's shape and the body. */
  const delivery = (d: Delivery) => ({
    path: d.path,
    contentType: d.headers["content-type"],
    signature: {
      algorithm: /algorithm="([^"]+)"/.exec(d.headers.signature ?? "")?.[1],
      headers: /headers="([^"]+)"/.exec(d.headers.signature ?? "")?.[1],
      keyId: d.keyId,
    },
    verified: d.verified,
    body: d.body,
  });

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance(), Peer.start("mastodon")]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    river = await seedUser(instance, "river");
    await updateProfile(instance.runtime.db, instance.url, river.actorId, {
      displayName: "River",
      bio: "Long hauler since **2022**. #pacing",
      email: "",
    });
    community = await seedCommunity(instance, admin, {
      slug: "long-covid",
      name: "Long Covid",
      description: "Peer support for *long covid*.",
      rules: "Be kind.",
    });
    alice = await mastodon.addActor("alice");
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: alice.id,
      object: community.iri,
    });
    expect((await mastodon.send(alice, `${community.iri}/inbox`, follow)).status).toBe(202);
    accept = await mastodon.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id);
    thread = await createThread(instance.runtime.db, instance.url, community, river.actorId, {
      title: "Pacing that works",
      body: "Rest *before* you crash. #pacing",
      cw: "energy",
    });
    reply = await createReply(instance.runtime.db, instance.url, community, admin.actorId, thread.id, {
      body: "Thanks, this helps.",
    });
    await mastodon.waitForDelivery(
      (b) => b.type === "Announce" && b.object?.type === "Note" && b.object.id === reply.iri,
    );
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  it("Group actor", async () => {
    const doc = await getJson(community.iri);
    expect(doc.status).toBe(200);
    expect(doc.contentType).toMatch(/^application\/activity\+json/);
    await expect(pretty(doc.body)).toMatchFileSnapshot("./__snapshots__/group-actor.json");
  });

  it("Person actor", async () => {
    const doc = await getJson(river.iri);
    expect(doc.status).toBe(200);
    await expect(pretty(doc.body)).toMatchFileSnapshot("./__snapshots__/person-actor.json");
  });

  it("thread (Page)", async () => {
    const doc = await getJson(thread.iri);
    expect(doc.status).toBe(200);
    expect(doc.body.type).toBe("Page");
    await expect(pretty(doc.body)).toMatchFileSnapshot("./__snapshots__/thread-page.json");
  });

  it("reply (Note)", async () => {
    const doc = await getJson(reply.iri);
    expect(doc.status).toBe(200);
    expect(doc.body.type).toBe("Note");
    await expect(pretty(doc.body)).toMatchFileSnapshot("./__snapshots__/reply-note.json");
  });

  it("Accept received by a Mastodon follower", async () => {
    await expect(pretty(delivery(accept))).toMatchFileSnapshot("./__snapshots__/accept-delivery.json");
  });

  it("Announces of a thread received by a Mastodon follower", async () => {
    const announces = mastodon.received(
      (b) => b.type === "Announce" && (idOf(b.object) === thread.iri || idOf(b.object?.object) === thread.iri),
    );
    expect(announces.map((d) => d.body.object.type).sort()).toEqual(["Create", "Page"]);
    const byType = (t: string) => announces.find((d) => d.body.object.type === t)!;
    await expect(pretty(delivery(byType("Create")))).toMatchFileSnapshot(
      "./__snapshots__/announce-create-page-delivery.json",
    );
    await expect(pretty(delivery(byType("Page")))).toMatchFileSnapshot("./__snapshots__/announce-page-delivery.json");
  });
});
