// Kindred against a fake Lemmy (test/fixtures/lemmy/): Lemmy users follow a
// Kindred community, post Pages into it (FEP-1b12 `audience`), comment and
// vote; and a Kindred member joins a Lemmy community and gets its posts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, PUBLIC, uuid, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { actorByIri, addressing, followRow, idOf, likeCount, postByIri, queueIdle } from "./support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

let postSeq = 100;

describe("Lemmy interop", () => {
  let instance: TestInstance;
  let lemmy: Peer;
  let admin: LocalUser;
  let community: Community;
  let alpha: PeerActor;
  /** A second Lemmy instance following the community: it gets what the community re-shares from the first. */
  let other: Peer;

  beforeAll(async () => {
    [instance, lemmy, other] = await Promise.all([startTestInstance(), Peer.start("lemmy"), Peer.start("lemmy")]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    alpha = await lemmy.addActor("lemmy_alpha", { name: "Alpha" });
    const gamma = await other.addActor("lemmy_gamma");
    const follow = fixture("lemmy/follow.json", {
      origin: other.origin,
      actor: gamma.id,
      group: community.iri,
      uuid: uuid(),
    });
    expect((await other.send(gamma, `${community.iri}/inbox`, follow)).status).toBe(202);
    await other.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id);
  });
  afterAll(async () => {
    await other?.stop();
    await lemmy?.stop();
    await instance?.stop();
  });

  const db = () => instance.runtime.db;
  const lemmyPage = (actor: PeerActor, group: string, title: string, source: string, content: string) =>
    fixture("lemmy/create_page.json", {
      origin: lemmy.origin,
      actor: actor.id,
      group,
      groupName: new URL(group).pathname.split(/[/@]/).filter(Boolean).pop(),
      id: ++postSeq,
      uuid: uuid(),
      title,
      source,
      content,
      published: new Date().toISOString(),
    });
  const lemmyComment = (actor: PeerActor, inReplyTo: string, parentAuthor: string, source: string, content: string) =>
    fixture("lemmy/create_note.json", {
      origin: lemmy.origin,
      actor: actor.id,
      group: community.iri,
      id: ++postSeq,
      uuid: uuid(),
      inReplyTo,
      parentAuthor,
      parentAuthorName: new URL(parentAuthor).pathname.split(/[/@]/).filter(Boolean).pop(),
      source,
      content,
      published: new Date().toISOString(),
    });

  it("answers a Lemmy user's Follow of the community with an Accept Lemmy can match", async () => {
    const follow = fixture("lemmy/follow.json", {
      origin: lemmy.origin,
      actor: alpha.id,
      group: community.iri,
      uuid: uuid(),
    });
    const res = await lemmy.send(alpha, `${community.iri}/inbox`, follow);
    expect(res.status, res.text).toBe(202);
    const accept = await lemmy.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id);
    expect(accept.verified).toBe(true);
    expect(accept.signer).toBe(community.iri);
    expect(accept.path).toBe("/u/lemmy_alpha/inbox");
    // Lemmy checks the embedded Follow's id, actor and object against the one it sent.
    expect(accept.body).toMatchObject({
      type: "Accept",
      actor: community.iri,
      object: { type: "Follow", id: follow.id, actor: alpha.id, object: community.iri },
    });
    expect(await followRow(instance, alpha.id, community.iri)).toMatchObject({ iri: follow.id, status: "accepted" });
    expect(await actorByIri(instance, alpha.id)).toMatchObject({
      type: "Person",
      username: "lemmy_alpha",
      name: "Alpha",
      inbox_url: `${alpha.id}/inbox`,
      shared_inbox_url: `${lemmy.origin}/inbox`,
    });
  });

  it("creates a thread titled from `name` for a Lemmy Create(Page) addressed to the community", async () => {
    const create = lemmyPage(
      alpha,
      community.iri,
      "Anyone tried <b>LDN</b>?",
      "Low dose naltrexone, **experiences**?",
      '<p>Low dose naltrexone, <strong>experiences</strong>?</p>\n<iframe src="https://evil.example"></iframe>',
    );
    const res = await lemmy.send(alpha, `${community.iri}/inbox`, create);
    expect(res.status, res.text).toBe(202);
    const post = await waitFor(() => postByIri(instance, create.object.id), { label: "the Lemmy post" });
    expect(post).toMatchObject({
      type: "Page",
      title: "Anyone tried LDN?",
      community_id: community.id,
      parent_id: null,
      thread_id: post.id,
      local: 0,
      audience: "public",
    });
    expect(post.content_html).toContain("Low dose naltrexone, <strong>experiences</strong>?");
    expect(post.content_html).not.toContain("iframe");
    // The community re-shares it (FEP-1b12): Lemmy instances following it get Announce(Create(Page)),
    // all but the one it came from.
    const announce = await other.waitForDelivery(
      (b) => b.type === "Announce" && b.object?.type === "Create" && b.object.id === create.id,
    );
    expect(announce.verified).toBe(true);
    expect(announce.body.actor).toBe(community.iri);
    expect(announce.body.object).toMatchObject({
      actor: alpha.id,
      object: { id: create.object.id, type: "Page", name: create.object.name, audience: community.iri },
    });
    expect(addressing(announce.body, "to")).toEqual([PUBLIC]);
    await queueIdle(instance);
    expect(lemmy.received((b) => b.type === "Announce" && b.object?.id === create.id)).toEqual([]);
  });

  it("creates a reply for a Lemmy Note whose inReplyTo is a thread", async () => {
    const page = lemmyPage(alpha, community.iri, "Cold hands", "Always cold.", "<p>Always cold.</p>");
    expect((await lemmy.send(alpha, `${community.iri}/inbox`, page)).status).toBe(202);
    const thread = await waitFor(() => postByIri(instance, page.object.id), { label: "the Lemmy thread" });

    const comment = lemmyComment(
      alpha,
      page.object.id,
      alpha.id,
      "Gloves *indoors* help.",
      "<p>Gloves <em>indoors</em> help.</p>\n",
    );
    expect((await lemmy.send(alpha, `${community.iri}/inbox`, comment)).status).toBe(202);
    const reply = await waitFor(() => postByIri(instance, comment.object.id), { label: "the Lemmy comment" });
    expect(reply).toMatchObject({
      type: "Note",
      parent_id: thread.id,
      thread_id: thread.id,
      community_id: community.id,
      title: null,
    });
    expect(reply.content_html).toContain("Gloves <em>indoors</em> help.");

    // A comment on a Kindred member's thread lands in that thread too.
    const local = await createThread(db(), instance.url, community, admin.actorId, {
      title: "Weekly check-in",
      body: "How are you?",
    });
    const onLocal = lemmyComment(alpha, local.iri, admin.iri, "Better this week.", "<p>Better this week.</p>\n");
    expect((await lemmy.send(alpha, `${community.iri}/inbox`, onLocal)).status).toBe(202);
    const reply2 = await waitFor(() => postByIri(instance, onLocal.object.id), {
      label: "the comment on a local thread",
    });
    expect(reply2).toMatchObject({ parent_id: local.id, thread_id: local.id, community_id: community.id });
  });

  it("counts a Lemmy upvote (Like) and re-shares it to the community's followers", async () => {
    const local = await createThread(db(), instance.url, community, admin.actorId, {
      title: "Vote me",
      body: "Please.",
    });
    const like = fixture("lemmy/like.json", {
      origin: lemmy.origin,
      actor: alpha.id,
      object: local.iri,
      uuid: uuid(),
      group: community.iri,
    });
    const res = await lemmy.send(alpha, `${community.iri}/inbox`, like);
    expect(res.status, res.text).toBe(202);
    await waitFor(async () => (await likeCount(instance, local.id)) === 1, { label: "the vote" });
    const row = await db().selectFrom("likes").selectAll().where("post_id", "=", local.id).executeTakeFirstOrThrow();
    expect(row.iri).toBe(like.id);
    const announce = await other.waitForDelivery(
      (b) => b.type === "Announce" && b.object?.type === "Like" && b.object.id === like.id,
    );
    expect(announce.verified).toBe(true);
    expect(announce.body.object).toMatchObject({ actor: alpha.id, object: local.iri });
    await queueIdle(instance);
    expect(
      lemmy.received((b) => b.type === "Announce" && b.object?.id === like.id),
      "back to its origin",
    ).toEqual([]);
  });

  it("lets a Kindred member join a Lemmy community and receive its posts", async () => {
    const group = await lemmy.addActor("chronic_pain", { type: "Group", name: "Chronic Pain" });
    const poster = await lemmy.addActor("lemmy_beta");
    const groupId = await instance.runtime.remote!.resolveActor(group.id);
    expect(groupId).toBeTruthy();
    expect(await actorByIri(instance, group.id)).toMatchObject({
      id: groupId,
      type: "Group",
      local: 0,
      username: "chronic_pain",
      followers_url: `${group.id}/followers`,
      featured_url: `${group.id}/featured`,
    });

    expect(await followRemote(db(), instance.url, admin.actorId, groupId!)).toBe("pending");
    const follow = await lemmy.waitForDelivery((b) => b.type === "Follow" && b.object === group.id);
    expect(follow.verified).toBe(true);
    expect(follow.signer).toBe(admin.iri);
    expect(follow.path).toBe("/c/chronic_pain/inbox");
    expect(follow.body.actor).toBe(admin.iri);

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
      id: ++postSeq,
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
    expect(post).toMatchObject({ type: "Page", title: "Heat or ice?", community_id: groupId, local: 0 });
    expect(post.author_id).toBe((await actorByIri(instance, poster.id))!.id);

    // A Kindred member's thread in that community goes to the group, addressed the way Lemmy expects.
    const thread = await createThread(
      db(),
      instance.url,
      { id: groupId!, visibility: "public", joinPolicy: "open" },
      admin.actorId,
      { title: "Hello from Kindred", body: "First post." },
    );
    const create = await lemmy.waitForDelivery((b) => b.type === "Create" && idOf(b.object) === thread.iri);
    expect(create.verified).toBe(true);
    expect(create.signer).toBe(admin.iri);
    expect(create.body.object).toMatchObject({
      type: "Page",
      name: "Hello from Kindred",
      audience: group.id,
      attributedTo: admin.iri,
    });
    expect(addressing(create.body.object, "to")).toContain(PUBLIC);
    expect([...addressing(create.body.object, "to"), ...addressing(create.body.object, "cc")]).toContain(group.id);
    await queueIdle(instance);
  });
});
