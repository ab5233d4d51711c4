// The domain policy enforced on a running instance, against fake Mastodon
// servers on loopback (whose "domain" is 127.0.0.1:PORT): suspension (403 at
// the inbox, no deliveries, no fetches, purge of what we held), allowlist
// mode, silence (pending follows, unlisted and never re-shared posts, hidden
// from logged-out visitors), reject_media, and noop.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { allowDomain, blockDomain, purgeDomain, setFederationMode } from "../../src/policy/service.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects, freshDatabase } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, PUBLIC, uuid, waitFor } from "../helpers/peer.ts";
import { loggedIn, seedCommunity, seedUser } from "../helpers/seed.ts";
import { actorByIri, followRow, likeCount, postByIri, queueIdle } from "../interop/support.ts";
import {
  announceOfCreate,
  countFollows,
  deliveriesMentioning,
  describeDeliveries,
  idOf,
  mastodonFollow,
  mastodonLike,
  mastodonNote,
  seedFollow,
  seedLocalUser,
  seedRemoteActor,
  withAvatar,
} from "./support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

const waitForPost = (instance: TestInstance, iri: string) =>
  waitFor(() => postByIri(instance, iri), { label: `post ${iri} to be stored` });

/** Sends a Mastodon Follow to the community's inbox and waits for the Accept. */
async function followAndWait(peer: Peer, actor: PeerActor, community: Community) {
  const follow = mastodonFollow(peer, actor, community.iri);
  const res = await peer.send(actor, `${community.iri}/inbox`, follow);
  expect(res.status, res.text).toBe(202);
  await peer.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id, {
    label: `Accept of ${actor.username}'s Follow`,
  });
  return follow;
}

