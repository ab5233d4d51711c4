// Reports and moderation that cross servers, on a real Kindred with a
// Mastodon-shaped and a Lemmy-shaped server: a forwarded report reaches the
// reported post's server as Mastodon's Flag from the instance actor (never
// naming the reporter or a visitor's address); a report about a post in a
// Lemmy community reaches that community as Lemmy's Flag; a local moderator
// of a Lemmy community acts through the community; closing a report Lemmy
// sent answers it with Lemmy's Resolve.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { lockThread, removePost } from "../../src/moderation/posts.ts";
import { closeReport, fileReport, receiveReport } from "../../src/moderation/reports.ts";
import { createThread } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, PUBLIC, snowflake, uuid, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { actorByIri, addressing, followRow, idOf, postByIri, queueIdle } from "../interop/support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

let lemmyPostSeq = 500;

describe.each(dialects)("reports and moderation across servers (%s)", (dialect) => {
  let instance: TestInstance;
  let lemmy: Peer;
  let mastodon: Peer;
  let admin: LocalUser;
  let member: LocalUser;
  let community: Community;
  let alpha: PeerActor;
  let alice: PeerActor;
  let group: PeerActor;
  let groupId: string;

  const db = () => instance.runtime.db;
  const flagsAt = (peer: Peer, iri: string) => peer.received((b) => b.type === "Flag" && b.id === iri);
  const reportIri = async (reportId: string) =>
    (await db().selectFrom("reports").select("iri").where("id", "=", reportId).executeTakeFirstOrThrow()).iri ?? "";

  /** A Mastodon user's post in the community (a mention of it), as stored here. */
  const mastodonPost = async (text: string) => {
    const id = snowflake();
    const create = fixture("mastodon/create_note.json", {
      origin: mastodon.origin,
      host: mastodon.host,
      actor: alice.id,
      username: alice.username,
      id,
      published: new Date().toISOString(),
      inReplyTo: null,
      mentioned: community.iri,
      mentionedUrl: community.iri,
      mentionedName: "long-covid",
      mentionedHost: new URL(community.iri).host,
      text,
      hashtag: "longcovid",
    });
    expect((await mastodon.send(alice, `${instance.url}/inbox`, create)).status).toBe(202);
    return waitFor(() => postByIri(instance, create.object.id), { label: "the Mastodon post" });
  };
  /** A Lemmy user's thread in the Lemmy community, as its Announce brought it here. */
  const lemmyPost = async (poster: PeerActor, title: string) => {
    const announce = fixture("lemmy/announce_create_page.json", {
      origin: lemmy.origin,
      group: group.id,
      actor: poster.id,
      id: ++lemmyPostSeq,
      uuid: uuid(),
      announceUuid: uuid(),
      title,
      source: "Body.",
      content: "<p>Body.</p>\n",
      published: new Date().toISOString(),
    });
    expect((await lemmy.send(group, `${instance.url}/inbox`, announce)).status).toBe(202);
    return waitFor(() => postByIri(instance, announce.object.object.id), { label: "the Lemmy post" });
  };

  beforeAll(async () => {
    [instance, lemmy, mastodon] = await Promise.all([
      startTestInstance({ dialect }),
      Peer.start("lemmy"),
      Peer.start("mastodon"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    member = await seedUser(instance, "member");
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    alpha = await lemmy.addActor("lemmy_alpha");
    alice = await mastodon.addActor("alice");
    group = await lemmy.addActor("chronic_pain", { type: "Group" });
    // The member joins the Lemmy community.
    groupId = (await instance.runtime.remote?.resolveActor(group.id)) ?? "";
    expect(await followRemote(db(), instance.url, member.actorId, groupId)).toBe("pending");
    const follow = await lemmy.waitForDelivery((b) => b.type === "Follow" && b.object === group.id);
    const accept = fixture("lemmy/accept.json", {
      origin: lemmy.origin,
      actor: group.id,
      follower: member.iri,
      followId: follow.body.id,
      uuid: uuid(),
    });
    expect((await lemmy.send(group, `${member.iri}/inbox`, accept)).status).toBe(202);
    await waitFor(async () => (await followRow(instance, member.iri, group.id))?.status === "accepted");
  });
  afterAll(async () => {
    await Promise.all([lemmy?.stop(), mastodon?.stop()]);
    await instance?.stop();
  });

  it("forwards a report about a Mastodon post as Mastodon's Flag from the instance actor, naming nobody who reported", async () => {
    const post = await mastodonPost("Buy my supplement, it cures everything.");
    const reportId = await fileReport(db(), instance.url, {
      reporterId: member.actorId,
      postIds: [post.id],
      category: "medical_misinformation",
      comment: "Selling a cure",
      forward: true,
    });
    const iri = await reportIri(reportId);
    const flag = await mastodon.waitForDelivery((b) => b.type === "Flag" && b.id === iri);
    expect(flag.verified).toBe(true);
    expect(flag.signer).toBe(`${instance.url}/@instance`);
    expect(flag.path).toBe("/inbox");
    expect(flag.body).toMatchObject({ actor: `${instance.url}/@instance`, content: "Selling a cure" });
    expect(flag.body.object).toEqual([alice.id, post.iri]);
    expect(addressing(flag.body, "to")).toEqual([alice.id]);
    expect(flag.raw).not.toContain(member.iri);
    expect(flag.raw).not.toContain(member.username);

    // A visitor's report: the address they left for the outcome stays here.
    const visitor = await fileReport(db(), instance.url, {
      reporterId: null,
      postIds: [post.id],
      category: "spam",
      contact: "worried.reader@example.org",
      forward: true,
    });
    const visitorIri = await reportIri(visitor);
    const visitorFlag = await mastodon.waitForDelivery((b) => b.type === "Flag" && b.id === visitorIri);
    expect(visitorFlag.verified).toBe(true);
    expect(visitorFlag.raw).not.toContain("worried.reader");
    // No comment: the reason chosen stands in for it.
    expect(visitorFlag.body.content).toBe("Spam or advertising");
  });

  it("keeps a report here when it is not forwarded, and always for local content in a local community", async () => {
    const post = await mastodonPost("Another post.");
    const thread = await createThread(db(), instance.url, community, admin.actorId, { title: "Ours" });
    const kept = [
      await fileReport(db(), instance.url, {
        reporterId: member.actorId,
        postIds: [post.id],
        category: "other",
        comment: "Unsure",
      }),
      await fileReport(db(), instance.url, {
        reporterId: member.actorId,
        postIds: [thread.id],
        category: "other",
        comment: "Ours to judge",
        forward: true,
      }),
    ];
    await queueIdle(instance);
    for (const id of kept) {
      const iri = await reportIri(id);
      expect([...flagsAt(mastodon, iri), ...flagsAt(lemmy, iri)]).toEqual([]);
    }
  });

  it("reports a post in a Lemmy community to that community, as Lemmy sends a report", async () => {
    const poster = await lemmy.addActor("lemmy_spammer");
    const post = await lemmyPost(poster, "Cheap pills");
    const reportId = await fileReport(db(), instance.url, {
      reporterId: member.actorId,
      postIds: [post.id],
      category: "spam",
      comment: "Pill spam",
      forward: true,
    });
    const iri = await reportIri(reportId);
    const flag = await lemmy.waitForDelivery((b) => b.type === "Flag" && b.id === iri);
    expect(flag.verified).toBe(true);
    expect(flag.signer).toBe(member.iri);
    expect(flag.body).toMatchObject({
      actor: member.iri,
      object: post.iri,
      summary: "Pill spam",
      content: "Pill spam",
      audience: group.id,
    });
    expect(addressing(flag.body, "to")).toEqual([group.id]);
    // The author's server is the community's: it is not sent a second, Mastodon-shaped Flag.
    await queueIdle(instance);
    expect(lemmy.received((b) => b.type === "Flag" && String(b.id).startsWith(iri))).toHaveLength(1);
  });

  it("sends a local moderator's actions in a Lemmy community to the community; an admin's stay here", async () => {
    await addModerator(db(), instance.url, { role: "group", actorId: groupId }, groupId, member.actorId);
    const poster = await lemmy.addActor("lemmy_beta");
    const post = await lemmyPost(poster, "Heated thread");
    const mod = { role: "moderator" as const, actorId: member.actorId };
    const lockAction = await lockThread(db(), instance.url, mod, post.id, { reason: "Cooling off" });
    const lockIri = (
      await db()
        .selectFrom("moderation_actions")
        .select("activity_iri")
        .where("id", "=", lockAction)
        .executeTakeFirstOrThrow()
    ).activity_iri;
    const lock = await lemmy.waitForDelivery((b) => b.type === "Lock" && b.id === lockIri);
    expect(lock.verified).toBe(true);
    expect(lock.signer).toBe(member.iri);
    expect(lock.body).toMatchObject({
      actor: member.iri,
      object: post.iri,
      summary: "Cooling off",
      audience: group.id,
    });
    expect(addressing(lock.body, "cc")).toEqual([group.id]);
    expect(addressing(lock.body, "to")).toEqual([PUBLIC]);

    const removal = await removePost(db(), instance.url, mod, post.id, { reason: "Rule 2" });
    const removalIri = (
      await db()
        .selectFrom("moderation_actions")
        .select("activity_iri")
        .where("id", "=", removal)
        .executeTakeFirstOrThrow()
    ).activity_iri;
    const del = await lemmy.waitForDelivery((b) => b.type === "Delete" && b.id === removalIri);
    expect(del.body).toMatchObject({ actor: member.iri, object: post.iri, summary: "Rule 2", audience: group.id });

    const other = await lemmyPost(poster, "Also heated");
    await queueIdle(instance);
    const before = lemmy.deliveries.length;
    await removePost(db(), instance.url, { role: "admin", actorId: admin.actorId }, other.id, { reason: "Here only" });
    await queueIdle(instance);
    expect(lemmy.deliveries.length).toBe(before);
  });

  it("answers a report Lemmy sent with Lemmy's Resolve once it is closed, from the moderator who closed it", async () => {
    const alphaId =
      (await actorByIri(instance, alpha.id))?.id ?? (await instance.runtime.remote?.resolveActor(alpha.id));
    const thread = await createThread(db(), instance.url, community, admin.actorId, { title: "Reported from Lemmy" });
    const flagIri = `${lemmy.origin}/activities/flag/${uuid()}`;
    const reportId = await receiveReport(db(), {
      iri: flagIri,
      reporterId: alphaId ?? "",
      postIds: [thread.id],
      actorId: null,
      communityId: community.id,
      comment: "Off-topic",
    });
    await closeReport(db(), { role: "moderator", actorId: admin.actorId }, reportId ?? "", "dismissed", "Fine here");
    const resolve = await lemmy.waitForDelivery((b) => b.type === "Resolve" && idOf(b.object) === flagIri);
    expect(resolve.verified).toBe(true);
    expect(resolve.signer).toBe(admin.iri);
    expect(resolve.body.id).toMatch(new RegExp(`^${instance.url}/activities/resolve/`));
    expect(resolve.body).toMatchObject({
      actor: admin.iri,
      audience: community.iri,
      object: { type: "Flag", id: flagIri, actor: alpha.id, object: thread.iri },
    });
    expect(addressing(resolve.body, "to")).toEqual([community.iri]);
    // The moderators' note is for the reporter here, not for the other server.
    expect(resolve.raw).not.toContain("Fine here");

    // A report filed here is closed here: nothing is sent.
    const local = await fileReport(db(), instance.url, {
      reporterId: member.actorId,
      postIds: [thread.id],
      category: "other",
    });
    await closeReport(db(), { role: "moderator", actorId: admin.actorId }, local, "resolved");
    await queueIdle(instance);
    expect(lemmy.received((b) => b.type === "Resolve")).toHaveLength(1);
  });
});
