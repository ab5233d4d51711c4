// Account erasure (GDPR Art. 17), end to end: instance A hosts a community
// that members of two other real Kindred instances (B, C), a Mastodon-shaped
// server and a Lemmy-shaped server follow. Alice on A fills in her profile,
// posts threads and replies, sends a direct message to B's member and likes
// his reply, every piece of it carrying a string found nowhere else. She then
// erases her account through the web form. Afterwards no server may hold her
// content, A's database may hold none of her strings in any column of any
// table nor anywhere in the bytes of its SQLite file and write-ahead log, and
// her name answers 410 Gone and stays reserved. A second test erases a member
// in anonymize mode.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/schema.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join as joinCommunity } from "../../src/communities/membership.ts";
import { followRemote } from "../../src/follows/service.ts";
import { avatarDir } from "../../src/media/avatars.ts";
import { createReply } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { eventually, Peer, quiesce, until } from "../helpers/federation.ts";
import { Peer as FakeServer, fixture, type PeerActor, PUBLIC, uuid } from "../helpers/peer.ts";
import { runCli } from "../helpers/processes.ts";
import { type DbHit, scanDatabaseAt, scanFiles, sqliteFiles, tableColumns } from "../helpers/scan.ts";
import {
  alertText,
  forms,
  loggedIn,
  PASSWORD,
  seedCommunity,
  seedUser,
  tinyPng,
  unescapeHtml,
} from "../helpers/seed.ts";
import { idOf } from "../interop/support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

const postByIri = (db: Kysely<Database>, iri: string) =>
  db.selectFrom("posts").selectAll().where("iri", "=", iri).executeTakeFirst();
const actorByIri = (db: Kysely<Database>, iri: string) =>
  db.selectFrom("actors").selectAll().where("iri", "=", iri).executeTakeFirst();
const likeCount = async (db: Kysely<Database>, postId: string) =>
  Number(
    (
      await db
        .selectFrom("likes")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .where("post_id", "=", postId)
        .executeTakeFirstOrThrow()
    ).n,
  );
const keyCount = async (db: Kysely<Database>, actorId: string) =>
  Number(
    (
      await db
        .selectFrom("actor_keys")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .where("actor_id", "=", actorId)
        .executeTakeFirstOrThrow()
    ).n,
  );
const erasureCount = async (db: Kysely<Database>) =>
  Number(
    (
      await db
        .selectFrom("erasures")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** A's community as B and C address it when posting there. */
const remoteRef = (id: string) => ({ id, visibility: "public" as const, joinPolicy: "open" as const });

/** GETs an ActivityPub document (or what answers for it). */
async function getAp(url: string): Promise<{ status: number; body: any; contentType: string | null }> {
  const res = await fetch(url, { headers: { accept: "application/activity+json" }, redirect: "manual" });
  const raw = await res.text();
  let body: any;
  try {
    body = JSON.parse(raw);
  } catch {
    body = raw;
  }
  return { status: res.status, body, contentType: res.headers.get("content-type") };
}

/** The post id a `/posts/<id>` redirect names (a reply's redirect names it after `#post-`). */
const redirectedPostId = (location: string | null, fragment = false) => {
  const m = fragment
    ? /#post-([0-9a-f-]{36})$/.exec(location ?? "")
    : /^\/posts\/([0-9a-f-]{36})$/.exec(location ?? "");
  if (!m) throw new Error(`unexpected redirect: ${location}`);
  return m[1]!;
};

/** The rows of a deletion receipt page: host → status. */
const receiptRows = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<tr><td>([^<]+)<\/td><td class="receipt-status" data-status="([^"]+)"/g)].map((m) => [
      unescapeHtml(m[1]!),
      m[2]!,
    ]),
  );

/**
 * Finds the erasure form as a member would: on Settings → Your data, or on
 * the page its "Erase your account" link leads to. Returns the page (its CSRF
 * token is now the client's) and where the form posts.
 */
async function openEraseForm(client: WebClient): Promise<{ html: string; action: string }> {
  let page = await client.get("/settings/data");
  expect(page.status).toBe(200);
  const hasForm = (html: string) =>
    forms(html).find((f) => f.includes('name="confirm"') && f.includes('name="password"'));
  if (!hasForm(page.text)) {
    const link = /<a href="([^"]+)">Erase your account<\/a>/.exec(page.text)?.[1];
    expect(link, "a link to the erasure form on Settings → Your data").toBeDefined();
    page = await client.get(unescapeHtml(link!));
    expect(page.status).toBe(200);
  }
  const form = hasForm(page.text);
  expect(form, "the erasure form").toBeDefined();
  const action = /<form[^>]*\baction="([^"]+)"/.exec(form!)?.[1];
  expect(action).toBeDefined();
  return { html: page.text, action: unescapeHtml(action!) };
}

