// Real Kindred instances federating with each other on loopback: each has its
// own database, HTTP server, Fedify and delivery worker, and they reach one
// another only over HTTP (signed fetches, signed deliveries). Assertions read
// each instance's database directly, after polling with a deadline for the
// activity to arrive.
//
// A hosts the communities. B's member joins them, posts, replies, likes,
// edits, deletes and leaves; C also follows A's open community and gets B's
// posts only through A's `Announce` (FEP-1b12).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { decideMembership } from "../../src/communities/service.ts";
import { followRemote, unfollowRemote } from "../../src/follows/service.ts";
import { createReply, createThread, deletePost, editPost, like, unlike } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { deliveriesTo, eventually, fedifyMessages, Peer, queueDepth, settled, until } from "../helpers/federation.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;
const remoteRef = (id: string) => ({ id, visibility: "public" as const, joinPolicy: "open" as const });

const postByIri = (db: Kysely<Database>, iri: string) => db.selectFrom("posts").selectAll().where("iri", "=", iri).executeTakeFirst();
const actorByIri = (db: Kysely<Database>, iri: string) => db.selectFrom("actors").selectAll().where("iri", "=", iri).executeTakeFirst();
const tagsOf = async (db: Kysely<Database>, postId: string) =>
  (await db.selectFrom("post_tags").select("tag").where("post_id", "=", postId).orderBy("tag").execute()).map((t) => t.tag);
const likeCount = async (db: Kysely<Database>, postId: string) =>
  Number((await db.selectFrom("likes").select((eb) => eb.fn.countAll<string | number>().as("n")).where("post_id", "=", postId).executeTakeFirstOrThrow()).n);
const followStatus = async (db: Kysely<Database>, followerId: string, followeeId: string) =>
  (await db.selectFrom("follows").select("status").where("follower_id", "=", followerId).where("followee_id", "=", followeeId).executeTakeFirst())?.status ?? null;

/** Waits for `iri` to be stored on `peer`, then returns the row. */
const arrived = (peer: Peer, iri: string, what: string) => eventually(`${what} (${iri}) stored on ${peer.url}`, () => postByIri(peer.db, iri));

/** The row id `peer` gives the actor at `iri`, once it knows it. */
const knownActor = async (peer: Peer, iri: string) => (await eventually(`${peer.url} knows ${iri}`, () => actorByIri(peer.db, iri))).id;

/**
 * `member` on `peer` joins the community at `groupIri` on another instance:
 * resolves the Group over HTTP, sends the Follow. Returns the Group's row id
 * on `peer` and the status right after asking.
 */
async function joinRemote(peer: Peer, member: LocalUser, groupIri: string) {
  const groupId = await peer.runtime.remote!.resolveActor(groupIri);
  expect(groupId, `${peer.url} resolves ${groupIri}`).toBeTruthy();
  const outcome = await followRemote(peer.db, peer.url, member.actorId, groupId!);
  return { groupId: groupId!, outcome };
}

