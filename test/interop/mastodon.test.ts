// Kindred against a fake Mastodon: Mastodon users follow communities, get
// their threads as boosts, post into them by mentioning them, reply, like,
// edit, delete, leave and delete their accounts — all with the JSON Mastodon
// sends (test/fixtures/mastodon/) and draft-cavage signatures, checked in the
// database and in what the fake Mastodon's inboxes record.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { decideMembership, join } from "../../src/communities/membership.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, PUBLIC, snowflake, uuid, waitFor as waitForImpl } from "../helpers/peer.ts";
import { postOnOwnConnection, seedCommunity, seedUser } from "../helpers/seed.ts";
import {
  actorByIri,
  addressing,
  allStrings,
  followRow,
  getJson,
  idOf,
  likeCount,
  postByIri,
  queueIdle,
  rowCount,
} from "./support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

/** A Mastodon `Follow` of `object`. */
const mastodonFollow = (peer: Peer, actor: PeerActor, object: string) =>
  fixture("mastodon/follow.json", { origin: peer.origin, uuid: uuid(), actor: actor.id, object });

/** A Mastodon `Create(Note)` that mentions `mentioned` (a community or the author replied to). */
function mastodonNote(
  peer: Peer,
  actor: PeerActor,
  options: {
    text: string;
    mentioned: { iri: string; name: string };
    hashtag?: string;
    inReplyTo?: string | null;
    id?: string;
  },
) {
  return fixture("mastodon/create_note.json", {
    origin: peer.origin,
    host: peer.host,
    actor: actor.id,
    username: actor.username,
    id: options.id ?? snowflake(),
    published: new Date().toISOString(),
    inReplyTo: options.inReplyTo ?? null,
    mentioned: options.mentioned.iri,
    mentionedUrl: options.mentioned.iri,
    mentionedName: options.mentioned.name,
    mentionedHost: new URL(options.mentioned.iri).host,
    text: options.text,
    hashtag: options.hashtag ?? "longcovid",
  });
}

/** Sends a Mastodon Follow to the community's inbox and waits for the Accept; returns the Follow. */
async function followAndWait(_instance: TestInstance, peer: Peer, actor: PeerActor, community: Community) {
  const follow = mastodonFollow(peer, actor, community.iri);
  const res = await peer.send(actor, `${community.iri}/inbox`, follow);
  expect(res.status, res.text).toBe(202);
  await peer.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id, {
    label: `Accept of ${actor.username}'s Follow`,
  });
  return follow;
}

/** The Announce (by the community) whose object is a Create of the object `iri`. */
const announceOfCreate = (community: string, iri: string) => (b: any) =>
  b.type === "Announce" && b.actor === community && b.object?.type === "Create" && idOf(b.object.object) === iri;
/** The Announce (by the community) whose object is the object `iri` itself. */
const announceOfObject = (community: string, iri: string, type: string) => (b: any) =>
  b.type === "Announce" && b.actor === community && b.object?.type === type && b.object.id === iri;

