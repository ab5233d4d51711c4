// Issue 10, part A, written as the attack: who belongs to which community is
// health data (a members-only "HIV positive support" reveals a diagnosis).
// Followers, following and moderators collections answer everyone with their
// counts and only the actor itself with their items; a community's moderators
// go to its members too. Real instance, real Mastodon-shaped peers, real
// HTTP signatures (our own actors sign with the keys Fedify keeps for them).
import { signRequest } from "@fedify/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertRemoteActor } from "../../src/actors/remote.ts";
import { decideMembership, join } from "../../src/communities/membership.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor } from "../helpers/peer.ts";
import { loggedIn, seedCommunity, seedUser } from "../helpers/seed.ts";
import { idOf, queueIdle } from "../interop/support.ts";
import { mastodonFollow, seedFollow } from "../policy/support.ts";

interface Signer {
  keyId: URL;
  privateKey: CryptoKey;
}

const SECRET_GROUP = "https://private.example/c/secret";

const peerSigner = (actor: PeerActor): Signer => ({ keyId: new URL(actor.keyId), privateKey: actor.privateKey });

async function getAs(url: string, as: Signer | null): Promise<{ status: number; body: any; headers: Headers }> {
  let request = new Request(url, { headers: { accept: "application/activity+json" } });
  if (as) request = await signRequest(request, as.privateKey, as.keyId, { spec: "draft-cavage-http-signatures-12" });
  const res = await fetch(request);
  const text = await res.text();
  return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text, headers: res.headers };
}

const itemIds = (page: any): string[] =>
  [page?.orderedItems ?? page?.items ?? []].flat().map((i: unknown) => idOf(i) ?? "?");

/** A collection as `as` sees it: its count and every item of the root and of its first page. */
async function collectionAs(url: string, as: Signer | null): Promise<{ total: number | undefined; items: string[] }> {
  const root = await getAs(url, as);
  expect(root.status, `${url}: ${JSON.stringify(root.body)}`).toBe(200);
  const items = itemIds(root.body);
  if (root.body.first) {
    const firstUrl = idOf(root.body.first);
    expect(firstUrl).toBeDefined();
    const page = typeof root.body.first === "object" ? { status: 200, body: root.body.first } : undefined;
    const first = page ?? (await getAs(String(firstUrl), as));
    expect(first.status).toBe(200);
    items.push(...itemIds(first.body));
  }
  return { total: root.body.totalItems, items };
}