describe.each(dialects)("Kindred ↔ Kindred: join, post, reply, like, edit, delete, leave (%s)", (dialect) => {
  let A: Peer;
  let B: Peer;
  let C: Peer;
  let modA: LocalUser;
  let alice: LocalUser;
  let bob: LocalUser;
  let carol: LocalUser;
  let sleep: Community;
  /** A's community as the Group row on B and on C. */
  let groupOnB: string;
  let groupOnC: string;
  /** IRIs of the posts the tests pass along. */
  let aliceThread: string;
  let bobThread: string;
  let bobReply: string;
  let aliceReply: string;

  beforeAll(async () => {
    [A, B, C] = await Promise.all([Peer.start({ dialect }), Peer.start({ dialect }), Peer.start({ dialect })]);
    [modA, alice, bob, carol] = await Promise.all([seedUser(A, "mod_a", { role: "admin" }), seedUser(A, "alice"), seedUser(B, "bob"), seedUser(C, "carol")]);
    sleep = await seedCommunity(A, modA, { slug: "sleep", name: "Sleep trouble", description: "Talk about **sleep**." });
    // alice is a member of A's community (local join: an accepted follow).
    await A.db.insertInto("follows").values({ id: crypto.randomUUID(), iri: `${A.url}/follows/alice-sleep`, follower_id: alice.actorId, followee_id: sleep.id, status: "accepted", created_at: new Date().toISOString(), accepted_at: new Date().toISOString() }).execute();
  });
  afterAll(async () => {
    await Promise.all([A?.destroy(), B?.destroy(), C?.destroy()]);
  });

  it("B's member joins A's open community: the Follow is pending until A's Accept arrives", async () => {
    const { groupId, outcome } = await joinRemote(B, bob, sleep.iri);
    groupOnB = groupId;
    expect(outcome).toBe("pending");
    const group = await B.db.selectFrom("actors").selectAll().where("id", "=", groupOnB).executeTakeFirstOrThrow();
    expect(group).toMatchObject({ iri: sleep.iri, type: "Group", local: 0, username: "sleep", name: "Sleep trouble", manually_approves_followers: 0, inbox_url: `${sleep.iri}/inbox`, shared_inbox_url: `${A.url}/inbox` });

    await until("bob's membership accepted on B", () => followStatus(B.db, bob.actorId, groupOnB), (s) => s === "accepted");
    const bobOnA = await actorByIri(A.db, bob.iri);
    expect(bobOnA).toMatchObject({ local: 0, type: "Person", username: "bob", inbox_url: `${bob.iri}/inbox` });
    expect(await followStatus(A.db, bobOnA!.id, sleep.id)).toBe("accepted");
    // The Follow's IRI is B's: A recorded the very activity B sent.
    const followOnB = await B.db.selectFrom("follows").select("iri").where("follower_id", "=", bob.actorId).where("followee_id", "=", groupOnB).executeTakeFirstOrThrow();
    const followOnA = await A.db.selectFrom("follows").select("iri").where("follower_id", "=", bobOnA!.id).where("followee_id", "=", sleep.id).executeTakeFirstOrThrow();
    expect(followOnA.iri).toBe(followOnB.iri);
    expect(followOnB.iri.startsWith(`${B.url}/follows/`)).toBe(true);

    // C joins too (it only ever hears of B's posts through A).
    const joinedC = await joinRemote(C, carol, sleep.iri);
    groupOnC = joinedC.groupId;
    await until("carol's membership accepted on C", () => followStatus(C.db, carol.actorId, groupOnC), (s) => s === "accepted");
  });

  it("a thread on A reaches B and C under the remote group, with title, sanitized content, content warning and hashtags", async () => {
    // A server may send anything as `content`: the thread's HTML is replaced,
    // in the same transaction as the post (so the outbox sends this), by
    // markup a receiver must never keep.
    const hostile = `<p onclick="steal()">Has anyone tried <strong>melatonin</strong>? <a href="${A.url}/tags/insomnia" class="hashtag" rel="tag">#Insomnia</a></p><script>alert(1)</script><img src="x" onerror="alert(2)"><a href="javascript:alert(3)">click</a>`;
    const created = await A.db.transaction().execute(async (trx) => {
      const post = await createThread(trx, A.url, sleep, alice.actorId, { title: "Night shifts & melatonin", body: "Has anyone tried **melatonin**? #Insomnia #NightShift", cw: "medication talk" });
      await trx.updateTable("posts").set({ content_html: hostile }).where("id", "=", post.id).execute();
      return post;
    });
    aliceThread = created.iri;

    for (const [peer, groupId] of [[B, groupOnB], [C, groupOnC]] as const) {
      const row = await arrived(peer, aliceThread, "alice's thread");
      const author = await actorByIri(peer.db, alice.iri);
      expect(row).toMatchObject({
        type: "Page", local: 0, community_id: groupId, parent_id: null, thread_id: row.id, author_id: author!.id,
        title: "Night shifts & melatonin", summary: "medication talk", sensitive: 1, audience: "public", source: null, url: aliceThread, deleted_at: null,
      });
      expect(row.content_html).toContain("<strong>melatonin</strong>");
      expect(row.content_html).toContain(`href="${A.url}/tags/insomnia"`);
      for (const bad of ["<script", "alert(1)", "onclick", "onerror", "<img", "javascript:"]) expect(row.content_html, `content on ${peer.url}`).not.toContain(bad);
      expect(await tagsOf(peer.db, row.id)).toEqual(["insomnia", "nightshift"]);
    }
  });

  it("B's member posts a thread and a reply in A's community: A stores them in the community and re-shares them to C", async () => {
    const thread = await createThread(B.db, B.url, remoteRef(groupOnB), bob.actorId, { title: "Sleep diary app?", body: "Which app do you use? #SleepDiary", cw: "apps" });
    bobThread = thread.iri;
    const bobOnA = await knownActor(A, bob.iri);
    const onA = await arrived(A, bobThread, "bob's thread");
    expect(onA).toMatchObject({ type: "Page", local: 0, community_id: sleep.id, author_id: bobOnA, parent_id: null, title: "Sleep diary app?", summary: "apps", sensitive: 1, audience: "public" });
    expect(onA.content_html).toContain("Which app do you use?");
    expect(await tagsOf(A.db, onA.id)).toEqual(["sleepdiary"]);

    const onC = await arrived(C, bobThread, "bob's thread via A's Announce");
    expect(onC).toMatchObject({ type: "Page", local: 0, community_id: groupOnC, author_id: await knownActor(C, bob.iri), title: "Sleep diary app?", summary: "apps" });
    expect(await tagsOf(C.db, onC.id)).toEqual(["sleepdiary"]);

    // bob replies to alice's thread (B's copy of it).
    const aliceOnB = (await postByIri(B.db, aliceThread))!;
    const reply = await createReply(B.db, B.url, remoteRef(groupOnB), bob.actorId, aliceOnB.id, { body: "Melatonin helped me a bit. #Insomnia" });
    bobReply = reply.iri;
    const aliceOnA = (await postByIri(A.db, aliceThread))!;
    const replyOnA = await arrived(A, bobReply, "bob's reply");
    expect(replyOnA).toMatchObject({ type: "Note", local: 0, community_id: sleep.id, parent_id: aliceOnA.id, thread_id: aliceOnA.id, author_id: bobOnA, title: null });
    expect(replyOnA.content_html).toContain("Melatonin helped me a bit.");
    const replyOnC = await arrived(C, bobReply, "bob's reply via A's Announce");
    const aliceOnC = (await postByIri(C.db, aliceThread))!;
    expect(replyOnC).toMatchObject({ type: "Note", community_id: groupOnC, parent_id: aliceOnC.id, thread_id: aliceOnC.id });
  });

  it("a reply on A to B's member's thread reaches B in its thread", async () => {
    const bobOnAThread = (await postByIri(A.db, bobThread))!;
    const reply = await createReply(A.db, A.url, sleep, alice.actorId, bobOnAThread.id, { body: "I use a paper notebook." });
    aliceReply = reply.iri;
    const bobThreadOnB = (await postByIri(B.db, bobThread))!;
    const onB = await arrived(B, aliceReply, "alice's reply to bob");
    expect(onB).toMatchObject({ type: "Note", local: 0, community_id: groupOnB, parent_id: bobThreadOnB.id, thread_id: bobThreadOnB.id });
    expect(onB.content_html).toContain("I use a paper notebook.");
    await arrived(C, aliceReply, "alice's reply");
  });

  it("a like from B counts on A and on C; unliking takes it back on A", async () => {
    const aliceOnB = (await postByIri(B.db, aliceThread))!;
    await like(B.db, B.url, aliceOnB.id, bob.actorId);
    const aliceOnA = (await postByIri(A.db, aliceThread))!;
    const bobOnA = await knownActor(A, bob.iri);
    await until("bob's like counted on A", () => likeCount(A.db, aliceOnA.id), (n) => n === 1);
    const likeOnA = await A.db.selectFrom("likes").selectAll().where("post_id", "=", aliceOnA.id).executeTakeFirstOrThrow();
    expect(likeOnA.actor_id).toBe(bobOnA);
    expect(likeOnA.iri.startsWith(`${B.url}/likes/`)).toBe(true);

    const aliceOnC = (await postByIri(C.db, aliceThread))!;
    await until("bob's like counted on C (via A's Announce)", () => likeCount(C.db, aliceOnC.id), (n) => n === 1);
  });

  it("a like on A of B's member's thread counts on B", async () => {
    const onA = (await postByIri(A.db, bobThread))!;
    await like(A.db, A.url, onA.id, alice.actorId);
    const onB = (await postByIri(B.db, bobThread))!;
    await until("alice's like counted on B", () => likeCount(B.db, onB.id), (n) => n === 1);
    const likeOnB = await B.db.selectFrom("likes").selectAll().where("post_id", "=", onB.id).executeTakeFirstOrThrow();
    expect(likeOnB.actor_id).toBe(await knownActor(B, alice.iri));
  });

  it("unliking on B removes the like on A", async () => {
    const aliceOnB = (await postByIri(B.db, aliceThread))!;
    await unlike(B.db, aliceOnB.id, bob.actorId);
    const aliceOnA = (await postByIri(A.db, aliceThread))!;
    await until("bob's like withdrawn on A", () => likeCount(A.db, aliceOnA.id), (n) => n === 0);
  });

  it("an edit on A updates B's copy", async () => {
    const onA = (await postByIri(A.db, aliceThread))!;
    await editPost(A.db, A.url, onA.id, alice.actorId, { title: "Night shifts and melatonin (update)", body: "Update: it **worked**. #Melatonin", cw: "" });
    const onB = await until("B's copy of alice's thread edited", () => postByIri(B.db, aliceThread), (p) => p?.updated_at != null);
    expect(onB).toMatchObject({ title: "Night shifts and melatonin (update)", summary: null, sensitive: 0 });
    expect(onB!.content_html).toContain("Update: it <strong>worked</strong>.");
    expect(onB!.content_html).not.toContain("Has anyone tried");
    expect(await tagsOf(B.db, onB!.id)).toEqual(["melatonin"]);
  });

  it("an edit by B's member updates A's copy", async () => {
    const onB = (await postByIri(B.db, bobThread))!;
    await editPost(B.db, B.url, onB.id, bob.actorId, { title: "Sleep diary apps", body: "Which **app** do you use now?", cw: "" });
    const onA = await until("A's copy of bob's thread edited", () => postByIri(A.db, bobThread), (p) => p?.updated_at != null);
    expect(onA).toMatchObject({ title: "Sleep diary apps", summary: null, sensitive: 0 });
    expect(onA!.content_html).toContain("Which <strong>app</strong> do you use now?");
    expect(await tagsOf(A.db, onA!.id)).toEqual([]);
  });

  it("B's member deleting their reply tombstones the copies on A and C", async () => {
    const onB = (await postByIri(B.db, bobReply))!;
    await deletePost(B.db, onB.id, bob.actorId);
    for (const peer of [A, C]) {
      const row = await until(`bob's reply tombstoned on ${peer.url}`, () => postByIri(peer.db, bobReply), (p) => p?.deleted_at != null);
      expect(row).toMatchObject({ content_html: "", title: null, summary: null });
      expect(await tagsOf(peer.db, row!.id)).toEqual([]);
    }
  });

  it("a moderator on A deleting B's member's post tombstones it on B (the author's own instance) and on C", async () => {
    // A second reply from bob, for the moderator to remove.
    const aliceOnB = (await postByIri(B.db, aliceThread))!;
    const reply = await createReply(B.db, B.url, remoteRef(groupOnB), bob.actorId, aliceOnB.id, { body: "Buy cheap pills at example.com" });
    const onA = await arrived(A, reply.iri, "bob's second reply");
    await arrived(C, reply.iri, "bob's second reply");
    await deletePost(A.db, onA.id, modA.actorId);
    for (const peer of [B, C]) {
      const row = await until(`moderator's delete applied on ${peer.url}`, () => postByIri(peer.db, reply.iri), (p) => p?.deleted_at != null);
      expect(row).toMatchObject({ content_html: "" });
    }
  });

  it("the author on A deleting their thread tombstones it on B and C", async () => {
    const onA = (await postByIri(A.db, aliceThread))!;
    await deletePost(A.db, onA.id, alice.actorId);
    for (const peer of [B, C]) {
      const row = await until(`alice's thread tombstoned on ${peer.url}`, () => postByIri(peer.db, aliceThread), (p) => p?.deleted_at != null);
      expect(row).toMatchObject({ content_html: "", title: null });
    }
  });

  it("leaving (unfollowRemote) removes the membership on A, and later threads no longer go to B", async () => {
    const bobOnA = await knownActor(A, bob.iri);
    await unfollowRemote(B.db, bob.actorId, groupOnB);
    expect(await followStatus(B.db, bob.actorId, groupOnB)).toBeNull();
    await until("bob's membership gone on A", () => followStatus(A.db, bobOnA, sleep.id), (s) => s === null);

    await settled(A.db, "A idle before the sentinel thread");
    const after = await createThread(A.db, A.url, sleep, alice.actorId, { title: "After bob left" });
    // C still follows: once C has it, A's fan-out is done; nothing went to B.
    await arrived(C, after.iri, "the thread posted after bob left");
    await settled(A.db, "A idle after the sentinel thread");
    expect(await postByIri(B.db, after.iri)).toBeUndefined();
  });
});
