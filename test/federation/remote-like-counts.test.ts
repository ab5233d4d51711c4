// Like counts of remote threads (issue 12): read from the objects a backfill
// fetches anyway (Mastodon's embedded `likes.totalItems`; a `likes` URL within
// the budget), believed only from the post's own origin, shown as our likes
// plus the origin's others (never one like twice), in thread pages and in the
// "top" order; and served on our own objects, for other servers to read.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { getPost, listReplies, listThreads } from "../../src/posts/queries.ts";
import { receivePostDelete } from "../../src/posts/remote.ts";
import { createReply, like, unlike } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { Peer as Kindred } from "../helpers/federation.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor, PUBLIC, snowflake } from "../helpers/peer.ts";
import { seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { getJson, postByIri } from "../interop/support.ts";

const LEMMY_CONTEXT = ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"];
const MASTODON_CONTEXT = ["https://www.w3.org/ns/activitystreams", { toot: "http://joinmastodon.org/ns#" }];

describe.each(dialects)("like counts of remote threads from Lemmy and Mastodon (%s)", (dialect) => {
  let instance: TestInstance;
  let lemmy: Peer;
  let mastodon: Peer;
  let group: PeerActor;
  let alpha: PeerActor;
  let bob: PeerActor;
  let carol: LocalUser;
  let groupId: string;
  let seq = 0;

  beforeAll(async () => {
    [instance, lemmy, mastodon] = await Promise.all([
      startTestInstance({ dialect }),
      Peer.start("lemmy"),
      Peer.start("mastodon"),
    ]);
    group = await lemmy.addActor("chronic_pain", { type: "Group", name: "Chronic pain" });
    alpha = await lemmy.addActor("lemmy_alpha");
    bob = await mastodon.addActor("bob");
    carol = await seedUser(instance, "carol");
    groupId = (await instance.runtime.remote!.resolveActor(group.id))!;
    expect(groupId).toBeTruthy();
  });
  afterAll(async () => {
    await Promise.all([lemmy?.stop(), mastodon?.stop()]);
    await instance?.stop();
  });

  const db = () => instance.runtime.db;
  /** A Lemmy post in the group; `extra` adds what another group server would publish (a `likes` count). */
  const page = (title: string, extra: Record<string, unknown> = {}): Record<string, any> => {
    const id = `${lemmy.origin}/post/${++seq}`;
    return {
      "@context": LEMMY_CONTEXT,
      type: "Page",
      id,
      attributedTo: alpha.id,
      to: [group.id, PUBLIC],
      cc: [],
      name: title,
      content: `<p>${title}</p>\n`,
      mediaType: "text/html",
      published: new Date().toISOString(),
      audience: group.id,
      replies: `${id}/replies`,
      ...extra,
    };
  };
  /** A Mastodon status answering `inReplyTo`, its counts embedded as Mastodon 4.3 serves them. */
  const status = (inReplyTo: string, text: string, likes: unknown) => {
    const id = `${bob.id}/statuses/${snowflake()}`;
    return {
      "@context": MASTODON_CONTEXT,
      type: "Note",
      id,
      attributedTo: bob.id,
      to: [PUBLIC],
      cc: [group.id, `${bob.id}/followers`],
      content: `<p>${text}</p>`,
      inReplyTo,
      published: new Date().toISOString(),
      replies: { id: `${id}/replies`, type: "Collection", first: { type: "CollectionPage", items: [] } },
      likes,
      shares: { id: `${id}/shares`, type: "Collection", totalItems: 4 },
    };
  };
  const counted = (id: string, total: number) => ({ id: `${id}/likes`, type: "Collection", totalItems: total });
  const collection = (id: string, items: unknown[]) => ({
    "@context": LEMMY_CONTEXT,
    type: "OrderedCollection",
    id,
    totalItems: items.length,
    orderedItems: items,
  });
  const announced = (object: Record<string, any>) => ({
    "@context": LEMMY_CONTEXT,
    type: "Announce",
    id: `${group.id}/activities/announce/${++seq}`,
    actor: group.id,
    to: [PUBLIC],
    cc: [`${group.id}/followers`],
    object: {
      type: "Create",
      id: `${lemmy.origin}/activities/create/${++seq}`,
      actor: alpha.id,
      to: [group.id, PUBLIC],
      object: { ...object, "@context": undefined },
    },
  });
  /** Brings the group's threads here through its outbox (as a reader opening the community would). */
  const listedHere = async (...threads: Record<string, any>[]) => {
    for (const t of threads) lemmy.publish(t);
    lemmy.publish(collection(`${group.id}/outbox`, threads.map(announced)));
    await db().deleteFrom("remote_refreshes").where("subject_id", "=", groupId).execute();
    await instance.runtime.remote!.refreshCommunity!(groupId);
    return Promise.all(threads.map(async (t) => (await postByIri(instance, t.id))!));
  };
  const refresh = async (threadId: string) => {
    await db().deleteFrom("remote_refreshes").where("subject_id", "=", threadId).execute();
    await instance.runtime.remote!.refreshThread!(threadId);
  };
  const likesOf = async (iri: string) => getPost(db(), (await postByIri(instance, iri))!.id).then((p) => p.likes);

  it("reads a Mastodon status's embedded count, and a count given by URL, into the thread page", async () => {
    const thread = page("Heat or ice?");
    const [row] = await listedHere(thread);
    const embedded = status(thread.id, "Ice, always", null);
    embedded.likes = counted(embedded.id, 7);
    const byUrl = status(thread.id, "Heat for me", null);
    byUrl.likes = `${byUrl.id}/likes`;
    mastodon.publish(embedded);
    mastodon.publish(byUrl);
    mastodon.publish({ "@context": MASTODON_CONTEXT, ...counted(byUrl.id, 3) });
    lemmy.publish(collection(`${thread.id}/replies`, [embedded.id, byUrl.id]));
    await refresh(row!.id);

    expect(await likesOf(embedded.id)).toBe(7);
    expect(await likesOf(byUrl.id)).toBe(3);
    expect(await likesOf(thread.id), "Lemmy publishes no count: ours alone").toBe(0);
    const replies = await listReplies(db(), row!.id);
    expect(replies.items.map((r) => r.likes).sort()).toEqual([3, 7]);
    const html = await (await fetch(`${instance.url}/posts/${row!.id}`)).text();
    expect(html).toContain(">7 likes<");
    expect(html).toContain(">3 likes<");
  });

  it("believes a count only from the post's own origin", async () => {
    const thread = page("Flare-ups");
    const [row] = await listedHere(thread);
    const genuine = status(thread.id, "Genuine words of bob", null);
    genuine.likes = counted(genuine.id, 2);
    mastodon.publish(genuine);
    // The group's server embeds bob's status with an inflated count: it is read again from bob's server.
    const forged = { ...genuine, likes: counted(genuine.id, 999), "@context": undefined };
    // Its own comment claims a count kept on another server.
    const borrowed: Record<string, any> = {
      ...page("unused"),
      type: "Note",
      name: undefined,
      inReplyTo: thread.id,
      likes: { id: `${mastodon.origin}/counts/1`, type: "Collection", totalItems: 500 },
    };
    lemmy.publish(borrowed);
    mastodon.publish({
      "@context": MASTODON_CONTEXT,
      id: `${mastodon.origin}/counts/1`,
      type: "Collection",
      totalItems: 500,
    });
    lemmy.publish(collection(`${thread.id}/replies`, [forged, borrowed.id]));
    await refresh(row!.id);

    expect(await likesOf(genuine.id)).toBe(2);
    expect(await postByIri(instance, borrowed.id), "the comment itself is stored").toBeTruthy();
    expect(await likesOf(borrowed.id)).toBe(0);
  });

  it("counts a like given here once, before and after the origin's next read", async () => {
    const thread = page("Pacing");
    const [row] = await listedHere(thread);
    const reply = status(thread.id, "Pacing saved me", null);
    reply.likes = counted(reply.id, 5);
    mastodon.publish(reply);
    lemmy.publish(collection(`${thread.id}/replies`, [reply.id]));
    await refresh(row!.id);
    expect(await likesOf(reply.id)).toBe(5);

    const replyId = (await postByIri(instance, reply.id))!.id;
    await like(db(), instance.url, replyId, carol.actorId);
    expect(await likesOf(reply.id), "carol's like shows at once").toBe(6);
    // Carol's like reached bob's server, which now counts it among its six.
    mastodon.publish({ ...reply, likes: counted(reply.id, 6) });
    await refresh(row!.id);
    expect(await likesOf(reply.id), "counted once").toBe(6);
    await unlike(db(), replyId, carol.actorId);
    expect(await likesOf(reply.id), "withdrawn here: gone at once").toBe(5);
    const stored = await db().selectFrom("remote_counts").selectAll().where("post_id", "=", replyId).execute();
    expect(stored).toEqual([expect.objectContaining({ likes: 6, likes_elsewhere: 5 })]);
    // Deleted by its author: a tombstone shows no likes, ours or the origin's.
    const author = await db().selectFrom("actors").select("id").where("iri", "=", bob.id).executeTakeFirstOrThrow();
    expect(await receivePostDelete(db(), { iri: reply.id, actorId: author.id })).toBe(true);
    expect(await likesOf(reply.id)).toBe(0);
  });

  it("orders a community's threads by those counts in the top sort, page by page", async () => {
    const few = page("Two likes there");
    const many = page("Nine likes there");
    many.likes = counted(many.id, 9);
    few.likes = counted(few.id, 2);
    const mine = page("One like here");
    const [, , ours] = await listedHere(few, many, mine);
    await like(db(), instance.url, ours!.id, carol.actorId);

    const first = await listThreads(db(), groupId, { sort: "top", period: "all", limit: 2 });
    expect(first.items.map((t) => [t.title, t.likes])).toEqual([
      ["Nine likes there", 9],
      ["Two likes there", 2],
    ]);
    const next = await listThreads(db(), groupId, { sort: "top", period: "all", limit: 2, cursor: first.nextCursor! });
    expect(next.items[0]?.title).toBe("One like here");
  });
});

describe.each(dialects)("like counts between Kindred instances (%s)", (dialect) => {
  let a: Kindred;
  let b: Kindred;
  let thread: { id: string; iri: string };
  let reply: { id: string; iri: string };
  let hidden: { id: string; iri: string };
  let alice: LocalUser;
  let potsIri: string;

  beforeAll(async () => {
    [a, b] = await Promise.all([Kindred.start({ dialect }), Kindred.start({ dialect })]);
    const admin = await seedUser(a, "admin", { role: "admin" });
    alice = await seedUser(a, "alice");
    const carol = await seedUser(a, "carol");
    const pots = await seedCommunity(a, admin, { slug: "pots", name: "POTS" });
    potsIri = pots.iri;
    const secret = await seedCommunity(a, admin, { slug: "secret", name: "Secret", visibility: "members" });
    thread = await seedThread(a, pots, admin, "Salt loading", "How much salt?");
    reply = await createReply(a.db, a.url, pots, alice.actorId, thread.id, { body: "Three grams" });
    hidden = await seedThread(a, secret, admin, "Members only", "Quiet");
    for (const who of [alice, carol]) await like(a.db, a.url, thread.id, who.actorId);
    await like(a.db, a.url, reply.id, carol.actorId);
    await like(a.db, a.url, hidden.id, alice.actorId);
    await seedUser(b, "bob");
  });
  afterAll(async () => {
    await Promise.all([a?.destroy(), b?.destroy()]);
  });

  it("embeds the count in our Page and Note, and serves the collection with a count and nobody's name", async () => {
    const page = await getJson(thread.iri);
    expect(page.body.likes).toEqual({ id: `${thread.iri}/collections/likes`, type: "Collection", totalItems: 2 });
    const note = await getJson(reply.iri);
    expect(note.body.likes.totalItems).toBe(1);
    const likes = await getJson(`${thread.iri}/collections/likes`);
    expect(likes.status).toBe(200);
    expect(likes.body.totalItems).toBe(2);
    expect(likes.raw).not.toContain(alice.username);
    expect((await getJson(`${hidden.iri}/collections/likes`)).status, "members-only, unsigned").toBe(401);
    expect((await getJson(`${a.url}/posts/00000000-0000-7000-8000-000000000000/collections/likes`)).status).toBe(404);
  });

  it("shows another Kindred's counts on its threads and replies here", async () => {
    const groupOnB = (await b.runtime.remote!.resolveActor(potsIri))!;
    expect(groupOnB).toBeTruthy();
    await b.runtime.remote!.refreshCommunity!(groupOnB);
    const root = await b.db.selectFrom("posts").select("id").where("iri", "=", thread.iri).executeTakeFirstOrThrow();
    expect((await getPost(b.db, root.id)).likes, "read from the outbox").toBe(2);
    await b.runtime.remote!.refreshThread!(root.id);
    const replies = await listReplies(b.db, root.id);
    expect(replies.items.map((r) => [r.iri, r.likes])).toEqual([[reply.iri, 1]]);
  });
});