describe("membership is private", () => {
  let instance: TestInstance;
  let memberServer: Peer;
  let strangerServer: Peer;
  let ada: PeerActor; // a remote member of both communities
  let eve: PeerActor; // a stranger, who follows alice
  let adasServer: PeerActor; // the instance actor of ada's server (an Application, as Lemmy and Mastodon sign)
  let aliceIri: string;
  let adminIri: string;
  let hivIri: string;
  let walkersIri: string;
  let alice: Signer;
  let hivGroup: Signer;

  /** The keys Kindred signs with as the local actor `identifier`. */
  async function localSigner(identifier: string): Promise<Signer> {
    const ctx = instance.federation.createContext(new URL(instance.url), instance.runtime);
    const [pair] = await ctx.getActorKeyPairs(identifier);
    if (!pair) throw new Error(`no key for ${identifier}`);
    return { keyId: pair.keyId, privateKey: pair.privateKey };
  }

  beforeAll(async () => {
    [instance, memberServer, strangerServer] = await Promise.all([
      startTestInstance(),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
    const db = instance.runtime.db;
    const admin = await seedUser(instance, "admin", { role: "admin" });
    const aliceUser = await seedUser(instance, "alice");
    const hiv = await seedCommunity(instance, admin, {
      slug: "hiv",
      name: "HIV positive support",
      visibility: "members",
    });
    const walkers = await seedCommunity(instance, admin, { slug: "walkers", name: "Walking group" });
    adminIri = admin.iri;
    hivIri = hiv.iri;
    walkersIri = walkers.iri;
    aliceIri = aliceUser.iri;
    [ada, eve, adasServer] = await Promise.all([
      memberServer.addActor("ada"),
      strangerServer.addActor("eve"),
      memberServer.addActor("instance.actor"),
    ]);
    adasServer.document.type = "Application";

    // alice joins both; the members-only one after a moderator's approval.
    expect(await join(db, instance.url, hiv, aliceUser.actorId)).toBe("pending");
    await decideMembership(db, hiv.id, admin.actorId, aliceUser.actorId, true);
    expect(await join(db, instance.url, walkers, aliceUser.actorId)).toBe("accepted");
    // ada (remote) joins both too; eve follows alice.
    for (const [peer, actor, object] of [
      [memberServer, ada, hivIri],
      [memberServer, ada, walkersIri],
      [strangerServer, eve, aliceIri],
    ] as const) {
      expect((await peer.send(actor, `${instance.url}/inbox`, mastodonFollow(peer, actor, object))).status).toBe(202);
    }
    await queueIdle(instance);
    const adaRow = await db.selectFrom("actors").select("id").where("iri", "=", ada.id).executeTakeFirstOrThrow();
    await decideMembership(db, hiv.id, admin.actorId, adaRow.id, true);
    await queueIdle(instance);
    // alice also belongs to a private group elsewhere (one that approves each member, as ours do).
    const secretGroup = await upsertRemoteActor(db, {
      iri: SECRET_GROUP,
      type: "Group",
      username: "secret",
      host: "private.example",
      name: "A private group",
      summaryHtml: null,
      url: SECRET_GROUP,
      inboxUrl: `${SECRET_GROUP}/inbox`,
      sharedInboxUrl: "https://private.example/inbox",
      outboxUrl: null,
      followersUrl: `${SECRET_GROUP}/followers`,
      followingUrl: null,
      featuredUrl: null,
      avatarUrl: null,
      manuallyApprovesFollowers: true,
      discoverable: false,
    });
    await seedFollow(db, aliceUser.actorId, secretGroup);
    [alice, hivGroup] = await Promise.all([localSigner("alice"), localSigner("hiv")]);
  });
  afterAll(async () => {
    await Promise.all([memberServer?.stop(), strangerServer?.stop()]);
    await instance?.stop();
  });

  const collections = () => [
    `${aliceIri}/followers`,
    `${aliceIri}/following`,
    `${hivIri}/followers`,
    `${hivIri}/moderators`,
    `${walkersIri}/followers`,
    `${walkersIri}/moderators`,
    `${adminIri}/following`,
  ];

  it("answers an unsigned GET of every collection with its count and no items", async () => {
    for (const url of collections()) {
      const seen = await collectionAs(url, null);
      expect(typeof seen.total, url).toBe("number");
      expect(seen.items, url).toEqual([]);
    }
    expect((await collectionAs(`${hivIri}/followers`, null)).total).toBe(3); // admin, alice, ada
    expect((await collectionAs(`${walkersIri}/moderators`, null)).total).toBe(1);
  });

  it("answers a stranger's signed GET of every collection with its count and no items", async () => {
    for (const url of collections()) {
      const seen = await collectionAs(url, peerSigner(eve));
      expect(typeof seen.total, url).toBe("number");
      expect(seen.items, url).toEqual([]);
    }
  });

  it("never shows a members-only community in anyone's view of a person's following, count included", async () => {
    for (const as of [null, peerSigner(eve), peerSigner(ada), hivGroup]) {
      const seen = await collectionAs(`${aliceIri}/following`, as);
      expect(seen.items).toEqual([]);
      expect(seen.total).toBe(1); // walkers only: neither hiv nor the private group counts
    }
    for (const path of ["/@alice", "/@alice?cursor=x", "/search?q=alice"]) {
      const page = await fetch(new URL(path, instance.url), { headers: { accept: "text/html" } });
      expect(await page.text(), path).not.toContain("HIV positive support");
    }
  });

  it("lists a person's following and followers to that person's own signed request", async () => {
    const following = await collectionAs(`${aliceIri}/following`, alice);
    expect(following.items.sort()).toEqual([hivIri, walkersIri, SECRET_GROUP].sort());
    expect(following.total).toBe(3);
    const followers = await collectionAs(`${aliceIri}/followers`, alice);
    expect(followers.items).toEqual([eve.id]);
    // No shared cache may hand what alice signed for to the next reader.
    for (const path of ["following", "followers", "followers?cursor="]) {
      const res = await getAs(`${aliceIri}/${path}`, alice);
      expect(res.headers.get("cache-control"), path).toBe("private");
      expect(res.headers.get("vary"), path).toContain("Signature");
    }
  });

  it("lists a community's followers to the community only, never to a member", async () => {
    expect((await collectionAs(`${hivIri}/followers`, hivGroup)).items).toEqual([ada.id]);
    expect((await collectionAs(`${hivIri}/followers`, peerSigner(ada))).items).toEqual([]);
    expect((await collectionAs(`${hivIri}/followers`, alice)).items).toEqual([]);
  });

  it("gives a community's moderators to its members and their server's instance actor, as Lemmy reads them", async () => {
    for (const community of [hivIri, walkersIri]) {
      expect((await collectionAs(`${community}/moderators`, peerSigner(ada))).items).toEqual([adminIri]);
      expect((await collectionAs(`${community}/moderators`, peerSigner(adasServer))).items).toEqual([adminIri]);
      expect((await collectionAs(`${community}/moderators`, alice)).items).toEqual([adminIri]);
      expect((await collectionAs(`${community}/moderators`, peerSigner(eve))).items).toEqual([]);
    }
  });

  it("keeps a signature that does not check out from counting as the owner's", async () => {
    // eve signs with her own key but names alice's key: the signature fails, the request counts as unsigned.
    const forged = { keyId: alice.keyId, privateKey: peerSigner(eve).privateKey };
    const res = await getAs(`${aliceIri}/following`, forged);
    expect(res.status).toBe(200);
    expect(itemIds(res.body)).toEqual([]);
  });

  it("names a community's moderators on its page to members and admins only", async () => {
    const anonymous = await (await fetch(`${instance.url}/@walkers`, { headers: { accept: "text/html" } })).text();
    expect(anonymous).toContain("Moderators");
    expect(anonymous).not.toContain('href="/@admin"');
    const member = await loggedIn(instance, "alice");
    expect((await member.get("/@walkers")).text).toContain('href="/@admin"');
    await seedUser(instance, "outsider");
    const outsider = await loggedIn(instance, "outsider");
    expect((await outsider.get("/@hiv")).text).not.toContain('href="/@admin"');
  });
});