/** "needle → where" for a failure message. */
const describeHits = (hits: DbHit[]) => hits.map((h) => `${h.needle} in ${h.table}.${h.column}: …${h.excerpt}…`);
const needlesFound = (hits: { needle: string }[]) => [...new Set(hits.map((h) => h.needle))].sort();

/** Sends a Follow of `community` from a fake server's actor and waits for its Accept. */
async function followFromFake(server: FakeServer, actor: PeerActor, community: Community) {
  const follow =
    server.software === "lemmy"
      ? fixture("lemmy/follow.json", { origin: server.origin, actor: actor.id, group: community.iri, uuid: uuid() })
      : fixture("mastodon/follow.json", {
          origin: server.origin,
          uuid: uuid(),
          actor: actor.id,
          object: community.iri,
        });
  const res = await server.send(actor, `${community.iri}/inbox`, follow);
  expect(res.status, res.text).toBe(202);
  await server.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id, {
    label: `Accept of ${actor.id}'s Follow of ${community.iri}`,
  });
}

/** A member of B or C joins A's community over HTTP and waits for the Accept. */
async function joinFrom(peer: Peer, member: LocalUser, community: Community): Promise<string> {
  const groupId = await peer.runtime.remote!.resolveActor(community.iri);
  expect(groupId, `${peer.url} resolves ${community.iri}`).toBeTruthy();
  await followRemote(peer.db, peer.url, member.actorId, groupId!);
  await until(
    `${member.username}'s membership accepted`,
    async () =>
      (
        await peer.db
          .selectFrom("follows")
          .select("status")
          .where("follower_id", "=", member.actorId)
          .where("followee_id", "=", groupId!)
          .executeTakeFirst()
      )?.status,
    (s) => s === "accepted",
  );
  return groupId!;
}

const isDeleteOf = (actorIri: string) => (b: any) =>
  b.type === "Delete" && b.actor === actorIri && idOf(b.object) === actorIri;
/** The community's `Announce` of the member's `Delete` of a post, named by its bare IRI (NodeBB drops it only then). */
const isAnnouncedDelete = (groupIri: string, actorIri: string, postIri: string) => (b: any) =>
  b.type === "Announce" &&
  b.actor === groupIri &&
  b.object?.type === "Delete" &&
  b.object.actor === actorIri &&
  b.object.object === postIri;

