// Remote erasure with Lemmy's payload: a Lemmy user who joined a local
// community, posted a thread, commented and voted deletes their account;
// Lemmy 0.19 then sends `Delete(Person)` with `removeData: true` (the same
// activity names the person as actor and object). Everything Kindred holds of
// theirs must go: the text of their posts (tombstones stay for the replies of
// others), their likes, their follows both ways, their profile text, and
// their place in the community's follower count.
//
// Three ways it arrives: signed with the key Kindred knows (our fixture,
// test/fixtures/lemmy/delete_user.json, in Lemmy 0.19's shape); the payload
// Lemmy itself produced (../shared/fixtures/real-world/, read in place,
// skipped when that folder is absent); and unverifiable, once the account
// answers 410 Gone and its key is no longer cached
// (federation/inbox/delete.ts, onUnverifiedDelete). A forged Delete of a live
// account must change nothing.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join as joinCommunity } from "../../src/communities/membership.ts";
import { followRemote } from "../../src/follows/service.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, uuid, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { actorByIri, followRow, getJson, idOf, likeCount, postByIri, queueIdle } from "./support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

const root = fileURLToPath(new URL("../..", import.meta.url));
const REAL_DELETE_USER = join(
  root,
  "..",
  "shared",
  "fixtures",
  "real-world",
  "lemmy",
  "activities",
  "deletion",
  "delete_user.json",
);
const realWorldPresent = existsSync(REAL_DELETE_USER);
if (!realWorldPresent)
  console.warn(`real-world fixtures not found at ${REAL_DELETE_USER}: skipping the captured Lemmy payload test`);
/** Where the captured payload was recorded: rewritten to the fake Lemmy's origin. */
const CAPTURED_ORIGIN = "http://ds9.lemmy.ml";

let postSeq = 500;

/** What a Lemmy user left behind on Kindred before deleting the account. */
interface Footprint {
  user: PeerActor;
  /** Row id of the user's actor on Kindred. */
  actorId: string;
  /** A string in every piece of text they wrote (profile, titles, bodies). */
  marker: string;
  /** IRIs of their thread and their two comments. */
  postIris: string[];
  /** A local member's reply to their thread (not theirs: it stays). */
  localReplyIri: string;
  followersBefore: number;
  membersBefore: number;
}