describe("Mastodon interop", () => {
  let instance: TestInstance;
  /** mastodon.example: the users who post. */
  let mastodon: Peer;
  /** A second Mastodon server with one follower of the community. */
  let mastodon2: Peer;
  let admin: LocalUser;
  let member: LocalUser;
  let community: Community;
  let approval: Community;
  let alice: PeerActor;
  let carol: PeerActor;

  beforeAll(async () => {
    [instance, mastodon, mastodon2] = await Promise.all([
      startTestInstance(),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    member = await seedUser(instance, "member");
    community = await seedCommunity(instance, admin, {
      slug: "long-covid",
      name: "Long Covid",
      description: "Living with long covid.",
    });
    approval = await seedCommunity(instance, admin, { slug: "me-cfs", name: "ME/CFS", join: "approval" });
    expect(await join(instance.runtime.db, instance.url, community, member.actorId)).toBe("accepted");
    alice = await mastodon.addActor("alice", { name: "Alice 🌿" });
    carol = await mastodon2.addActor("carol", { name: "Carol" });
    await followAndWait(instance, mastodon, alice, community);
    await followAndWait(instance, mastodon2, carol, community);
  });
  afterAll(async () => {
    await Promise.all([mastodon?.stop(), mastodon2?.stop()]);
    await instance?.stop();
  });

  const db = () => instance.runtime.db;

  it("answers a Follow of a community with a signed Accept that embeds the Follow, and records the membership", async () => {
    const ada = await mastodon.addActor("ada", { name: "Ada" });
    const follow = mastodonFollow(mastodon, ada, community.iri);
    const res = await mastodon.send(ada, `${community.iri}/inbox`, follow);
    expect(res.status, res.text).toBe(202);

    const accept = await mastodon.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id);
    expect(accept.verified, "Kindred's signature on the Accept verifies with the key in its actor document").toBe(true);
    expect(accept.signer).toBe(community.iri);
    expect(accept.keyId).toBe(`${community.iri}#main-key`);
    expect(accept.path, "the Accept goes to the follower's own inbox").toBe("/users/ada/inbox");
    expect(accept.headers.digest, "draft-cavage deliveries carry a body digest").toMatch(/^SHA-256=/);
    expect(accept.headers["content-type"]).toMatch(/^application\/activity\+json/);
    expect(accept.body).toMatchObject({
      type: "Accept",
      actor: community.iri,
      object: { type: "Follow", id: follow.id, actor: ada.id, object: community.iri },
    });
    expect(accept.body.id).toMatch(new RegExp(`^${instance.url}/`));
    expect(addressing(accept.body, "to")).toEqual([ada.id]);

    const row = await followRow(instance, ada.id, community.iri);
    expect(row).toMatchObject({ iri: follow.id, status: "accepted" });
    expect(row!.accepted_at).not.toBeNull();
    const stored = await actorByIri(instance, ada.id);
    expect(stored).toMatchObject({
      type: "Person",
      local: 0,
      username: "ada",
      name: "Ada",
      host: mastodon.host,
      inbox_url: `${ada.id}/inbox`,
      shared_inbox_url: `${mastodon.origin}/inbox`,
      followers_url: `${ada.id}/followers`,
      featured_url: `${ada.id}/collections/featured`,
    });
  });

  it("leaves a Follow of an approval-only community pending until a moderator approves it, then sends the Accept", async () => {
    const bob = await mastodon.addActor("bob");
    const follow = mastodonFollow(mastodon, bob, approval.iri);
    expect((await mastodon.send(bob, `${approval.iri}/inbox`, follow)).status).toBe(202);
    await queueIdle(instance);
    expect(await followRow(instance, bob.id, approval.iri)).toMatchObject({
      iri: follow.id,
      status: "pending",
      accepted_at: null,
    });
    expect(
      mastodon.received((b) => idOf(b.object) === follow.id),
      "no answer while the request is pending",
    ).toEqual([]);

    const bobRow = await actorByIri(instance, bob.id);
    await decideMembership(db(), approval.id, admin.actorId, bobRow!.id, true);
    const accept = await mastodon.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id);
    expect(accept.verified).toBe(true);
    expect(accept.signer).toBe(approval.iri);
    expect(accept.body.object).toMatchObject({ type: "Follow", id: follow.id, actor: bob.id, object: approval.iri });
    expect(await followRow(instance, bob.id, approval.iri)).toMatchObject({ status: "accepted" });
  });

  it("delivers a local thread to Mastodon followers as Announce(Create(Page)) and Announce(Page), addressed to the full Public IRI", async () => {
    const thread = await createThread(db(), instance.url, community, member.actorId, {
      title: "Pacing that works",
      body: "Rest *before* you crash. #pacing",
    });
    for (const peer of [mastodon, mastodon2]) {
      const viaCreate = await peer.waitForDelivery(announceOfCreate(community.iri, thread.iri), {
        label: `Announce(Create(Page)) at ${peer.origin}`,
      });
      const viaPage = await peer.waitForDelivery(announceOfObject(community.iri, thread.iri, "Page"), {
        label: `Announce(Page) at ${peer.origin}`,
      });
      for (const d of [viaCreate, viaPage]) {
        expect(d.verified).toBe(true);
        expect(d.signer).toBe(community.iri);
        expect(d.path, "fan-out prefers the shared inbox").toBe("/inbox");
        expect(addressing(d.body, "to")).toEqual([PUBLIC]);
        expect(addressing(d.body, "cc")).toEqual([`${community.iri}/followers`]);
        // Mastodon compares addressing by string: the CURIE would make the post non-public there.
        expect(
          allStrings(d.body).filter((s) => s === "as:Public" || s === "Public"),
          "no as:Public CURIE on the wire",
        ).toEqual([]);
        expect(d.raw).not.toContain('"as:Public"');
      }
      const create = viaCreate.body.object;
      expect(create).toMatchObject({ type: "Create", actor: member.iri });
      expect(addressing(create, "to")).toEqual([PUBLIC]);
      for (const page of [create.object, viaPage.body.object]) {
        expect(page).toMatchObject({
          type: "Page",
          id: thread.iri,
          name: "Pacing that works",
          audience: community.iri,
          attributedTo: member.iri,
        });
        expect(page.content).toContain("Rest <em>before</em> you crash.");
        expect(addressing(page, "to")).toEqual([PUBLIC]);
        expect(addressing(page, "cc")).toEqual(expect.arrayContaining([community.iri, `${community.iri}/followers`]));
      }
    }
  });

  it("stores a Mastodon post that mentions the community as a sanitized thread there, and re-shares it to the other followers", async () => {
    const text = `Brain fog is worse after hot showers. <script>alert("xss")</script><img src="x" onerror="alert(2)"><a href="javascript:alert(3)">tips</a>`;
    const create = mastodonNote(mastodon, alice, {
      text,
      mentioned: { iri: community.iri, name: "long-covid" },
      hashtag: "brainfog",
    });
    const res = await mastodon.send(alice, `${instance.url}/inbox`, create);
    expect(res.status, res.text).toBe(202);

    const post = await waitForPost(create.object.id);
    const aliceRow = await actorByIri(instance, alice.id);
    expect(post).toMatchObject({
      type: "Note",
      local: 0,
      community_id: community.id,
      parent_id: null,
      thread_id: post.id,
      author_id: aliceRow!.id,
      audience: "public",
      deleted_at: null,
    });
    expect(post.url).toBe(create.object.url);
    expect(post.content_html).toContain("Brain fog is worse after hot showers.");
    expect(post.content_html).toContain(`<span class="h-card"><a href="${community.iri}" class="u-url mention"`);
    expect(post.content_html).toContain("@<span>long-covid</span></a></span>");
    for (const bad of ["<script", "alert(", "<img", "onerror", "javascript:"])
      expect(post.content_html).not.toContain(bad);
    const tags = await db().selectFrom("post_tags").select("tag").where("post_id", "=", post.id).execute();
    expect(tags.map((t) => t.tag)).toEqual(["brainfog"]);

    // carol (on another server) follows the community: she gets the activity as received, and the Note for Mastodon.
    const viaCreate = await mastodon2.waitForDelivery(
      (b) => b.type === "Announce" && b.object?.type === "Create" && b.object.id === create.id,
    );
    const viaNote = await mastodon2.waitForDelivery(announceOfObject(community.iri, create.object.id, "Note"));
    for (const d of [viaCreate, viaNote]) {
      expect(d.verified).toBe(true);
      expect(d.signer).toBe(community.iri);
      expect(d.body.actor).toBe(community.iri);
      expect(addressing(d.body, "to")).toEqual([PUBLIC]);
    }
    expect(viaCreate.body.object).toMatchObject({
      id: create.id,
      type: "Create",
      actor: alice.id,
      object: {
        id: create.object.id,
        type: "Note",
        attributedTo: alice.id,
        content: create.object.content,
        url: create.object.url,
        sensitive: false,
      },
    });
    expect(viaNote.body.object).toMatchObject({
      id: create.object.id,
      attributedTo: alice.id,
      content: create.object.content,
    });
  });

  it("stores a Mastodon reply to a Kindred thread in that thread", async () => {
    const thread = await createThread(db(), instance.url, community, member.actorId, {
      title: "Electrolytes?",
      body: "Do they help anyone?",
    });
    const reply = mastodonNote(mastodon, alice, {
      text: "They help me a lot in the mornings.",
      mentioned: { iri: member.iri, name: member.username },
      inReplyTo: thread.iri,
    });
    const res = await mastodon.send(alice, `${instance.url}/inbox`, reply);
    expect(res.status, res.text).toBe(202);

    const post = await waitForPost(reply.object.id);
    expect(post).toMatchObject({
      parent_id: thread.id,
      thread_id: thread.id,
      community_id: community.id,
      local: 0,
      title: null,
    });
    expect(post.content_html).toContain("They help me a lot in the mornings.");
    // A reply by a remote member in a local community reaches the community's followers too.
    await mastodon2.waitForDelivery(announceOfObject(community.iri, reply.object.id, "Note"));
  });

  it("counts a Mastodon Like of a Kindred thread", async () => {
    const thread = await createThread(db(), instance.url, community, member.actorId, {
      title: "Small wins",
      body: "Walked to the mailbox.",
    });
    const like = fixture("mastodon/like.json", { actor: alice.id, id: snowflake(), object: thread.iri });
    const res = await mastodon.send(alice, `${member.iri}/inbox`, like);
    expect(res.status, res.text).toBe(202);
    await waitFor(async () => (await likeCount(instance, thread.id)) === 1, "the like to be stored");
    const row = await db().selectFrom("likes").selectAll().where("post_id", "=", thread.id).executeTakeFirstOrThrow();
    expect(row.iri).toBe(like.id);
    expect(row.actor_id).toBe((await actorByIri(instance, alice.id))!.id);
  });

  it("applies a Mastodon Update(Note) to the stored post", async () => {
    const id = snowflake();
    const create = mastodonNote(mastodon, alice, {
      id,
      text: "Heart rate 140 standing up.",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, create)).status).toBe(202);
    const before = await waitForPost(create.object.id);
    expect(before.updated_at).toBeNull();

    const updated = new Date(Date.now() + 1000).toISOString();
    const update = fixture("mastodon/update_note.json", {
      origin: mastodon.origin,
      host: mastodon.host,
      actor: alice.id,
      username: "alice",
      id,
      updateSeq: Date.now(),
      published: create.object.published,
      updated,
      inReplyTo: null,
      mentioned: community.iri,
      mentionedUrl: community.iri,
      mentionedName: "long-covid",
      mentionedHost: new URL(community.iri).host,
      text: "Edited: heart rate 140 standing up, 90 lying down. <script>bad()</script>",
    });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, update)).status).toBe(202);
    const after = await waitFor(async () => {
      const p = await postByIri(instance, create.object.id);
      return p?.content_html.includes("Edited:") ? p : undefined;
    }, "the edit to be applied");
    expect(after.content_html).toContain("90 lying down.");
    expect(after.content_html).not.toContain("<script");
    expect(after.updated_at).toBe(updated);
    expect(after.id).toBe(before.id);
  });

  it("turns a post into a tombstone on a Mastodon Delete", async () => {
    const id = snowflake();
    const create = mastodonNote(mastodon, alice, {
      id,
      text: "Posted by mistake.",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, create)).status).toBe(202);
    const post = await waitForPost(create.object.id);
    await db()
      .insertInto("likes")
      .values({
        id: crypto.randomUUID(),
        iri: `${instance.url}/likes/x-${id}`,
        post_id: post.id,
        actor_id: member.actorId,
        created_at: new Date().toISOString(),
      })
      .execute();

    const del = fixture("mastodon/delete_note.json", { actor: alice.id, id });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, del)).status).toBe(202);
    const gone = await waitFor(async () => {
      const p = await postByIri(instance, create.object.id);
      return p?.deleted_at ? p : undefined;
    }, "the post to be deleted");
    expect(gone).toMatchObject({ id: post.id, content_html: "", title: null });
    expect(await likeCount(instance, post.id)).toBe(0);
  });

  it("ends the membership on a Mastodon Undo(Follow)", async () => {
    const eve = await mastodon.addActor("eve");
    const follow = await followAndWait(instance, mastodon, eve, community);
    expect(await followRow(instance, eve.id, community.iri)).toMatchObject({ status: "accepted" });
    const undo = fixture("mastodon/undo_follow.json", {
      actor: eve.id,
      id: snowflake(),
      followId: follow.id,
      object: community.iri,
    });
    expect((await mastodon.send(eve, `${community.iri}/inbox`, undo)).status).toBe(202);
    await waitFor(async () => (await followRow(instance, eve.id, community.iri)) === undefined, "the follow row to go");
  });

  it("purges everything of an account on a Mastodon Delete(Person)", async () => {
    const dora = await mastodon.addActor("dora");
    await followAndWait(instance, mastodon, dora, community);
    const thread = await createThread(db(), instance.url, community, member.actorId, {
      title: "Sleep hygiene",
      body: "What works?",
    });
    const own = mastodonNote(mastodon, dora, {
      text: "My own thread about dizziness.",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    const reply = mastodonNote(mastodon, dora, {
      text: "Magnesium at night.",
      mentioned: { iri: member.iri, name: member.username },
      inReplyTo: thread.iri,
    });
    const like = fixture("mastodon/like.json", { actor: dora.id, id: snowflake(), object: thread.iri });
    for (const activity of [own, reply, like])
      expect((await mastodon.send(dora, `${instance.url}/inbox`, activity)).status).toBe(202);
    await waitForPost(own.object.id);
    await waitForPost(reply.object.id);
    await waitFor(async () => (await likeCount(instance, thread.id)) === 1, "dora's like");

    // Mastodon deletes the account, then sends Delete(Person) signed with its key; the profile now answers 410.
    dora.gone = true;
    const del = fixture("mastodon/delete_person.json", { actor: dora.id });
    const res = await mastodon.send(dora, `${instance.url}/inbox`, del);
    expect(res.status, res.text).toBe(202);

    const doraRow = await waitFor(async () => {
      const a = await actorByIri(instance, dora.id);
      return a?.deleted_at ? a : undefined;
    }, "the actor to be marked deleted");
    const posts = await db()
      .selectFrom("posts")
      .select(["iri", "deleted_at", "content_html"])
      .where("author_id", "=", doraRow.id)
      .execute();
    expect(posts.map((p) => p.iri).sort()).toEqual([own.object.id, reply.object.id].sort());
    for (const p of posts) expect(p).toMatchObject({ content_html: "" });
    for (const p of posts) expect(p.deleted_at).not.toBeNull();
    expect(await likeCount(instance, thread.id)).toBe(0);
    expect(await followRow(instance, dora.id, community.iri)).toBeUndefined();
    expect(doraRow.name).toBeNull();
  });

  it("processes the same activity id only once when it is delivered twice", async () => {
    const finn = await mastodon.addActor("finn");
    const follow = mastodonFollow(mastodon, finn, community.iri);
    expect((await mastodon.send(finn, `${community.iri}/inbox`, follow)).status).toBe(202);
    await mastodon.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id);
    await queueIdle(instance);
    // Mastodon retries a delivery it thinks failed: same id, same body.
    const again = await mastodon.send(finn, `${community.iri}/inbox`, follow);
    expect(again.status).toBe(202);
    await queueIdle(instance);
    expect(
      mastodon.received((b) => b.type === "Accept" && idOf(b.object) === follow.id),
      "exactly one Accept",
    ).toHaveLength(1);
    const rows = await db().selectFrom("follows").select("id").where("iri", "=", follow.id).execute();
    expect(rows).toHaveLength(1);
  });

  it("refuses an unsigned POST with 401 and stores nothing", async () => {
    const create = mastodonNote(mastodon, alice, {
      text: "Unsigned.",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    const res = await mastodon.send(alice, `${instance.url}/inbox`, create, { signAs: null });
    expect(res.status).toBe(401);
    await queueIdle(instance);
    expect(await postByIri(instance, create.object.id)).toBeUndefined();
  });

  it("refuses a POST signed by an actor other than its `actor`", async () => {
    const mallory = await mastodon.addActor("mallory");
    const create = mastodonNote(mastodon, alice, {
      text: "Words put in Alice's mouth.",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    const res = await mastodon.send(alice, `${instance.url}/inbox`, create, { signAs: mallory });
    expect(res.status).toBe(401);
    const follow = mastodonFollow(mastodon, alice, approval.iri);
    expect((await mastodon.send(alice, `${approval.iri}/inbox`, follow, { signAs: mallory })).status).toBe(401);
    await queueIdle(instance);
    expect(await postByIri(instance, create.object.id)).toBeUndefined();
    expect(await followRow(instance, alice.id, approval.iri)).toBeUndefined();
  });

  it("refuses a body over 1 MiB with 413", async () => {
    const create = mastodonNote(mastodon, alice, {
      text: "x".repeat(1024 * 1024 + 10),
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    const request = await mastodon.signedRequest(alice, `${instance.url}/inbox`, create);
    const body = new Uint8Array(await request.arrayBuffer());
    const headers = Object.fromEntries(request.headers);
    const res = await postOnOwnConnection(`${instance.url}/inbox`, headers, body);
    expect(res.status).toBe(413);
    await queueIdle(instance);
    expect(await postByIri(instance, create.object.id)).toBeUndefined();
  });

  it("acknowledges an activity type it does not handle (Arrive) with 202 and stores nothing", async () => {
    await queueIdle(instance);
    const before = await Promise.all(
      (["posts", "likes", "follows", "actors"] as const).map((t) => rowCount(instance, t)),
    );
    const arrive = fixture("mastodon/arrive.json", { actor: alice.id, id: snowflake(), object: community.iri });
    const res = await mastodon.send(alice, `${community.iri}/inbox`, arrive);
    expect(res.status).toBe(202);
    await queueIdle(instance);
    const after = await Promise.all(
      (["posts", "likes", "follows", "actors"] as const).map((t) => rowCount(instance, t)),
    );
    expect(after).toEqual(before);
  });

  it("removes the like on a Mastodon Undo(Like)", async () => {
    const thread = await createThread(db(), instance.url, community, member.actorId, { title: "Undo me", body: "." });
    const likeId = snowflake();
    const like = fixture("mastodon/like.json", { actor: alice.id, id: likeId, object: thread.iri });
    expect((await mastodon.send(alice, `${member.iri}/inbox`, like)).status).toBe(202);
    await waitFor(async () => (await likeCount(instance, thread.id)) === 1, "the like");
    const undo = fixture("mastodon/undo_like.json", { actor: alice.id, id: likeId, object: thread.iri });
    expect((await mastodon.send(alice, `${member.iri}/inbox`, undo)).status).toBe(202);
    await waitFor(async () => (await likeCount(instance, thread.id)) === 0, "the like to be undone");
  });

  it("refreshes a profile on a Mastodon Update(Person)", async () => {
    const gil = await mastodon.addActor("gil", { name: "Gil" });
    await followAndWait(instance, mastodon, gil, community);
    expect((await actorByIri(instance, gil.id))!.name).toBe("Gil");
    gil.document.name = "Gil (on a break)";
    gil.document.summary = "<p>Back in May <script>x()</script></p>";
    const { "@context": context, ...person } = gil.document;
    const update = fixture("mastodon/update_person.json", { context, actor: gil.id, id: Date.now(), person });
    expect((await mastodon.send(gil, `${instance.url}/inbox`, update)).status).toBe(202);
    const row = await waitFor(async () => {
      const a = await actorByIri(instance, gil.id);
      return a?.name === "Gil (on a break)" ? a : undefined;
    }, "the profile to be refreshed");
    expect(row.summary_html).toContain("Back in May");
    expect(row.summary_html).not.toContain("<script");
  });

  it("sends a Reject when a moderator refuses a Mastodon user's join request", async () => {
    const hank = await mastodon.addActor("hank");
    const follow = mastodonFollow(mastodon, hank, approval.iri);
    expect((await mastodon.send(hank, `${approval.iri}/inbox`, follow)).status).toBe(202);
    await waitFor(
      async () => (await followRow(instance, hank.id, approval.iri))?.status === "pending",
      "the pending request",
    );
    await decideMembership(db(), approval.id, admin.actorId, (await actorByIri(instance, hank.id))!.id, false);
    const reject = await mastodon.waitForDelivery((b) => b.type === "Reject" && idOf(b.object) === follow.id);
    expect(reject.verified).toBe(true);
    expect(reject.signer).toBe(approval.iri);
    expect(reject.path).toBe("/users/hank/inbox");
    expect(reject.body.object).toMatchObject({ type: "Follow", id: follow.id, actor: hank.id, object: approval.iri });
    expect(await followRow(instance, hank.id, approval.iri)).toBeUndefined();
  });

  it("ignores an Update or a Delete of a post sent by someone other than its author", async () => {
    const id = snowflake();
    const create = mastodonNote(mastodon, alice, {
      id,
      text: "Only I may change this.",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, create)).status).toBe(202);
    await waitForPost(create.object.id);
    const ivan = await mastodon.addActor("ivan");
    // Properly signed by ivan, about alice's post.
    const update = fixture("mastodon/update_note.json", {
      origin: mastodon.origin,
      host: mastodon.host,
      actor: alice.id,
      username: "alice",
      id,
      updateSeq: Date.now(),
      published: create.object.published,
      updated: new Date().toISOString(),
      inReplyTo: null,
      mentioned: community.iri,
      mentionedUrl: community.iri,
      mentionedName: "long-covid",
      mentionedHost: new URL(community.iri).host,
      text: "Vandalised by ivan.",
    });
    update.actor = ivan.id;
    update.id = `${ivan.id}#updates/${Date.now()}`;
    const del = fixture("mastodon/delete_note.json", { actor: alice.id, id });
    del.actor = ivan.id;
    del.id = `${ivan.id}/statuses/${id}#delete`;
    for (const activity of [update, del])
      expect((await mastodon.send(ivan, `${instance.url}/inbox`, activity)).status).toBe(202);
    await queueIdle(instance);
    const post = await postByIri(instance, create.object.id);
    expect(post!.content_html).toContain("Only I may change this.");
    expect(post!.deleted_at).toBeNull();
  });

  it("purges an account whose Delete(Person) can no longer be verified because its profile and key answer 410", async () => {
    const jo = await mastodon.addActor("jo");
    await followAndWait(instance, mastodon, jo, community);
    const own = mastodonNote(mastodon, jo, {
      text: "Jo's only post.",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    expect((await mastodon.send(jo, `${instance.url}/inbox`, own)).status).toBe(202);
    await waitForPost(own.object.id);
    // Kindred has not kept Jo's key (cache expired): it must fetch it, and gets 410.
    const dropped = await db()
      .deleteFrom("fedify_kv")
      .where("key", "like", "%publicKey%")
      .where("key", "like", `%${jo.keyId}%`)
      .executeTakeFirst();
    expect(Number(dropped.numDeletedRows), "the cached key was there to drop").toBe(1);
    jo.gone = true;
    const res = await mastodon.send(
      jo,
      `${instance.url}/inbox`,
      fixture("mastodon/delete_person.json", { actor: jo.id }),
    );
    expect(res.status, res.text).toBe(202);
    const row = await waitFor(async () => {
      const a = await actorByIri(instance, jo.id);
      return a?.deleted_at ? a : undefined;
    }, "jo to be marked deleted");
    expect(mastodon.fetches, "Kindred had to fetch Jo's key and got 410").toContainEqual({
      path: "/users/jo",
      status: 410,
    });
    expect((await postByIri(instance, own.object.id))!.deleted_at).not.toBeNull();
    expect(await followRow(instance, jo.id, community.iri)).toBeUndefined();
    expect(row.name).toBeNull();
  });

  it("does not purge a live account on an unsigned Delete(Person)", async () => {
    const kim = await mastodon.addActor("kim");
    await followAndWait(instance, mastodon, kim, community);
    const res = await mastodon.send(
      kim,
      `${instance.url}/inbox`,
      fixture("mastodon/delete_person.json", { actor: kim.id }),
      { signAs: null },
    );
    expect([202, 401]).toContain(res.status);
    await queueIdle(instance);
    expect((await actorByIri(instance, kim.id))!.deleted_at).toBeNull();
    expect(await followRow(instance, kim.id, community.iri)).toMatchObject({ status: "accepted" });
  });

  it("fetches the unknown parent of a Mastodon reply from its server and stores both in the community", async () => {
    const zed = await mastodon.addActor("zed");
    const parent = mastodonNote(mastodon, zed, {
      text: "Anyone else lose their sense of smell?",
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    mastodon.publish({ "@context": parent["@context"], ...parent.object });
    const reply = mastodonNote(mastodon, alice, {
      text: "Yes, for months.",
      mentioned: { iri: zed.id, name: "zed" },
      inReplyTo: parent.object.id,
    });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, reply)).status).toBe(202);
    const stored = await waitForPost(reply.object.id);
    const root = await postByIri(instance, parent.object.id);
    expect(root, "the parent was fetched").toBeDefined();
    expect(root).toMatchObject({
      community_id: community.id,
      parent_id: null,
      author_id: (await actorByIri(instance, zed.id))!.id,
    });
    expect(stored).toMatchObject({ parent_id: root!.id, thread_id: root!.id, community_id: community.id });
    expect(mastodon.fetches.map((f) => f.path)).toContain(new URL(parent.object.id).pathname);
  });

  // A followers-only post or a direct message that names the community is
  // meant for the author's followers or the community alone; re-sharing it
  // to every follower of the community (addressed to Public, content embedded)
  // publishes it. Mastodon never boosts such posts; Lemmy refuses them.
  it("does not re-broadcast a followers-only post or a direct message addressed to the community", async () => {
    const privateText = "PRIVATE followers-only 7f3a: my diagnosis";
    const directText = "PRIVATE direct 7f3a: message to the moderators";
    const priv = mastodonNote(mastodon, alice, {
      text: privateText,
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    for (const o of [priv, priv.object]) Object.assign(o, { to: [`${alice.id}/followers`], cc: [community.iri] });
    const direct = mastodonNote(mastodon, alice, {
      text: directText,
      mentioned: { iri: community.iri, name: "long-covid" },
    });
    for (const o of [direct, direct.object]) Object.assign(o, { to: [community.iri], cc: [] });
    for (const activity of [priv, direct])
      expect((await mastodon.send(alice, `${instance.url}/inbox`, activity)).status).toBe(202);
    // Both are processed, and neither becomes a community post: with no local
    // person among their recipients, Kindred keeps nothing of them.
    await queueIdle(instance);
    for (const iri of [priv.object.id, direct.object.id]) {
      const row = await postByIri(instance, iri);
      expect(row?.community_id ?? null, `${iri} filed into the community`).toBeNull();
    }
    const leaked = (text: string) =>
      mastodon2.deliveries
        .filter((d) => d.raw.includes(text))
        .map((d) => ({ type: d.body?.type, to: d.body?.to, cc: d.body?.cc, object: d.body?.object?.type }));
    expect.soft(leaked(privateText), "a followers-only post reached carol, who does not follow its author").toEqual([]);
    expect.soft(leaked(directText), "a direct message to the community reached carol").toEqual([]);
  });

  /** Waits for the post with `iri` to be stored. */
  function waitForPost(iri: string) {
    return waitFor(() => postByIri(instance, iri), `post ${iri} to be stored`);
  }
  function waitFor<T>(probe: () => Promise<T | undefined | false | null>, label: string) {
    return waitForImpl(probe, { label, timeoutMs: 10_000 });
  }
});

// The happy path on every database this run covers (PostgreSQL when TEST_DATABASE_URL is set).
describe.each(dialects)("Mastodon happy path (%s)", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance({ dialect }), Peer.start("mastodon")]);
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  it("follows, receives a thread, and posts into the community", async () => {
    const admin = await seedUser(instance, "admin", { role: "admin" });
    const community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    const alice = await mastodon.addActor("alice");
    const follow = await followAndWait(instance, mastodon, alice, community);
    expect(await followRow(instance, alice.id, community.iri)).toMatchObject({ iri: follow.id, status: "accepted" });

    const thread = await createThread(instance.runtime.db, instance.url, community, admin.actorId, {
      title: "Salt and water",
      body: "How much?",
    });
    const a1 = await mastodon.waitForDelivery(announceOfCreate(community.iri, thread.iri));
    const a2 = await mastodon.waitForDelivery(announceOfObject(community.iri, thread.iri, "Page"));
    expect([a1.verified, a2.verified]).toEqual([true, true]);
    expect(a2.body.object).toMatchObject({ name: "Salt and water", audience: community.iri, attributedTo: admin.iri });

    const reply = await createReply(instance.runtime.db, instance.url, community, admin.actorId, thread.id, {
      body: "Three litres for me.",
    });
    await mastodon.waitForDelivery(announceOfObject(community.iri, reply.iri, "Note"));

    const create = mastodonNote(mastodon, alice, {
      text: "Compression socks <script>x()</script> help.",
      mentioned: { iri: community.iri, name: "pots" },
    });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, create)).status).toBe(202);
    const post = await waitForImpl(() => postByIri(instance, create.object.id), { label: "the Mastodon post" });
    expect(post.community_id).toBe(community.id);
    expect(post.content_html).toContain("Compression socks  help.");
    expect(post.content_html).not.toContain("<script");
    const doc = await getJson(thread.iri);
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({ type: "Page", id: thread.iri, name: "Salt and water" });
  });
});
