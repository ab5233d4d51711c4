// Pasting a link to a post on another server (issue 12, item 2): a Mastodon
// status (its web URL or its IRI), a Lemmy post or comment, a Kindred post
// take a member to that post's page here, fetched through the instance's
// loader and stored through the inbox's checks. Links to posts we hold or
// to our own pages need no fetch; visitors cannot make us fetch anything.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import type { WebClient } from "../helpers/client.ts";
import { WebClient as Visitor } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { Peer as Kindred } from "../helpers/federation.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, PUBLIC, snowflake } from "../helpers/peer.ts";
import { loggedIn, seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";

const LEMMY_CONTEXT = ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"];

describe.each(dialects)("search resolves links to remote posts (%s)", (dialect) => {
  let instance: TestInstance;
  let other: Kindred;
  let mastodon: Peer;
  let lemmy: Peer;
  let alice: WebClient;
  let admin: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let kate: PeerActor;
  let group: PeerActor;
  let alpha: PeerActor;
  let seq = 0;

  beforeAll(async () => {
    [instance, other, mastodon, lemmy] = await Promise.all([
      startTestInstance({ dialect }),
      Kindred.start(),
      Peer.start("mastodon"),
      Peer.start("lemmy"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    await seedUser(instance, "alice");
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    alice = await loggedIn(instance, "alice");
    kate = await mastodon.addActor("kate");
    group = await lemmy.addActor("chronic_pain", { type: "Group", name: "Chronic pain" });
    alpha = await lemmy.addActor("lemmy_alpha");
  });
  afterAll(async () => {
    await Promise.all([mastodon?.stop(), lemmy?.stop(), other?.destroy()]);
    await instance?.stop();
  });

  const db = () => instance.runtime.db;
  const search = (client: WebClient, q: string) => client.get(`/search?q=${encodeURIComponent(q)}`);
  const postRow = (iri: string) =>
    db().selectFrom("posts").select(["id", "thread_id", "community_id"]).where("iri", "=", iri).executeTakeFirst();
  const fetchesOf = (peer: Peer, path: string) => peer.fetches.filter((f) => f.path === path).length;

  /** A Mastodon status (as Mastodon serves it at its IRI) mentioning `cc`, served at its IRI and its web URL. */
  const status = (text: string, cc: string[], author = kate) => {
    const id = snowflake();
    const create = fixture("mastodon/create_note.json", {
      origin: mastodon.origin,
      host: mastodon.host,
      actor: author.id,
      username: author.username,
      id,
      published: new Date().toISOString(),
      inReplyTo: null,
      mentioned: cc[0] ?? `${author.id}/followers`,
      mentionedUrl: cc[0] ?? `${author.id}/followers`,
      mentionedName: "pots",
      mentionedHost: new URL(instance.url).host,
      text,
      hashtag: "pots",
    });
    const note = { "@context": create["@context"], ...create.object, cc: [`${author.id}/followers`, ...cc] };
    mastodon.publish(note);
    // Mastodon answers its web URL, asked for ActivityPub, with the same document.
    mastodon.objects.set(note.url, note);
    return note as { id: string; url: string };
  };

  /** A Lemmy post (Page) in the Lemmy group. */
  const lemmyPage = (title: string) => {
    const id = `${lemmy.origin}/post/${++seq}`;
    const page = {
      "@context": LEMMY_CONTEXT,
      type: "Page",
      id,
      attributedTo: alpha.id,
      to: [group.id, PUBLIC],
      cc: [],
      name: title,
      content: `<p>${title}</p>\n`,
      mediaType: "text/html",
      sensitive: false,
      published: new Date().toISOString(),
      audience: group.id,
    };
    lemmy.publish(page);
    return page;
  };

  it("takes a member from a Mastodon status's web URL to its page here, and its IRI to the same page", async () => {
    const note = status("Salt tablets before the walk", [community.iri]);
    const path = new URL(note.url).pathname;
    const res = await search(alice, note.url);
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    const row = await postRow(note.id);
    expect(row?.community_id).toBe(community.id);
    expect(res.headers.get("location")).toBe(`/posts/${row?.id}`);
    // One fetch of the pasted link: the actor lookup's document is reused for the post.
    expect(fetchesOf(mastodon, path)).toBe(1);
    // Held now: the IRI and the web URL resolve without asking Mastodon again.
    const before = mastodon.fetches.length;
    for (const link of [note.id, note.url]) {
      const again = await search(alice, link);
      expect(again.status).toBe(303);
      expect(again.headers.get("location")).toBe(`/posts/${row?.id}`);
    }
    expect(mastodon.fetches.length).toBe(before);
    const page = await alice.get(`/posts/${row?.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Salt tablets before the walk");
  });

  it("resolves a status pasted by its IRI", async () => {
    const note = status("Compression at night?", [community.iri]);
    const res = await search(alice, note.id);
    expect(res.status).toBe(303);
    const row = await postRow(note.id);
    expect(res.headers.get("location")).toBe(`/posts/${row?.id}`);
  });

  it("takes a Lemmy post to its thread in the Lemmy community, and a comment to its reply page", async () => {
    const page = lemmyPage("Heat or ice?");
    const res = await search(alice, page.id);
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    const row = await postRow(page.id);
    const groupRow = await db().selectFrom("actors").select("id").where("iri", "=", group.id).executeTakeFirst();
    expect(row?.community_id).toBe(groupRow?.id);
    expect(res.headers.get("location")).toBe(`/posts/${row?.id}`);

    const commentId = `${lemmy.origin}/comment/${++seq}`;
    lemmy.publish({
      "@context": LEMMY_CONTEXT,
      type: "Note",
      id: commentId,
      attributedTo: alpha.id,
      to: [PUBLIC],
      cc: [group.id],
      content: "<p>Ice for the first two days.</p>\n",
      mediaType: "text/html",
      inReplyTo: page.id,
      published: new Date().toISOString(),
      audience: group.id,
    });
    const reply = await search(alice, commentId);
    expect(reply.status).toBe(303);
    const replyRow = await postRow(commentId);
    expect(replyRow?.thread_id).toBe(row?.id);
    expect(reply.headers.get("location")).toBe(`/replies/${replyRow?.id}`);
  });

  it("takes a Kindred post's URL to its page here, in that instance's community", async () => {
    const owner = await seedUser(other, "owner", { role: "admin" });
    const theirs = await seedCommunity(other, owner, { slug: "eds", name: "Ehlers-Danlos" });
    const thread = await seedThread(other, theirs, owner, "Bracing for subluxations", "What works for you?");
    const iri = `${other.url}/posts/${thread.id}`;
    const res = await search(alice, iri);
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    const row = await postRow(iri);
    const groupRow = await db().selectFrom("actors").select("id").where("iri", "=", theirs.iri).executeTakeFirst();
    expect(row?.community_id).toBe(groupRow?.id);
    expect(res.headers.get("location")).toBe(`/posts/${row?.id}`);
    expect((await alice.get(`/posts/${row?.id}`)).text).toContain("Bracing for subluxations");
  });

  it("still takes an actor's URL to the actor", async () => {
    const res = await search(alice, kate.id);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/@kate@${mastodon.host}`);
  });

  it("goes straight to our own posts' and replies' pages, for visitors too", async () => {
    const thread = await seedThread(instance, community, admin, "Our own thread");
    const visitor = new Visitor(instance.url);
    const own = await search(visitor, `${instance.url}/posts/${thread.id}`);
    expect(own.status).toBe(303);
    expect(own.headers.get("location")).toBe(`/posts/${thread.id}`);
    const reply = await search(alice, `${instance.url}/replies/abc123`);
    expect(reply.status).toBe(303);
    expect(reply.headers.get("location")).toBe("/replies/abc123");
  });

  it("makes no fetch for a visitor: 401", async () => {
    const note = status("Never fetched", [community.iri]);
    const before = mastodon.fetches.length;
    const res = await search(new Visitor(instance.url), note.url);
    expect(res.status).toBe(401);
    expect(res.text).toContain("Log in to look up");
    expect(mastodon.fetches.length).toBe(before);
    expect(await postRow(note.id)).toBeUndefined();
  });

  it("finds nothing at a link that answers 404", async () => {
    const res = await search(alice, `${mastodon.origin}/@kate/${snowflake()}`);
    expect(res.status).toBe(404);
    expect(res.text).toContain("Nothing found at");
    expect(mastodon.fetches.at(-1)?.status).toBe(404);
  });

  it("refuses a post whose author is on another origin than the post", async () => {
    const id = `${mastodon.origin}/users/kate/statuses/${snowflake()}`;
    mastodon.publish({
      "@context": "https://www.w3.org/ns/activitystreams",
      type: "Note",
      id,
      attributedTo: alpha.id,
      to: [PUBLIC],
      cc: [community.iri],
      content: "<p>Words put in a Lemmy user's mouth</p>",
      published: new Date().toISOString(),
    });
    const res = await search(alice, id);
    expect(res.status).toBe(404);
    expect(res.text).toContain("Nothing found at");
    expect(fetchesOf(mastodon, new URL(id).pathname)).toBe(1);
    expect(await postRow(id)).toBeUndefined();
  });

  it("finds nothing when ingest refuses the post (no community, nobody here follows the author)", async () => {
    const note = status("Just my own timeline", []);
    const res = await search(alice, note.id);
    expect(res.status).toBe(404);
    expect(fetchesOf(mastodon, new URL(note.id).pathname)).toBe(1);
    expect(await postRow(note.id)).toBeUndefined();
  });
});