describe("Lemmy account deletion (Delete(Person), removeData)", () => {
  let instance: TestInstance;
  let lemmy: Peer;
  let admin: LocalUser;
  let member: LocalUser;
  let community: Community;
  /** A thread by a local member that Lemmy users comment on and vote for. */
  let localThread: { id: string; iri: string };

  beforeAll(async () => {
    [instance, lemmy] = await Promise.all([startTestInstance(), Peer.start("lemmy")]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    member = await seedUser(instance, "member");
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    expect(await joinCommunity(db(), instance.url, community, member.actorId)).toBe("accepted");
    localThread = await createThread(db(), instance.url, community, member.actorId, {
      title: "Weekly check-in",
      body: "How are you all?",
    });
  });
  afterAll(async () => {
    await lemmy?.stop();
    await instance?.stop();
  });

  const db = () => instance.runtime.db;

  /** The community's follower count as other servers read it (`totalItems` of its followers collection). */
  async function followersTotal(): Promise<number> {
    const res = await getJson(`${community.iri}/followers`);
    expect(res.status).toBe(200);
    return Number(res.body.totalItems);
  }
  /** The member count the community page shows. */
  async function membersShown(): Promise<number> {
    const res = await fetch(`${instance.url}/@long-covid`, { headers: { accept: "text/html" } });
    const n = /· (\d+) members?/.exec(await res.text())?.[1];
    expect(n, "the community page shows a member count").toBeDefined();
    return Number(n);
  }

  /**
   * A Lemmy user joins the community, posts a thread, comments on it and on
   * a local thread, upvotes the local thread; a local member replies to their
   * thread and follows them.
   */
  async function lemmyUserWithContent(username: string): Promise<Footprint> {
    const marker = `Private-${username}-${uuid().slice(0, 8)}`;
    const user = await lemmy.addActor(username, {
      name: `${marker} display name`,
      summary: `${marker} bio: diagnosed in 2021`,
    });
    const before = { followers: await followersTotal(), members: await membersShown() };

    const follow = fixture("lemmy/follow.json", {
      origin: lemmy.origin,
      actor: user.id,
      group: community.iri,
      uuid: uuid(),
    });
    expect((await lemmy.send(user, `${community.iri}/inbox`, follow)).status).toBe(202);
    await lemmy.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id, {
      label: `the Accept of ${username}'s Follow`,
    });

    const published = new Date().toISOString();
    const page = fixture("lemmy/create_page.json", {
      origin: lemmy.origin,
      actor: user.id,
      group: community.iri,
      groupName: "long-covid",
      id: ++postSeq,
      uuid: uuid(),
      published,
      title: `${marker} thread title`,
      source: `${marker} thread **body**`,
      content: `<p>${marker} thread <strong>body</strong></p>\n`,
    });
    const comment = (inReplyTo: string, parentAuthor: string, parentAuthorName: string, text: string) =>
      fixture("lemmy/create_note.json", {
        origin: lemmy.origin,
        actor: user.id,
        group: community.iri,
        id: ++postSeq,
        uuid: uuid(),
        published,
        inReplyTo,
        parentAuthor,
        parentAuthorName,
        source: `${marker} ${text}`,
        content: `<p>${marker} ${text}</p>\n`,
      });
    const own = comment(page.object.id, user.id, username, "adding detail to my own thread");
    const onLocal = comment(localThread.iri, member.iri, "member", "my symptoms got worse");
    const upvote = fixture("lemmy/like.json", {
      origin: lemmy.origin,
      actor: user.id,
      object: localThread.iri,
      uuid: uuid(),
      group: community.iri,
    });
    const likesBefore = await likeCount(instance, localThread.id);
    // Lemmy serves its posts at their ids; the comments come once the thread is stored (inbox work runs in parallel).
    lemmy.publish({ "@context": page["@context"], ...page.object });
    expect((await lemmy.send(user, `${community.iri}/inbox`, page)).status).toBe(202);
    await waitFor(() => postByIri(instance, page.object.id), { label: `${username}'s thread stored` });
    for (const activity of [own, onLocal, upvote]) {
      const res = await lemmy.send(user, `${community.iri}/inbox`, activity);
      expect(res.status, res.text).toBe(202);
    }
    const postIris = [page.object.id, own.object.id, onLocal.object.id];
    for (const iri of postIris) await waitFor(() => postByIri(instance, iri), { label: `${iri} stored` });
    await waitFor(async () => (await likeCount(instance, localThread.id)) === likesBefore + 1, {
      label: `${username}'s upvote`,
    });

    const actor = (await actorByIri(instance, user.id))!;
    const thread = (await postByIri(instance, page.object.id))!;
    const localReply = await createReply(db(), instance.url, community, member.actorId, thread.id, {
      body: "Thanks for sharing, same here.",
    });
    expect(await followRemote(db(), instance.url, member.actorId, actor.id)).toBe("pending");
    await lemmy.waitForDelivery((b) => b.type === "Follow" && b.object === user.id, {
      label: `the member's Follow of ${username}`,
    });
    await queueIdle(instance);

    // What is about to be purged is really there.
    expect(actor).toMatchObject({ name: `${marker} display name`, deleted_at: null });
    expect(actor.summary_html).toContain(marker);
    for (const iri of postIris) expect((await postByIri(instance, iri))!.content_html).toContain(marker);
    expect(thread.title).toBe(`${marker} thread title`);
    expect(await followRow(instance, user.id, community.iri)).toMatchObject({ status: "accepted" });
    expect(await followersTotal()).toBe(before.followers + 1);
    expect(await membersShown()).toBe(before.members + 1);
    return {
      user,
      actorId: actor.id,
      marker,
      postIris,
      localReplyIri: localReply.iri,
      followersBefore: before.followers + 1,
      membersBefore: before.members + 1,
    };
  }

  /** Waits for the purge, then checks that nothing of the user's is left but tombstones. */
  async function expectPurged(f: Footprint) {
    const actor = await waitFor(
      async () => {
        const a = await actorByIri(instance, f.user.id);
        return a?.deleted_at ? a : undefined;
      },
      { label: `${f.user.username} marked deleted` },
    );
    await queueIdle(instance);

    // Profile: no name, no bio, no avatar; the row stays (the name stays reserved).
    expect(actor).toMatchObject({ name: null, summary_html: null, avatar_url: null });
    expect(JSON.stringify(actor), "the marker in the actor row").not.toContain(f.marker);

    // Posts: tombstones without any text, in place for the replies of others.
    const rows = await db().selectFrom("posts").selectAll().where("author_id", "=", f.actorId).orderBy("iri").execute();
    expect(rows.map((r) => r.iri)).toEqual([...f.postIris].sort());
    for (const r of rows) {
      expect(
        { title: r.title, source: r.source, content_html: r.content_html, summary: r.summary, sensitive: r.sensitive },
        r.iri,
      ).toEqual({
        title: null,
        source: null,
        content_html: "",
        summary: null,
        sensitive: 0,
      });
      expect(r.deleted_at, r.iri).not.toBeNull();
    }
    const anywhere = await db().selectFrom("posts").selectAll().execute();
    expect(
      anywhere.filter((r) => JSON.stringify(r).includes(f.marker)).map((r) => r.iri),
      "posts rows still holding their text",
    ).toEqual([]);
    const tags = await db()
      .selectFrom("post_tags")
      .select("tag")
      .where(
        "post_id",
        "in",
        rows.map((r) => r.id),
      )
      .execute();
    expect(tags).toEqual([]);
    const localReply = (await postByIri(instance, f.localReplyIri))!;
    expect(localReply).toMatchObject({ deleted_at: null, source: "Thanks for sharing, same here." });

    // Likes and follows, both ways.
    expect(await db().selectFrom("likes").select("id").where("actor_id", "=", f.actorId).execute()).toEqual([]);
    const follows = await db()
      .selectFrom("follows")
      .select(["follower_id", "followee_id"])
      .where((eb) => eb.or([eb("follower_id", "=", f.actorId), eb("followee_id", "=", f.actorId)]))
      .execute();
    expect(follows).toEqual([]);

    // The community counts one follower fewer.
    expect(await followersTotal()).toBe(f.followersBefore - 1);
    expect(await membersShown()).toBe(f.membersBefore - 1);

    // The thread page shows the tombstone, and none of the text.
    const thread = rows.find((r) => r.parent_id === null)!;
    const html = await (await fetch(`${instance.url}/posts/${thread.id}`, { headers: { accept: "text/html" } })).text();
    expect(html).toContain("<h1>[deleted]</h1>");
    expect(html).toContain("Thanks for sharing, same here.");
    expect(html).not.toContain(f.marker);
  }

  it("purges everything of a Lemmy user on Lemmy 0.19's Delete(Person) with removeData: true", async () => {
    const f = await lemmyUserWithContent("lemmy_gamma");
    const del = fixture("lemmy/delete_user.json", { origin: lemmy.origin, actor: f.user.id, uuid: uuid() });
    expect(del).toMatchObject({ type: "Delete", actor: f.user.id, object: f.user.id, removeData: true, cc: [] });
    // The profile still answers here: the signature verifies, so this is the verified path
    // (the unverified one purges only accounts that are gone).
    const res = await lemmy.send(f.user, `${instance.url}/inbox`, del);
    expect(res.status, res.text).toBe(202);
    await expectPurged(f);
    // A Create retried after the Delete (out of order, signed with the key Kindred cached) brings nothing back.
    const late = fixture("lemmy/create_page.json", {
      origin: lemmy.origin,
      actor: f.user.id,
      group: community.iri,
      groupName: "long-covid",
      id: ++postSeq,
      uuid: uuid(),
      published: new Date().toISOString(),
      title: `${f.marker} late thread`,
      source: `${f.marker} late body`,
      content: `<p>${f.marker} late body</p>\n`,
    });
    lemmy.publish({ "@context": late["@context"], ...late.object });
    expect((await lemmy.send(f.user, `${community.iri}/inbox`, late)).status).toBe(202);
    await queueIdle(instance);
    expect(await postByIri(instance, late.object.id)).toBeUndefined();
    // Nor does the account document answering again restore the profile.
    expect((await actorByIri(instance, f.user.id))!).toMatchObject({ name: null, summary_html: null });
    expect((await actorByIri(instance, f.user.id))!.deleted_at).not.toBeNull();
  });

  it.skipIf(!realWorldPresent)(
    "purges on the Delete(Person) Lemmy produced (shared real-world fixture, read in place)",
    async () => {
      const f = await lemmyUserWithContent("lemmy_alpha");
      const raw = readFileSync(REAL_DELETE_USER, "utf8");
      expect(raw, "the captured payload names the captured server").toContain(CAPTURED_ORIGIN);
      const del = JSON.parse(raw.replaceAll(CAPTURED_ORIGIN, lemmy.origin)) as Record<string, any>;
      // The Lemmy project strips `@context` from its test assets; Lemmy sends this one.
      del["@context"] ??= ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"];
      expect(del).toMatchObject({ type: "Delete", actor: f.user.id, object: f.user.id, removeData: true });
      const res = await lemmy.send(f.user, `${instance.url}/inbox`, del);
      expect(res.status, res.text).toBe(202);
      await expectPurged(f);
    },
  );

  it("purges a Lemmy user whose Delete(Person) can no longer be verified: the account answers 410 and its key is no longer cached", async () => {
    const f = await lemmyUserWithContent("lemmy_delta");
    // Kindred no longer holds the key (cache expired): it has to fetch it, and gets 410.
    const dropped = await db()
      .deleteFrom("fedify_kv")
      .where("key", "like", "%publicKey%")
      .where("key", "like", `%${f.user.keyId}%`)
      .executeTakeFirst();
    expect(Number(dropped.numDeletedRows), "the cached key was there to drop").toBe(1);
    f.user.gone = true;
    const del = fixture("lemmy/delete_user.json", { origin: lemmy.origin, actor: f.user.id, uuid: uuid() });
    const res = await lemmy.send(f.user, `${instance.url}/inbox`, del);
    expect(res.status, res.text).toBe(202);
    await expectPurged(f);
    expect(lemmy.fetches, "Kindred asked for the account and got 410").toContainEqual({
      path: `/u/${f.user.username}`,
      status: 410,
    });
  });

  it("stores a post dated in the future as published now, so it cannot dodge a community's retention period", async () => {
    const user = await lemmy.addActor("lemmy_timetraveller");
    const follow = fixture("lemmy/follow.json", {
      origin: lemmy.origin,
      actor: user.id,
      group: community.iri,
      uuid: uuid(),
    });
    expect((await lemmy.send(user, `${community.iri}/inbox`, follow)).status).toBe(202);
    await lemmy.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id, { label: "the Accept" });
    const page = fixture("lemmy/create_page.json", {
      origin: lemmy.origin,
      actor: user.id,
      group: community.iri,
      groupName: "long-covid",
      id: ++postSeq,
      uuid: uuid(),
      published: "2999-01-01T00:00:00Z",
      title: "From the future",
      source: "later",
      content: "<p>later</p>\n",
    });
    lemmy.publish({ "@context": page["@context"], ...page.object });
    const before = new Date().toISOString();
    expect((await lemmy.send(user, `${community.iri}/inbox`, page)).status).toBe(202);
    const stored = await waitFor(() => postByIri(instance, page.object.id), { label: "the post stored" });
    expect(stored.published_at >= before && stored.published_at <= new Date().toISOString(), stored.published_at).toBe(
      true,
    );
  });

  it("keeps a live Lemmy account when someone else sends a Delete(Person) naming it", async () => {
    const f = await lemmyUserWithContent("lemmy_epsilon");
    const mallory = await lemmy.addActor("lemmy_mallory");
    const del = fixture("lemmy/delete_user.json", { origin: lemmy.origin, actor: f.user.id, uuid: uuid() });
    // Properly signed, by the wrong person; and unsigned.
    for (const signAs of [mallory, null]) {
      const res = await lemmy.send(
        f.user,
        `${instance.url}/inbox`,
        { ...del, id: `${lemmy.origin}/activities/delete/${uuid()}` },
        { signAs },
      );
      expect([202, 401], res.text).toContain(res.status);
    }
    await queueIdle(instance);
    const actor = (await actorByIri(instance, f.user.id))!;
    expect(actor).toMatchObject({ deleted_at: null, name: `${f.marker} display name` });
    for (const iri of f.postIris) expect((await postByIri(instance, iri))!).toMatchObject({ deleted_at: null });
    expect(await followRow(instance, f.user.id, community.iri)).toMatchObject({ status: "accepted" });
    expect(await followersTotal()).toBe(f.followersBefore);
  });
});