async function likesBy(instance: TestInstance, actorId: string): Promise<number> {
  const row = await instance.runtime.db
    .selectFrom("likes")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("actor_id", "=", actorId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(dialects)("suspension of a Mastodon server (%s)", (dialect) => {
  let instance: TestInstance;
  /** The server that gets suspended. */
  let blocked: Peer;
  /** Another server, not blocked, whose user follows the same community. */
  let other: Peer;
  /** A Lemmy server with a community the admin joined: it relays what its members from anywhere do. */
  let lemmy: Peer;
  let lemmyGroup: PeerActor;
  /** A Lemmy post in that community, stored here. */
  let lemmyPage: { iri: string; id: string };
  let admin: LocalUser;
  let member: LocalUser;
  let community: Community;
  let alice: PeerActor;
  let carol: PeerActor;
  let aliceAvatar: string;
  /** How many deliveries the blocked server had received when the block was made. */
  let deliveriesAtBlock = 0;
  const db = () => instance.runtime.db;

  beforeAll(async () => {
    [instance, blocked, other, lemmy] = await Promise.all([
      startTestInstance({ dialect }),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
      Peer.start("lemmy"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    member = await seedUser(instance, "member");
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    lemmyGroup = await lemmy.addActor("chronic_pain", { type: "Group", name: "Chronic Pain" });
    lemmyPage = await joinLemmyCommunityWithAPost(instance, lemmy, lemmyGroup, admin);
    alice = await blocked.addActor("alice", { name: "Alice Fog", summary: "Pacing and rest" });
    aliceAvatar = withAvatar(blocked, alice);
    carol = await other.addActor("carol", { name: "Carol" });
    await followAndWait(blocked, alice, community);
    await followAndWait(other, carol, community);
  });
  afterAll(async () => {
    await Promise.all([blocked?.stop(), other?.stop(), lemmy?.stop()]);
    await instance?.stop();
  });

  it("purges the server's follows, likes, posts (tombstoning one a member replied to, keeping the reply) and profile data", async () => {
    const lone = mastodonNote(blocked, alice, {
      text: "Nobody answers this one.",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    const answered = mastodonNote(blocked, alice, {
      text: "Does anyone else crash after showers?",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    for (const create of [lone, answered])
      expect((await blocked.send(alice, `${instance.url}/inbox`, create)).status).toBe(202);
    const lonePost = await waitForPost(instance, lone.object.id);
    const answeredPost = await waitForPost(instance, answered.object.id);
    const reply = await createReply(db(), instance.url, community, member.actorId, answeredPost.id, {
      body: "Yes, every time. Cool water helps me.",
    });
    const ownThread = await createThread(db(), instance.url, community, member.actorId, {
      title: "Heat intolerance",
      body: "Anyone?",
    });
    expect((await blocked.send(alice, `${member.iri}/inbox`, mastodonLike(alice, ownThread.iri))).status).toBe(202);
    await waitFor(async () => (await likeCount(instance, ownThread.id)) === 1, { label: "alice's like" });
    await queueIdle(instance);

    const before = await actorByIri(instance, alice.id);
    expect(before, "alice is known before the block").toMatchObject({
      name: "Alice Fog",
      avatar_url: aliceAvatar,
      deleted_at: null,
    });
    expect(before!.summary_html).toContain("Pacing and rest");
    expect(await followRow(instance, alice.id, community.iri)).toMatchObject({ status: "accepted" });

    const result = await blockDomain(db(), { domain: blocked.host, severity: "suspend", publicComment: "Harassment" });
    await instance.runtime.policy.refresh();
    deliveriesAtBlock = blocked.deliveries.length;
    expect(result).toEqual({ created: true, purged: { actors: 1, follows: 1, posts: 2 } });

    expect(await followRow(instance, alice.id, community.iri), "alice's membership is gone").toBeUndefined();
    expect(await followRow(instance, carol.id, community.iri), "carol's stays").toMatchObject({ status: "accepted" });
    expect(await postByIri(instance, lone.object.id), "an unanswered post is deleted").toBeUndefined();
    expect(await postByIri(instance, answered.object.id), "an answered post stays as a tombstone").toMatchObject({
      id: answeredPost.id,
      title: null,
      content_html: "",
      summary: null,
      deleted_at: expect.any(String),
    });
    const replyRow = await db().selectFrom("posts").selectAll().where("id", "=", reply.id).executeTakeFirstOrThrow();
    expect(replyRow).toMatchObject({
      parent_id: answeredPost.id,
      thread_id: answeredPost.id,
      deleted_at: null,
      local: 1,
    });
    expect(replyRow.content_html).toContain("Cool water helps me.");
    const tags = await db()
      .selectFrom("post_tags")
      .select("post_id")
      .where("post_id", "in", [lonePost.id, answeredPost.id])
      .execute();
    expect(tags).toEqual([]);
    const aliceRow = await actorByIri(instance, alice.id);
    expect(await likesBy(instance, aliceRow!.id)).toBe(0);
    expect(await likeCount(instance, ownThread.id)).toBe(0);
    expect(aliceRow).toMatchObject({
      name: null,
      summary_html: null,
      avatar_url: null,
      url: null,
      deleted_at: expect.any(String),
    });
  });

  it("answers the server's validly signed deliveries with 403 and stores nothing from them", async () => {
    const aliceRow = await actorByIri(instance, alice.id);
    const create = mastodonNote(blocked, alice, {
      text: "Let me back in.",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    for (const inbox of [`${instance.url}/inbox`, `${community.iri}/inbox`, `${member.iri}/inbox`]) {
      const res = await blocked.send(alice, inbox, create);
      expect(res.status, `${inbox}: ${res.text}`).toBe(403);
    }
    const thread = await createThread(db(), instance.url, community, admin.actorId, { title: "Still here", body: "" });
    expect((await blocked.send(alice, `${admin.iri}/inbox`, mastodonLike(alice, thread.iri))).status).toBe(403);
    const dave = await blocked.addActor("dave");
    const follow = mastodonFollow(blocked, dave, community.iri);
    expect((await blocked.send(dave, `${community.iri}/inbox`, follow)).status).toBe(403);

    // The same server's unsigned POST is no better off (Fedify refuses it as it would anyone's).
    expect((await blocked.send(dave, `${instance.url}/inbox`, follow, { signAs: null })).status).toBeGreaterThanOrEqual(
      400,
    );

    await queueIdle(instance);
    expect(await postByIri(instance, create.object.id)).toBeUndefined();
    expect(await likeCount(instance, thread.id)).toBe(0);
    expect(await actorByIri(instance, dave.id), "dave was never fetched or stored").toBeUndefined();
    expect(await followRow(instance, dave.id, community.iri)).toBeUndefined();
    expect(await actorByIri(instance, alice.id), "alice's row stays scrubbed").toMatchObject({
      name: null,
      deleted_at: aliceRow!.deleted_at,
    });
  });

  it("delivers a new local thread to the other server's follower but nothing at all to the suspended server", async () => {
    const thread = await createThread(db(), instance.url, community, member.actorId, {
      title: "Electrolytes in the morning",
      body: "Salt helps.",
    });
    const d = await other.waitForDelivery(announceOfCreate(community.iri, thread.iri), {
      label: "the Announce at the other server",
    });
    expect(d.verified).toBe(true);
    await queueIdle(instance);
    const since = blocked.deliveries.slice(deliveriesAtBlock);
    expect(describeDeliveries(since), "deliveries to the suspended server since the block").toEqual([]);
  });

  it("ignores the suspended server's like and reply relayed by a community on another server", async () => {
    // Lemmy relays its members' votes and comments (FEP-1b12), whichever server they are on.
    const like = mastodonLike(alice, lemmyPage.iri);
    const reply = mastodonNote(blocked, alice, {
      text: "Relayed from a suspended server.",
      mentioned: { iri: lemmyGroup.id, name: "chronic_pain" },
      inReplyTo: lemmyPage.iri,
    });
    for (const object of [like, reply]) {
      const announce = {
        "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
        id: `${lemmy.origin}/activities/announce/${uuid()}`,
        type: "Announce",
        actor: lemmyGroup.id,
        to: [PUBLIC],
        cc: [`${lemmyGroup.id}/followers`],
        object,
      };
      const res = await lemmy.send(lemmyGroup, `${instance.url}/inbox`, announce);
      expect(res.status, res.text).toBe(202);
    }
    await queueIdle(instance);
    expect(await postByIri(instance, reply.object.id), "the relayed reply").toBeUndefined();
    expect(await likeCount(instance, lemmyPage.id), "the relayed like").toBe(0);
  });

  it("fetches nothing from the suspended server when someone looks its actors up", async () => {
    const zed = await blocked.addActor("zed");
    const resolved = await instance.runtime.remote!.resolveActor(zed.id);
    expect(resolved).toBeNull();
    expect(await actorByIri(instance, zed.id)).toBeUndefined();
    expect(
      blocked.fetches.filter((f) => f.path === "/users/zed"),
      "no GET of the actor document",
    ).toEqual([]);
  });
});

/** The admin joins a Lemmy community (Follow, Lemmy's Accept), which then announces a post by one of its users. */
async function joinLemmyCommunityWithAPost(
  instance: TestInstance,
  lemmy: Peer,
  group: PeerActor,
  admin: LocalUser,
): Promise<{ iri: string; id: string }> {
  const poster = await lemmy.addActor("lemmy_beta");
  const groupId = await instance.runtime.remote!.resolveActor(group.id);
  expect(groupId, "the Lemmy community resolves").toBeTruthy();
  expect(await followRemote(instance.runtime.db, instance.url, admin.actorId, groupId!)).toBe("pending");
  const follow = await lemmy.waitForDelivery((b) => b.type === "Follow" && b.object === group.id);
  const accept = fixture("lemmy/accept.json", {
    origin: lemmy.origin,
    actor: group.id,
    follower: admin.iri,
    followId: follow.body.id,
    uuid: uuid(),
  });
  expect((await lemmy.send(group, `${admin.iri}/inbox`, accept)).status).toBe(202);
  await waitFor(async () => (await followRow(instance, admin.iri, group.id))?.status === "accepted", {
    label: "the join to be accepted",
  });
  const announce = fixture("lemmy/announce_create_page.json", {
    origin: lemmy.origin,
    group: group.id,
    actor: poster.id,
    id: 1,
    uuid: uuid(),
    announceUuid: uuid(),
    title: "Heat or ice?",
    source: "Which helps you?",
    content: "<p>Which helps you?</p>\n",
    published: new Date().toISOString(),
  });
  expect((await lemmy.send(group, `${instance.url}/inbox`, announce)).status).toBe(202);
  const post = await waitFor(() => postByIri(instance, announce.object.object.id), {
    label: "the announced Lemmy post",
  });
  return { iri: announce.object.object.id, id: post.id };
}

describe.each(dialects)("purge of a suspended domain (%s)", (dialect) => {
  it("covers actors on its subdomains and its ports, including a subdomain on a non-default port", async () => {
    const database = await freshDatabase(dialect);
    try {
      const db = database.db;
      const lena = await seedLocalUser(db, "https://kindred.example", "lena");
      const hosts = [
        "example.com",
        "example.com:8443",
        "social.example.com",
        "social.example.com:8443",
        "notexample.com",
        "example.org",
      ];
      const ids = new Map<string, string>();
      for (const [i, host] of hosts.entries()) {
        const id = await seedRemoteActor(db, host, `user${i}`);
        ids.set(host, id);
        await seedFollow(db, id, lena.actorId);
      }
      const result = await purgeDomain(db, "example.com");
      const rows = await db
        .selectFrom("actors")
        .select(["host", "deleted_at", "name"])
        .where("local", "=", 0)
        .orderBy("host")
        .execute();
      const purged = rows
        .filter((r) => r.deleted_at !== null)
        .map((r) => r.host)
        .sort();
      expect(purged).toEqual(["example.com", "example.com:8443", "social.example.com", "social.example.com:8443"]);
      expect(result).toEqual({ actors: 4, follows: 4, posts: 0 });
      expect(await countFollows(db)).toBe(2);
    } finally {
      await database.drop();
    }
  });
});

describe("allowlist mode", () => {
  let instance: TestInstance;
  /** On the allow list. */
  let allowed: Peer;
  /** Not on it. */
  let outside: Peer;
  let admin: LocalUser;
  let member: LocalUser;
  let community: Community;
  let carol: PeerActor;
  let cody: PeerActor;
  let codysPostId: string;
  let outsideAtSwitch = 0;
  const db = () => instance.runtime.db;

  beforeAll(async () => {
    [instance, allowed, outside] = await Promise.all([
      startTestInstance(),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    member = await seedUser(instance, "member");
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    carol = await allowed.addActor("carol");
    cody = await outside.addActor("cody");
    // Both joined while the instance was open; cody also posted.
    await followAndWait(allowed, carol, community);
    await followAndWait(outside, cody, community);
    const note = mastodonNote(outside, cody, {
      text: "Compression socks!",
      mentioned: { iri: community.iri, name: "pots" },
    });
    expect((await outside.send(cody, `${instance.url}/inbox`, note)).status).toBe(202);
    codysPostId = (await waitForPost(instance, note.object.id)).id;
    await queueIdle(instance);

    await allowDomain(db(), allowed.host);
    await setFederationMode(db(), "allowlist");
    await instance.runtime.policy.refresh();
    outsideAtSwitch = outside.deliveries.length;
  });
  afterAll(async () => {
    await Promise.all([allowed?.stop(), outside?.stop()]);
    await instance?.stop();
  });

  it("answers a Follow from a server off the list with 403 and records nothing", async () => {
    const cleo = await outside.addActor("cleo");
    const follow = mastodonFollow(outside, cleo, community.iri);
    const res = await outside.send(cleo, `${community.iri}/inbox`, follow);
    expect(res.status, res.text).toBe(403);
    const create = mastodonNote(outside, cody, { text: "Hello?", mentioned: { iri: community.iri, name: "pots" } });
    expect((await outside.send(cody, `${instance.url}/inbox`, create)).status).toBe(403);
    await queueIdle(instance);
    expect(await actorByIri(instance, cleo.id)).toBeUndefined();
    expect(await followRow(instance, cleo.id, community.iri)).toBeUndefined();
    expect(await postByIri(instance, create.object.id)).toBeUndefined();
  });

  it("accepts a Follow from an allowed server", async () => {
    const bea = await allowed.addActor("bea");
    await followAndWait(allowed, bea, community);
    expect(await followRow(instance, bea.id, community.iri)).toMatchObject({ status: "accepted" });
    expect(instance.runtime.policy.isSuspended(instance.url), "our own host").toBe(false);
  });

  it("delivers threads and replies to the allowed server only, though a member on the other server still follows", async () => {
    expect(await followRow(instance, cody.id, community.iri), "the switch purges nothing").toMatchObject({
      status: "accepted",
    });
    const thread = await createThread(db(), instance.url, community, member.actorId, {
      title: "Salt loading",
      body: "How much?",
    });
    await allowed.waitForDelivery(announceOfCreate(community.iri, thread.iri), {
      label: "the thread at the allowed server",
    });
    // A reply to cody's post would go to cody directly (and to the community's followers).
    const reply = await createReply(db(), instance.url, community, member.actorId, codysPostId, {
      body: "Which brand do you use?",
    });
    await allowed.waitForDelivery(announceOfCreate(community.iri, reply.iri), {
      label: "the reply at the allowed server",
    });
    await queueIdle(instance);
    expect(
      describeDeliveries(outside.deliveries.slice(outsideAtSwitch)),
      "deliveries to the server off the list",
    ).toEqual([]);
  });
});

describe("silence, reject_media and noop", () => {
  let instance: TestInstance;
  /** Silenced. */
  let silenced: Peer;
  /** noop with reject_media. */
  let medialess: Peer;
  /** A noop block. */
  let noop: Peer;
  /** Unblocked: its user follows the community and sees what it re-shares. */
  let watcher: Peer;
  let admin: LocalUser;
  let member: LocalUser;
  let community: Community;
  let nora: PeerActor;
  let noraAvatar: string;
  let wren: PeerActor;
  const db = () => instance.runtime.db;

  beforeAll(async () => {
    [instance, silenced, medialess, noop, watcher] = await Promise.all([
      startTestInstance(),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    member = await seedUser(instance, "member");
    community = await seedCommunity(instance, admin, { slug: "eds", name: "EDS" });
    nora = await noop.addActor("nora", { name: "Nora" });
    noraAvatar = withAvatar(noop, nora);
    wren = await watcher.addActor("wren");
    await followAndWait(watcher, wren, community);
    await followAndWait(noop, nora, community);
    await blockDomain(db(), { domain: silenced.host, severity: "silence" });
    await blockDomain(db(), { domain: medialess.host, severity: "noop", rejectMedia: true });
    await instance.runtime.policy.refresh();
  });
  afterAll(async () => {
    await Promise.all([silenced?.stop(), medialess?.stop(), noop?.stop(), watcher?.stop()]);
    await instance?.stop();
  });

  it("a noop block changes nothing: no purge, follows accepted, posts public and re-shared", async () => {
    const result = await blockDomain(db(), { domain: noop.host, severity: "noop" });
    await instance.runtime.policy.refresh();
    expect(result).toEqual({ created: true, purged: null });
    expect(instance.runtime.policy.check(noop.origin)).toEqual({
      severity: "noop",
      rejectMedia: false,
      rejectReports: false,
      matched: noop.host,
    });
    expect(await followRow(instance, nora.id, community.iri), "nora's membership stays").toMatchObject({
      status: "accepted",
    });
    expect(await actorByIri(instance, nora.id)).toMatchObject({
      name: "Nora",
      avatar_url: noraAvatar,
      deleted_at: null,
    });

    const ned = await noop.addActor("ned");
    await followAndWait(noop, ned, community);
    expect(await followRow(instance, ned.id, community.iri)).toMatchObject({ status: "accepted" });
    const create = mastodonNote(noop, nora, {
      text: "Joint hypermobility and pacing.",
      mentioned: { iri: community.iri, name: "eds" },
    });
    expect((await noop.send(nora, `${instance.url}/inbox`, create)).status).toBe(202);
    expect(await waitForPost(instance, create.object.id)).toMatchObject({
      audience: "public",
      community_id: community.id,
    });
    await watcher.waitForDelivery(
      (b) => b.type === "Announce" && b.actor === community.iri && idOf(b.object) === create.id,
      { label: "the re-share of nora's post" },
    );
  });

  it("keeps a Follow from a silenced server pending (no Accept), for a community and for a person", async () => {
    const sam = await silenced.addActor("sam");
    const ofCommunity = mastodonFollow(silenced, sam, community.iri);
    const ofMember = mastodonFollow(silenced, sam, member.iri);
    expect((await silenced.send(sam, `${community.iri}/inbox`, ofCommunity)).status).toBe(202);
    expect((await silenced.send(sam, `${member.iri}/inbox`, ofMember)).status).toBe(202);
    await waitFor(() => followRow(instance, sam.id, member.iri), { label: "sam's follow of the member" });
    await queueIdle(instance);
    expect(await followRow(instance, sam.id, community.iri)).toMatchObject({ status: "pending", accepted_at: null });
    expect(await followRow(instance, sam.id, member.iri)).toMatchObject({ status: "pending", accepted_at: null });
    expect(
      silenced.received((b) => b.type === "Accept"),
      "no Accept sent",
    ).toEqual([]);
  });

  it("stores a silenced server's public post as unlisted, never re-shares it, and hides it from logged-out visitors", async () => {
    const sue = await silenced.addActor("sue");
    const quiet = mastodonNote(silenced, sue, {
      text: "Bracing for subluxations.",
      mentioned: { iri: community.iri, name: "eds" },
    });
    const loud = mastodonNote(noop, nora, {
      text: "Physio twice a week.",
      mentioned: { iri: community.iri, name: "eds" },
    });
    const watcherBefore = watcher.deliveries.length;
    expect((await silenced.send(sue, `${instance.url}/inbox`, quiet)).status).toBe(202);
    expect((await noop.send(nora, `${instance.url}/inbox`, loud)).status).toBe(202);
    const quietPost = await waitForPost(instance, quiet.object.id);
    const loudPost = await waitForPost(instance, loud.object.id);
    expect(quietPost).toMatchObject({ audience: "unlisted", community_id: community.id, deleted_at: null });
    expect(loudPost).toMatchObject({ audience: "public", community_id: community.id });

    // The unblocked post is re-shared to the community's followers; the silenced one is not.
    await watcher.waitForDelivery((b) => b.type === "Announce" && idOf(b.object) === loud.id, {
      label: "the re-share of the unblocked post",
    });
    await queueIdle(instance);
    expect(
      describeDeliveries(deliveriesMentioning(watcher, quiet.object.id, watcherBefore)),
      "deliveries naming the silenced post",
    ).toEqual([]);

    const anonymous = await new WebClient(instance.url).get(`/@${community.slug}`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.text).toContain(`href="/posts/${loudPost.id}"`);
    expect(anonymous.text, "the silenced post on the logged-out community page").not.toContain(
      `/posts/${quietPost.id}`,
    );
    const signedIn = await (await loggedIn(instance, member.username)).get(`/@${community.slug}`);
    expect(signedIn.status).toBe(200);
    expect(signedIn.text, "members still see it").toContain(`href="/posts/${quietPost.id}"`);
  });

  it("stores no avatar URL for an actor on a server whose media is rejected, and still the rest of the profile", async () => {
    const mia = await medialess.addActor("mia", { name: "Mia", summary: "EDS since birth" });
    withAvatar(medialess, mia);
    await followAndWait(medialess, mia, community);
    const row = await actorByIri(instance, mia.id);
    expect(row).toMatchObject({ name: "Mia", avatar_url: null, deleted_at: null });
    expect(await followRow(instance, mia.id, community.iri), "reject_media alone does not limit follows").toMatchObject(
      { status: "accepted" },
    );
    // Control: the same document shape from the noop server keeps its avatar.
    expect((await actorByIri(instance, nora.id))?.avatar_url).toBe(noraAvatar);
  });
});