describe("account erasure across Kindred, Mastodon and Lemmy (SQLite)", () => {
  let A: Peer;
  let B: Peer;
  let C: Peer;
  let mastodon: FakeServer;
  let lemmy: FakeServer;
  let mastodonUser: PeerActor;
  let lemmyUser: PeerActor;
  let admin: LocalUser;
  let alice: LocalUser;
  let bob: LocalUser;
  let carol: LocalUser;
  let community: Community;
  let groupOnB: string;

  /** Strings that only Alice's data holds (lower-case, so case folding cannot hide one). */
  const tag = `zq${randomBytes(5).toString("hex")}`;
  const s = {
    displayName: `${tag}displayname`,
    bio: `${tag}biography`,
    email: `${tag}mailbox`,
    title: `${tag}threadtitle`,
    body: `${tag}threadbody`,
    cw: `${tag}warning`,
    hashtag: `${tag}hashtag`,
    title2: `${tag}secondtitle`,
    body2: `${tag}secondbody`,
    reply: `${tag}replybody`,
    dm: `${tag}dmbody`,
    dmCw: `${tag}dmwarning`,
  };
  /** Bob's reply in Alice's thread: it must survive. */
  const bobsText = `${tag}bobsanswer`;
  /** The avatar's file name (a fresh UUID), once uploaded. */
  let avatarName = "";
  const aliceNeedles = () => [...Object.values(s), avatarName];

  let alicesActorId = "";
  const iris = { thread: "", thread2: "", reply: "", dm: "", bobsReply: "" };
  let receiptPath = "";
  let web: WebClient;

  beforeAll(async () => {
    [A, B, C, mastodon, lemmy] = await Promise.all([
      Peer.start(),
      Peer.start(),
      Peer.start(),
      FakeServer.start("mastodon"),
      FakeServer.start("lemmy"),
    ]);
    [admin, alice, bob, carol] = await Promise.all([
      seedUser(A, "mod_a", { role: "admin" }),
      seedUser(A, "alice"),
      seedUser(B, "bob"),
      seedUser(C, "carol"),
    ]);
    alicesActorId = alice.actorId;
    community = await seedCommunity(A, admin, { slug: "fatigue", name: "Fatigue" });
    expect(await joinCommunity(A.db, A.url, community, alice.actorId)).toBe("accepted");
    [mastodonUser, lemmyUser] = await Promise.all([mastodon.addActor("maud"), lemmy.addActor("lem")]);
    const joined = await Promise.all([
      joinFrom(B, bob, community),
      joinFrom(C, carol, community),
      followFromFake(mastodon, mastodonUser, community),
      followFromFake(lemmy, lemmyUser, community),
    ]);
    groupOnB = joined[0];
  }, 60_000);
  afterAll(async () => {
    await Promise.all([mastodon?.stop(), lemmy?.stop()]);
    await Promise.all([A?.destroy(), B?.destroy(), C?.destroy()]);
  });

  it("Alice's profile, threads, replies, message and like reach B, C, Mastodon and Lemmy (and every scan sees her strings there)", async () => {
    web = await loggedIn(A, "alice");
    // Profile: display name, bio, email and an avatar, through the settings form.
    await web.get("/settings");
    const form = new FormData();
    form.set("displayName", s.displayName);
    form.set("bio", `About me: ${s.bio}`);
    form.set("email", `${s.email}@example.org`);
    form.set("avatar", new Blob([tinyPng()], { type: "image/png" }), "me.png");
    const saved = await web.postMultipart("/settings/profile", form);
    expect(saved.status, saved.text.slice(0, 300)).toBe(303);
    const me = (await actorByIri(A.db, alice.iri))!;
    expect(me).toMatchObject({ name: s.displayName });
    expect(me.avatar_url).toMatch(/\/media\/avatars\/[0-9a-f-]{36}\.png$/);
    avatarName = basename(new URL(me.avatar_url!).pathname, ".png");
    expect(existsSync(join(avatarDir(A.config.dataDir), `${avatarName}.png`))).toBe(true);

    // Two threads (one with a content warning and a hashtag) through the compose form.
    await web.get(`/@${community.slug}/submit`);
    const t1 = await web.post(`/@${community.slug}/submit`, {
      title: s.title,
      body: `Pacing notes: ${s.body} #${s.hashtag}`,
      cw: s.cw,
    });
    expect(t1.status, t1.text.slice(0, 300)).toBe(303);
    const thread = await A.db
      .selectFrom("posts")
      .selectAll()
      .where("id", "=", redirectedPostId(t1.headers.get("location")))
      .executeTakeFirstOrThrow();
    iris.thread = thread.iri;
    expect(await A.db.selectFrom("post_tags").select("tag").where("post_id", "=", thread.id).execute()).toEqual([
      { tag: s.hashtag },
    ]);
    await web.get(`/@${community.slug}/submit`);
    const t2 = await web.post(`/@${community.slug}/submit`, { title: s.title2, body: s.body2 });
    expect(t2.status).toBe(303);
    iris.thread2 = (
      await A.db
        .selectFrom("posts")
        .select("iri")
        .where("id", "=", redirectedPostId(t2.headers.get("location")))
        .executeTakeFirstOrThrow()
    ).iri;

    // Bob on B replies in Alice's thread; Alice answers his reply, likes it and messages him.
    const threadOnB = await eventually("Alice's thread on B", () => postByIri(B.db, iris.thread));
    const bobsReply = await createReply(B.db, B.url, remoteRef(groupOnB), bob.actorId, threadOnB.id, {
      body: `I agree. ${bobsText}`,
    });
    iris.bobsReply = bobsReply.iri;
    const bobsReplyOnA = await eventually("Bob's reply on A", () => postByIri(A.db, iris.bobsReply));
    expect(bobsReplyOnA.parent_id).toBe(thread.id);
    await web.get(`/posts/${thread.id}`);
    const r = await web.post(`/posts/${bobsReplyOnA.id}/replies`, { body: `Thanks! ${s.reply}` });
    expect(r.status, r.text.slice(0, 300)).toBe(303);
    iris.reply = (
      await A.db
        .selectFrom("posts")
        .select("iri")
        .where("id", "=", redirectedPostId(r.headers.get("location"), true))
        .executeTakeFirstOrThrow()
    ).iri;
    const liked = await web.post(`/posts/${bobsReplyOnA.id}/like`, {});
    expect(liked.status).toBe(303);
    const bobOnA = (await actorByIri(A.db, bob.iri))!;
    const bobsHandle = `${bobOnA.username}@${bobOnA.host}`;
    await web.get(`/messages/${bobsHandle}`);
    const dm = await web.post(`/messages/${bobsHandle}`, { body: `Private: ${s.dm}`, cw: s.dmCw });
    expect(dm.status, dm.text.slice(0, 300)).toBe(303);
    iris.dm = (
      await A.db
        .selectFrom("posts")
        .select("iri")
        .where("author_id", "=", alice.actorId)
        .where("audience", "=", "direct")
        .executeTakeFirstOrThrow()
    ).iri;

    // Everything arrived where it should.
    for (const [peer, name] of [
      [B, "B"],
      [C, "C"],
    ] as const) {
      for (const iri of [iris.thread, iris.thread2, iris.reply])
        await eventually(`${iri} on ${name}`, () => postByIri(peer.db, iri));
    }
    const dmOnB = await eventually("the message on B", () => postByIri(B.db, iris.dm));
    expect(dmOnB).toMatchObject({ audience: "direct", summary: s.dmCw });
    const bobsReplyOnB = (await postByIri(B.db, iris.bobsReply))!;
    await until(
      "Alice's like counted on B",
      () => likeCount(B.db, bobsReplyOnB.id),
      (n) => n === 1,
    );
    for (const server of [mastodon, lemmy]) {
      for (const iri of [iris.thread, iris.thread2, iris.reply]) {
        await server.waitForDelivery(
          (b) => b.type === "Announce" && b.actor === community.iri && idOf(b.object?.object ?? b.object) === iri,
          { label: `${iri} announced to ${server.software}` },
        );
      }
    }
    await quiesce(A, B, C);

    // The scans find her strings before the erasure: they can fail after it.
    const onA = needlesFound(await scanDatabaseAt(A.database.url, aliceNeedles()));
    expect(onA, "A's database holds every string of Alice's").toEqual([...aliceNeedles()].sort());
    const files = sqliteFiles(A.database.url);
    expect(
      needlesFound(scanFiles([files.db, files.wal], aliceNeedles())),
      "A's SQLite file and WAL hold every string of Alice's",
    ).toEqual([...aliceNeedles()].sort());
    const federated = [s.displayName, s.bio, s.title, s.body, s.cw, s.hashtag, s.title2, s.body2, s.reply];
    expect(
      needlesFound(await scanDatabaseAt(B.database.url, aliceNeedles())),
      "B holds her profile, posts and the message",
    ).toEqual(expect.arrayContaining([...federated, s.dm, s.dmCw]));
    expect(needlesFound(await scanDatabaseAt(C.database.url, aliceNeedles())), "C holds her profile and posts").toEqual(
      expect.arrayContaining(federated),
    );
    expect(
      needlesFound(await scanDatabaseAt(C.database.url, [s.dm, s.dmCw, s.email])),
      "the message and the email never reached C",
    ).toEqual([]);
  }, 60_000);

  it("a wrong password erases nothing", async () => {
    const before = await A.db
      .selectFrom("posts")
      .select(["iri", "title", "content_html", "deleted_at"])
      .where("author_id", "=", alice.actorId)
      .orderBy("iri")
      .execute();
    const { action } = await openEraseForm(web);
    const res = await web.post(action, { password: "not my password at all", confirm: "yes", mode: "delete" });
    expect(res.status).toBe(403);
    expect(alertText(res.text)).toBe("the password is not correct");

    expect(await erasureCount(A.db)).toBe(0);
    expect(
      await A.db.selectFrom("users").select(["email"]).where("actor_id", "=", alice.actorId).executeTakeFirst(),
    ).toEqual({ email: `${s.email}@example.org` });
    expect(await actorByIri(A.db, alice.iri)).toMatchObject({ name: s.displayName, deleted_at: null });
    expect(
      await A.db
        .selectFrom("posts")
        .select(["iri", "title", "content_html", "deleted_at"])
        .where("author_id", "=", alice.actorId)
        .orderBy("iri")
        .execute(),
    ).toEqual(before);
    expect(await keyCount(A.db, alice.actorId)).toBeGreaterThan(0);
    expect((await web.get("/settings/data")).status, "still logged in").toBe(200);
    const doc = await getAp(alice.iri);
    expect(doc.status).toBe(200);
    expect(doc.body.name).toBe(s.displayName);
    // Nothing was sent: once A is idle, no Delete has gone anywhere.
    await quiesce(A, B, C);
    for (const server of [mastodon, lemmy])
      expect(
        server.received((b) => b.type === "Delete"),
        `Deletes at ${server.software}`,
      ).toEqual([]);
    expect((await actorByIri(B.db, alice.iri))?.deleted_at).toBeNull();
  });

  it("erasing through the web form answers with the receipt's address; the actor document is minimal while the Deletes travel", async () => {
    const { action } = await openEraseForm(web);
    const res = await web.post(action, { password: PASSWORD, confirm: "yes", mode: "delete" });
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    const location = res.headers.get("location") ?? "";
    expect(location).toMatch(/^\/erasures\/[A-Za-z0-9_-]{32}\?erased=1$/);
    receiptPath = location.replace(/\?erased=1$/, "");

    // At once (the keys go only after every delivery settled): preferredUsername and keys, nothing else of her.
    const doc = await getAp(alice.iri);
    expect(doc.status, JSON.stringify(doc.body).slice(0, 300)).toBe(200);
    expect(doc.body).toMatchObject({ id: alice.iri, type: "Person", preferredUsername: "alice" });
    expect(doc.body.publicKey?.id).toBeTruthy();
    expect(doc.body.publicKey?.publicKeyPem).toContain("BEGIN PUBLIC KEY");
    for (const field of ["name", "summary", "icon", "image", "attachment"])
      expect(doc.body[field], field).toBeUndefined();
    expect(JSON.stringify(doc.body)).not.toContain(tag);

    // The session ended with the account.
    const after = await web.get("/settings/data");
    expect([302, 303]).toContain(after.status);
    expect((await web.logIn("alice", PASSWORD)).status).not.toBe(303);
    // The avatar file is gone from the disk.
    expect(existsSync(join(avatarDir(A.config.dataDir), `${avatarName}.png`))).toBe(false);
  });

  it("Mastodon gets a signed Delete whose actor and object are Alice, and no Delete per post (it drops them all on that)", async () => {
    const del = await mastodon.waitForDelivery(isDeleteOf(alice.iri), {
      label: "Delete(Person) at the Mastodon peer",
      timeoutMs: 15_000,
    });
    expect(del.verified, "the HTTP signature verifies with Alice's key, fetched from A").toBe(true);
    expect(del.signer).toBe(alice.iri);
    expect(del.keyId?.startsWith(alice.iri)).toBe(true);
    expect(del.body.id).toMatch(new RegExp(`^${A.url}/activities/`));
    expect([del.body.to].flat()).toContain(PUBLIC);
    expect(del.raw).not.toContain(tag);

    await quiesce(A);
    // What is queued follows the servers, not posts × servers: Mastodon deletes her statuses with her.
    for (const iri of [iris.thread, iris.thread2, iris.reply, iris.dm])
      expect(
        mastodon.received(
          (b) => isAnnouncedDelete(community.iri, alice.iri, iri)(b) || (b.type === "Delete" && idOf(b.object) === iri),
        ),
      ).toEqual([]);
    expect(mastodon.received(isDeleteOf(alice.iri)), "one Delete(Person) per server").toHaveLength(1);
  });

  it("Lemmy's copy of the Delete says removeData: true and is signed", async () => {
    const del = await lemmy.waitForDelivery(isDeleteOf(alice.iri), {
      label: "Delete(Person) at the Lemmy peer",
      timeoutMs: 15_000,
    });
    expect(del.body.removeData).toBe(true);
    expect(del.verified).toBe(true);
    expect(del.signer).toBe(alice.iri);
    // Lemmy removes every post of hers on `removeData`: no Delete per post.
    await quiesce(A);
    for (const iri of [iris.thread, iris.thread2, iris.reply])
      expect(lemmy.received(isAnnouncedDelete(community.iri, alice.iri, iri))).toEqual([]);
  });

  it("B and C drop her content, and Bob's reply stays on A under [deleted]", async () => {
    for (const [peer, name] of [
      [B, "B"],
      [C, "C"],
    ] as const) {
      await until(
        `Alice purged on ${name}`,
        () => actorByIri(peer.db, alice.iri),
        (a) => a?.deleted_at != null,
      );
      for (const iri of [iris.thread, iris.thread2, iris.reply])
        await until(
          `${iri} deleted on ${name}`,
          () => postByIri(peer.db, iri),
          (p) => p === undefined || p.deleted_at != null,
        );
    }
    await quiesce(A, B, C);
    // Their posts rows first (the most visible place), then every column of every table.
    for (const [peer, name] of [
      [B, "B"],
      [C, "C"],
    ] as const) {
      const posts = await peer.db
        .selectFrom("posts")
        .select(["iri", "title", "source", "content_html", "summary"])
        .execute();
      const leaks = posts.filter((p) => aliceNeedles().some((n) => JSON.stringify(p).includes(n)));
      expect(leaks, `posts rows on ${name} with Alice's strings`).toEqual([]);
      expect(
        await peer.db.selectFrom("post_tags").select("tag").where("tag", "=", s.hashtag).execute(),
        `her hashtag on ${name}`,
      ).toEqual([]);
      expect(
        describeHits(await scanDatabaseAt(peer.database.url, aliceNeedles())),
        `Alice's strings anywhere in ${name}'s database`,
      ).toEqual([]);
      // Nor in the bytes: a received Delete(Person) scrubs the file and its WAL as a local erasure does.
      const files = sqliteFiles(peer.database.url);
      expect(
        scanFiles([files.db, files.wal], aliceNeedles()).map((h) => `${h.needle} in ${basename(h.file)}`),
        `Alice's strings in ${name}'s SQLite bytes`,
      ).toEqual([]);
    }
    // Her like went with her; Bob's own reply is untouched on B.
    const bobsReplyOnB = (await postByIri(B.db, iris.bobsReply))!;
    expect(bobsReplyOnB).toMatchObject({ deleted_at: null, local: 1 });
    expect(bobsReplyOnB.content_html).toContain(bobsText);
    expect(await likeCount(B.db, bobsReplyOnB.id)).toBe(0);

    // On A: the thread is a tombstone holding Bob's reply; her other posts are gone.
    const threadOnA = (await postByIri(A.db, iris.thread))!;
    expect(threadOnA).toMatchObject({ title: null, source: null, content_html: "", summary: null });
    expect(threadOnA.deleted_at).not.toBeNull();
    expect(await postByIri(A.db, iris.thread2)).toBeUndefined();
    expect(await postByIri(A.db, iris.reply)).toBeUndefined();
    expect(await postByIri(A.db, iris.dm)).toBeUndefined();
    const bobsReplyOnA = (await postByIri(A.db, iris.bobsReply))!;
    expect(bobsReplyOnA).toMatchObject({ parent_id: threadOnA.id, thread_id: threadOnA.id, deleted_at: null });
    expect(bobsReplyOnA.content_html).toContain(bobsText);
    const page = await new WebClient(A.url).get(`/posts/${threadOnA.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("<h1>[deleted]</h1>");
    expect(page.text).toContain(bobsText);
    for (const needle of aliceNeedles()) expect(page.text, `the thread page shows ${needle}`).not.toContain(needle);
  });

  it("the receipt page and `kindred user erasure-status alice` list every server as accepted (answered 2xx); then her keys are destroyed", async () => {
    const hosts = [B, C]
      .map((p) => new URL(p.url).host)
      .concat([mastodon.host, lemmy.host])
      .sort();
    const visitor = new WebClient(A.url);
    const rows = await until(
      "every server accepted on the receipt page",
      async () => receiptRows((await visitor.get(receiptPath)).text),
      (r) => Object.keys(r).length === hosts.length && Object.values(r).every((v) => v === "accepted"),
    );
    expect(Object.keys(rows).sort()).toEqual(hosts);

    // The keys go once every Delete settled (the maintenance loop runs every 2 s).
    await until(
      "Alice's keys destroyed",
      () => keyCount(A.db, alicesActorId),
      (n) => n === 0,
    );
    const page = await visitor.get(receiptPath);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.text).toContain("Finished on");
    expect(page.text).toContain(`@alice@${new URL(A.url).host}`);
    for (const needle of aliceNeedles()) expect(page.text).not.toContain(needle);
    // What we know is that each server answered 2xx, not that it removed anything.
    expect(page.text).toContain("accepted (answered 2xx, ");
    expect(page.text).toContain("Accepted means the server answered the deletion request with success (HTTP 2xx)");
    expect(page.text).not.toMatch(/delivered/i);

    const cli = await runCli(
      { ...process.env, DATABASE_URL: A.database.url, ORIGIN: A.url, DATA_DIR: A.config.dataDir, LOG_LEVEL: "fatal" },
      ["user", "erasure-status", "alice"],
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`deletion receipt for @alice@${new URL(A.url).host} (deleted)`);
    expect(cli.stdout).toContain("keys destroyed");
    for (const host of hosts) {
      const line = cli.stdout.split("\n").find((l) => l.startsWith(host));
      expect(line, `${host} in:\n${cli.stdout}`).toBeDefined();
      expect(line!.split(/\s{2,}/)[1], line).toBe("accepted (answered 2xx)");
    }
    expect(cli.stdout).not.toMatch(/delivered/i);
    const unknown = await runCli(
      { ...process.env, DATABASE_URL: A.database.url, ORIGIN: A.url, DATA_DIR: A.config.dataDir, LOG_LEVEL: "fatal" },
      ["user", "erasure-status", "mod_a"],
    );
    expect(unknown.code).not.toBe(0);
  });

  it("her name answers 410 Gone and stays reserved", async () => {
    const json = await getAp(alice.iri);
    expect(json.status).toBe(410);
    expect(json.contentType).toMatch(/^application\/activity\+json/);
    expect(json.body).toMatchObject({ id: alice.iri, type: "Tombstone", formerType: "Person" });
    const html = await fetch(alice.iri, { headers: { accept: "text/html" } });
    expect(html.status).toBe(410);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await html.text()).toContain("erased");

    for (const name of ["alice", "Alice"]) {
      const visitor = new WebClient(A.url);
      await visitor.get("/signup");
      const res = await visitor.post("/signup", { username: name, password: "another long password", email: "" });
      expect(res.status, `sign-up as ${name}`).toBe(409);
      expect(visitor.cookie("kindred_session")).toBeUndefined();
    }
    expect(await A.db.selectFrom("actors").select("id").where("username_key", "=", "alice").execute()).toEqual([
      { id: alicesActorId },
    ]);
  });

  it("nothing of Alice's is left in A's database: no column of any table, no byte of the SQLite file or its WAL", async () => {
    await quiesce(A, B, C);
    const columns = await A.withOfflineDb((db) => tableColumns(db));
    // The scan covers the tables that held her data.
    for (const table of [
      "actors",
      "users",
      "posts",
      "post_tags",
      "likes",
      "sessions",
      "deliveries",
      "fedify_kv",
      "fedify_queue",
      "erasures",
      "rate_limits",
    ])
      expect(columns.has(table), table).toBe(true);
    expect(
      describeHits(await scanDatabaseAt(A.database.url, aliceNeedles())),
      "Alice's strings in A's database",
    ).toEqual([]);
    // Bob's reply is still there, which the same scan finds.
    expect(needlesFound(await scanDatabaseAt(A.database.url, [bobsText]))).toEqual([bobsText]);

    const files = sqliteFiles(A.database.url);
    expect(existsSync(files.db)).toBe(true);
    const hits = scanFiles([files.db, files.wal], aliceNeedles());
    expect(
      hits.map((h) => `${h.needle} at byte ${h.offset} of ${basename(h.file)}`),
      "Alice's strings in the bytes of A's SQLite file and WAL",
    ).toEqual([]);
    expect(
      needlesFound(scanFiles([files.db, files.wal], [bobsText])),
      "the byte scan finds what is still there",
    ).toEqual([bobsText]);
  });

  it("anonymize mode keeps posts in communities that allow it under the anonymous actor, and removes the rest", async () => {
    const kept = await seedCommunity(A, admin, { slug: "kept-stories", name: "Kept stories", allowAnonymize: true });
    const plain = await seedCommunity(A, admin, { slug: "plain-talk", name: "Plain talk" });
    const dave = await seedUser(A, "dave");
    for (const c of [kept, plain]) expect(await joinCommunity(A.db, A.url, c, dave.actorId)).toBe("accepted");
    await Promise.all([followFromFake(mastodon, mastodonUser, kept), followFromFake(mastodon, mastodonUser, plain)]);
    const d = {
      name: `${tag}davesname`,
      keptTitle: `${tag}keptitle`,
      keptBody: `${tag}keptbody`,
      goneTitle: `${tag}gonetitle`,
      goneBody: `${tag}gonebody`,
    };

    const client = await loggedIn(A, "dave");
    await client.get("/settings");
    const profile = new FormData();
    profile.set("displayName", d.name);
    profile.set("bio", "");
    profile.set("email", "");
    expect((await client.postMultipart("/settings/profile", profile)).status).toBe(303);
    const ids: Record<string, string> = {};
    for (const [c, title, body] of [
      [kept, d.keptTitle, d.keptBody],
      [plain, d.goneTitle, d.goneBody],
    ] as const) {
      await client.get(`/@${c.slug}/submit`);
      const res = await client.post(`/@${c.slug}/submit`, { title, body });
      expect(res.status).toBe(303);
      ids[c.slug] = redirectedPostId(res.headers.get("location"));
    }
    const keptIri = (
      await A.db.selectFrom("posts").select("iri").where("id", "=", ids[kept.slug]!).executeTakeFirstOrThrow()
    ).iri;
    const goneIri = (
      await A.db.selectFrom("posts").select("iri").where("id", "=", ids[plain.slug]!).executeTakeFirstOrThrow()
    ).iri;
    await mastodon.waitForDelivery((b) => b.type === "Announce" && idOf(b.object) === goneIri, {
      label: "Dave's plain thread at Mastodon",
    });

    // The form offers the choice, naming the community that allows it.
    const eraseForm = await openEraseForm(client);
    expect(eraseForm.html).toContain('name="mode" value="anonymize"');
    expect(eraseForm.html).toContain("Kept stories (1)");
    expect(eraseForm.html).not.toContain("Plain talk (");
    const res = await client.post(eraseForm.action, { password: PASSWORD, confirm: "yes", mode: "anonymize" });
    expect(res.status, res.text.slice(0, 300)).toBe(303);

    const anonymous = (await actorByIri(A.db, `${A.url}/@anonymous`))!;
    expect(anonymous).toMatchObject({ local: 1, name: "Anonymous member" });
    const keptPost = (await postByIri(A.db, keptIri))!;
    expect(keptPost).toMatchObject({
      author_id: anonymous.id,
      title: d.keptTitle,
      deleted_at: null,
      community_id: kept.id,
    });
    expect(keptPost.content_html).toContain(d.keptBody);
    expect(await postByIri(A.db, goneIri)).toBeUndefined();
    const page = await new WebClient(A.url).get(`/posts/${keptPost.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(d.keptBody);
    expect(page.text).toContain("Anonymous member");
    expect(page.text).not.toContain(d.name);
    const ap = await getAp(keptIri);
    expect(ap.status).toBe(200);
    expect(ap.body).toMatchObject({ id: keptIri, attributedTo: anonymous.iri });

    // Mastodon drops Dave's statuses on his Delete(Person); no Delete per post goes to it.
    await mastodon.waitForDelivery(isDeleteOf(dave.iri), { label: "Delete(Person) of Dave" });
    await until(
      "Dave's keys destroyed",
      () => keyCount(A.db, dave.actorId),
      (n) => n === 0,
    );
    await quiesce(A);
    expect(
      mastodon.received(
        (b) => b.type === "Announce" && b.object?.type === "Delete" && idOf(b.object.object) === keptIri,
      ),
      "a Delete of the kept post",
    ).toEqual([]);
    expect((await getAp(dave.iri)).status).toBe(410);

    expect(
      describeHits(await scanDatabaseAt(A.database.url, [d.name, d.goneTitle, d.goneBody])),
      "Dave's name and removed post in A's database",
    ).toEqual([]);
    expect(
      needlesFound(await scanDatabaseAt(A.database.url, [d.keptTitle, d.keptBody])),
      "the kept post's text",
    ).toEqual([d.keptBody, d.keptTitle].sort());
    const files = sqliteFiles(A.database.url);
    expect(
      scanFiles([files.db, files.wal], [d.name, d.goneTitle, d.goneBody]).map(
        (h) => `${h.needle} in ${basename(h.file)}`,
      ),
    ).toEqual([]);
  });
});
