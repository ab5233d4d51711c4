// Members-only communities over ActivityPub, per-community server lists and
// authorized fetch, against Mastodon-shaped peers.
import { signRequest } from "@fedify/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideMembership } from "../../src/communities/membership.ts";
import { getCommunity, updateCommunity } from "../../src/communities/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor, PUBLIC } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { addressing, queueIdle } from "../interop/support.ts";
import { mastodonFollow } from "./support.ts";

/** A GET of `url` signed by `actor` (null: unsigned), as Mastodon fetches objects. */
async function fetchAs(actor: PeerActor | null, url: string): Promise<{ status: number; body: string }> {
  let request = new Request(url, { headers: { accept: "application/activity+json" } });
  if (actor)
    request = await signRequest(request, actor.privateKey, new URL(actor.keyId), {
      spec: "draft-cavage-http-signatures-12",
    });
  const res = await fetch(request);
  return { status: res.status, body: await res.text() };
}

describe("a members-only community over ActivityPub", () => {
  let instance: TestInstance;
  let member: Peer;
  let outsider: Peer;
  let ada: PeerActor;
  let eve: PeerActor;
  let threadIri: string;
  let communityIri: string;

  beforeAll(async () => {
    [instance, member, outsider] = await Promise.all([
      startTestInstance(),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    const circle = await seedCommunity(instance, admin, { slug: "circle", name: "Circle", visibility: "members" });
    communityIri = circle.iri;
    [ada, eve] = await Promise.all([member.addActor("ada"), outsider.addActor("eve")]);
    // ada asks to join; a moderator approves.
    expect((await member.send(ada, `${instance.url}/inbox`, mastodonFollow(member, ada, circle.iri))).status).toBe(202);
    await queueIdle(instance);
    const adaRow = await instance.runtime.db
      .selectFrom("actors")
      .select("id")
      .where("iri", "=", ada.id)
      .executeTakeFirstOrThrow();
    await decideMembership(instance.runtime.db, circle.id, admin.actorId, adaRow.id, true);
    await member.waitForDelivery((b) => b.type === "Accept");
    const thread = await createThread(
      instance.runtime.db,
      instance.url,
      await getCommunity(instance.runtime.db, "circle"),
      admin.actorId,
      { title: "Only for us", body: "private words 51c2" },
    );
    threadIri = thread.iri;
  });
  afterAll(async () => {
    await Promise.all([member?.stop(), outsider?.stop()]);
    await instance?.stop();
  });

  it("reaches the approved Mastodon follower addressed to the followers collection, never Public", async () => {
    const delivery = await member.waitForDelivery(
      (b) => b.type === "Announce" && typeof b.object === "object" && b.object.type === "Create",
    );
    expect(delivery.verified).toBe(true);
    const create = delivery.body.object;
    expect(addressing(create, "to")).toEqual([`${communityIri}/followers`]);
    for (const o of [delivery.body, create, create.object]) {
      expect([...addressing(o, "to"), ...addressing(o, "cc")]).not.toContain(PUBLIC);
    }
    expect(create.object.content).toContain("private words 51c2");
  });

  it("is not readable without a signature, nor with one from a server without members", async () => {
    expect((await fetchAs(null, threadIri)).status).toBe(401);
    const fromOutsider = await fetchAs(eve, threadIri);
    expect(fromOutsider.status).toBe(401);
    expect(fromOutsider.body).not.toContain("private words 51c2");
  });

  it("is readable with a signature from a member's server", async () => {
    const res = await fetchAs(ada, threadIri);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ type: "Page", name: "Only for us" });
  });

  it("shows its member count to anyone and its member list to no one else (test/security/membership-privacy)", async () => {
    for (const signer of [null, eve, ada]) {
      const root = await fetchAs(signer, `${communityIri}/followers`);
      expect(root.status).toBe(200);
      expect(JSON.parse(root.body).totalItems).toBe(2); // the admin and ada
      const page = await fetchAs(signer, `${communityIri}/followers?cursor=`);
      expect(page.status).toBe(200);
      expect(page.body).not.toContain(ada.id);
    }
  });

  it("never appears on the public pages", async () => {
    for (const path of ["/@circle", "/tags/post", "/@admin", "/"]) {
      const res = await fetch(new URL(path, instance.url));
      expect(await res.text(), path).not.toContain("Only for us");
    }
  });
});

describe("a community's own list of servers", () => {
  let instance: TestInstance;
  let allowed: Peer;
  let other: Peer;

  beforeAll(async () => {
    [instance, allowed, other] = await Promise.all([
      startTestInstance(),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
  });
  afterAll(async () => {
    await Promise.all([allowed?.stop(), other?.stop()]);
    await instance?.stop();
  });

  it("accepts followers from listed servers only", async () => {
    const admin = await seedUser(instance, "admin", { role: "admin" });
    const c = await seedCommunity(instance, admin, { slug: "trial", name: "Trial" });
    await updateCommunity(instance.runtime.db, instance.url, c.id, {
      name: "Trial",
      allowedServers: new URL(allowed.origin).host,
    });
    const [amy, oz] = await Promise.all([allowed.addActor("amy"), other.addActor("oz")]);
    await allowed.send(amy, `${instance.url}/inbox`, mastodonFollow(allowed, amy, c.iri));
    await other.send(oz, `${instance.url}/inbox`, mastodonFollow(other, oz, c.iri));
    await allowed.waitForDelivery((b) => b.type === "Accept");
    await other.waitForDelivery((b) => b.type === "Reject");
    const follows = await instance.runtime.db
      .selectFrom("follows")
      .innerJoin("actors", "actors.id", "follows.follower_id")
      .select(["actors.iri", "follows.status"])
      .where("follows.followee_id", "=", c.id)
      .where("actors.local", "=", 0)
      .execute();
    expect(follows).toEqual([{ iri: amy.id, status: "accepted" }]);
  });
});

describe("authorized fetch", () => {
  let instance: TestInstance;
  let peer: Peer;

  beforeAll(async () => {
    [instance, peer] = await Promise.all([
      startTestInstance({ env: { AUTHORIZED_FETCH: "true" } }),
      Peer.start("mastodon"),
    ]);
  });
  afterAll(async () => {
    await peer?.stop();
    await instance?.stop();
  });

  it("answers only signed fetches of objects, and keeps actor documents open for key checks", async () => {
    const admin = await seedUser(instance, "admin", { role: "admin" });
    await seedCommunity(instance, admin, { slug: "open", name: "Open" });
    const t = await createThread(
      instance.runtime.db,
      instance.url,
      await getCommunity(instance.runtime.db, "open"),
      admin.actorId,
      { title: "Public but signed" },
    );
    const ann = await peer.addActor("ann");
    expect((await fetchAs(null, t.iri)).status).toBe(401);
    expect((await fetchAs(ann, t.iri)).status).toBe(200);
    expect((await fetchAs(null, `${instance.url}/@open`)).status).toBe(200);
    // A signature from a suspended server does not count.
    await instance.runtime.db
      .insertInto("domain_blocks")
      .values({
        domain: new URL(peer.origin).host,
        severity: "suspend",
        reject_media: 0,
        reject_reports: 0,
        public_comment: null,
        private_comment: null,
        obfuscate: 0,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      })
      .execute();
    await instance.runtime.policy.refresh();
    expect((await fetchAs(ann, t.iri)).status).toBe(401);
  });
});
