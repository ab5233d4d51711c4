// Reports from other servers. Mastodon and Misskey send a `Flag` from their
// instance actor naming the account and its posts, the comment in `content`;
// Lemmy from the reporting person, to the community, with a `summary`; Mbin
// both. A report about something of ours lands in the review queue once; one
// from a server whose reports we reject, or about nothing of ours, does not.
// Lemmy's `Resolve` closes a report we sent, only from the server it went to.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { listReports } from "../../src/moderation/queues.ts";
import { fileReport } from "../../src/moderation/reports.ts";
import { blockDomain } from "../../src/policy/service.ts";
import { SPAWN_TIMEOUT, spawnCli } from "../helpers/cli.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, uuid, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { followRow, postByIri, queueIdle } from "./support.ts";

const COMMENT = "Please take a look at this user and their posts";

describe.each(dialects)("Flags from other servers (%s)", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;
  let misskey: Peer;
  let lemmy: Peer;
  let admin: LocalUser;
  let alice: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let thread: { id: string; iri: string };
  let mastodonActor: PeerActor;
  let misskeyActor: PeerActor;
  let reporter: PeerActor;
  let lemmyAuthor: PeerActor;
  /** A post of a remote community we hold: not ours to review. */
  let remotePost: string | undefined;

  const db = () => instance.runtime.db;
  const reports = async () => (await listReports(db(), { instance: true })).items;
  const reportOf = async (iri: string) => (await reports()).find((r) => r.iri === iri);
  const reportCount = async (iri: string) =>
    (await db().selectFrom("reports").select("id").where("iri", "=", iri).execute()).length;

  /** Mastodon's Flag exactly (real-world/mastodon/activities/flag.json), from its instance actor. */
  const mastodonFlag = (objects: string[], to: string) => ({
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${mastodon.origin}/${uuid()}`,
    type: "Flag",
    actor: mastodonActor.id,
    content: COMMENT,
    object: objects,
    to,
  });

  beforeAll(async () => {
    [instance, mastodon, misskey, lemmy] = await Promise.all([
      startTestInstance({ dialect }),
      Peer.start("mastodon"),
      Peer.start("misskey"),
      Peer.start("lemmy"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    alice = await seedUser(instance, "alice");
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    thread = await seedThread(instance, community, alice, "My pacing diary", "Day one.");
    mastodonActor = await mastodon.addInstanceActor();
    misskeyActor = await misskey.addActor("instance.actor");
    [reporter, lemmyAuthor] = await Promise.all([lemmy.addActor("lemmy_reporter"), lemmy.addActor("lemmy_author")]);
  });
  afterAll(async () => {
    await Promise.all([mastodon?.stop(), misskey?.stop(), lemmy?.stop()]);
    await instance?.stop();
  });

  it(
    "Mastodon's Flag about a local member and her thread lands in the community's queue, once",
    async () => {
      const flag = mastodonFlag([alice.iri, thread.iri], alice.iri);
      const res = await mastodon.send(mastodonActor, `${instance.url}/inbox`, flag);
      expect(res.status, res.text).toBe(202);
      const report = await waitFor(() => reportOf(flag.id), { label: "the report" });
      expect(report).toMatchObject({
        comment: COMMENT,
        remote: 1,
        status: "open",
        reporterIri: mastodonActor.id,
        reporterType: "Application",
        targetId: alice.actorId,
        communityId: community.id,
      });
      expect(report.posts.map((p) => p.id)).toEqual([thread.id]);
      const queue = await listReports(db(), { communityId: community.id });
      expect(queue.items.map((r) => r.iri)).toContain(flag.id);

      // Delivered again (to alice's own inbox this time): still one report.
      expect((await mastodon.send(mastodonActor, `${alice.iri}/inbox`, flag)).status).toBe(202);
      await queueIdle(instance);
      expect(await reportCount(flag.id)).toBe(1);

      // The self-hoster finds it at the command line too.
      const listed = await spawnCli({ DATABASE_URL: instance.database.url, ORIGIN: instance.url }, [
        "report",
        "list",
        "--json",
      ]);
      expect(listed.code, listed.stderr).toBe(0);
      const cliReport = (JSON.parse(listed.stdout) as Record<string, unknown>[]).find((r) => r.iri === flag.id);
      expect(cliReport).toMatchObject({
        reporter: mastodonActor.id,
        actor: alice.iri,
        posts: [thread.iri],
        comment: COMMENT,
      });
      expect(cliReport?.id).toBe(report.id);
    },
    SPAWN_TIMEOUT,
  );

  it("Misskey's Flag (from its instance actor, HTML comment) is stored with the comment as plain text", async () => {
    const flag = {
      "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
      type: "Flag",
      actor: misskeyActor.id,
      content: "<p>Spam &amp; <b>scam</b></p>",
      object: [alice.iri, thread.iri],
      id: `${misskey.origin}/${uuid()}`,
    };
    expect((await misskey.send(misskeyActor, `${instance.url}/inbox`, flag)).status).toBe(202);
    const report = await waitFor(() => reportOf(flag.id), { label: "Misskey's report" });
    expect(report).toMatchObject({ comment: "Spam & scam", reporterIri: misskeyActor.id, targetId: alice.actorId });
  });

  it("Lemmy's Flag (person, to the community, summary) and Mbin's (object array) about a post here", async () => {
    const follow = fixture("lemmy/follow.json", {
      origin: lemmy.origin,
      actor: lemmyAuthor.id,
      group: community.iri,
      uuid: uuid(),
    });
    expect((await lemmy.send(lemmyAuthor, `${community.iri}/inbox`, follow)).status).toBe(202);
    await waitFor(async () => (await followRow(instance, lemmyAuthor.id, community.iri))?.status === "accepted", {
      label: "the Lemmy author's join",
    });
    const create = fixture("lemmy/create_page.json", {
      origin: lemmy.origin,
      actor: lemmyAuthor.id,
      group: community.iri,
      groupName: "long-covid",
      id: 31,
      uuid: uuid(),
      title: "Miracle cure",
      source: "Buy it",
      content: "<p>Buy it</p>",
      published: new Date().toISOString(),
    });
    expect((await lemmy.send(lemmyAuthor, `${community.iri}/inbox`, create)).status).toBe(202);
    const post = await waitFor(() => postByIri(instance, create.object.id), { label: "the Lemmy post" });

    const lemmyFlag = {
      "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
      actor: reporter.id,
      to: [community.iri],
      audience: community.iri,
      object: create.object.id,
      summary: "report this post",
      type: "Flag",
      id: `${lemmy.origin}/activities/flag/${uuid()}`,
    };
    expect((await lemmy.send(reporter, `${community.iri}/inbox`, lemmyFlag)).status).toBe(202);
    const report = await waitFor(() => reportOf(lemmyFlag.id), { label: "Lemmy's report" });
    expect(report).toMatchObject({
      comment: "report this post",
      reporterIri: reporter.id,
      targetId: post.author_id,
      communityId: community.id,
    });

    // Mbin: the post and its author, summary and content both.
    const mbinFlag = {
      "@context": ["https://www.w3.org/ns/activitystreams"],
      id: `${lemmy.origin}/reports/${uuid()}`,
      type: "Flag",
      actor: reporter.id,
      object: [create.object.id, lemmyAuthor.id],
      audience: community.iri,
      summary: "dikjhgasdpas dsaü",
      content: "dikjhgasdpas dsaü",
      to: [community.iri],
    };
    expect((await lemmy.send(reporter, `${community.iri}/inbox`, mbinFlag)).status).toBe(202);
    const mbin = await waitFor(() => reportOf(mbinFlag.id), { label: "Mbin's report" });
    expect(mbin).toMatchObject({ comment: "dikjhgasdpas dsaü", targetIri: lemmyAuthor.id, communityId: community.id });
  });

  it("a Flag about nothing of ours is dropped", async () => {
    const flag = mastodonFlag([`${mastodon.origin}/users/someone`, `${mastodon.origin}/statuses/1`], alice.iri);
    expect((await mastodon.send(mastodonActor, `${instance.url}/inbox`, flag)).status).toBe(202);
    await queueIdle(instance);
    expect(await reportCount(flag.id)).toBe(0);
  });

  it("a Flag from a server whose reports we reject is dropped; one sent once they are accepted is stored", async () => {
    await blockDomain(db(), { domain: mastodon.host, severity: "noop", rejectReports: true }, { origin: instance.url });
    await instance.runtime.policy.refresh();
    const flag = mastodonFlag([alice.iri, thread.iri], alice.iri);
    expect((await mastodon.send(mastodonActor, `${instance.url}/inbox`, flag)).status).toBe(202);
    await queueIdle(instance);
    expect(await reportCount(flag.id)).toBe(0);

    await blockDomain(
      db(),
      { domain: mastodon.host, severity: "noop", rejectReports: false },
      { origin: instance.url },
    );
    await instance.runtime.policy.refresh();
    const accepted = mastodonFlag([alice.iri, thread.iri], alice.iri);
    expect((await mastodon.send(mastodonActor, `${instance.url}/inbox`, accepted)).status).toBe(202);
    await waitFor(() => reportOf(accepted.id), { label: "the report once reports are accepted" });
  });

  it("Lemmy's Resolve closes our report on its post, only from the community's server", async () => {
    const group = await lemmy.addActor("chronic_pain", { type: "Group" });
    lemmy.setModerators(group, []);
    const groupId = (await instance.runtime.remote!.resolveActor(group.id))!;
    await followRemote(db(), instance.url, alice.actorId, groupId);
    await lemmy.acceptFollow(group, alice.iri);
    await waitFor(async () => (await followRow(instance, alice.iri, group.id))?.status === "accepted", {
      label: "alice's join",
    });
    const announce = fixture("lemmy/announce_create_page.json", {
      origin: lemmy.origin,
      group: group.id,
      actor: lemmyAuthor.id,
      id: 41,
      uuid: uuid(),
      announceUuid: uuid(),
      title: "Cure",
      source: "Cure",
      content: "<p>Cure</p>",
      published: new Date().toISOString(),
    });
    expect((await lemmy.send(group, `${instance.url}/inbox`, announce)).status).toBe(202);
    const post = await waitFor(() => postByIri(instance, announce.object.object.id), { label: "the group's post" });
    remotePost = post.iri;
    const reportId = await fileReport(db(), instance.url, {
      reporterId: alice.actorId,
      postIds: [post.id],
      category: "spam",
    });
    const ours = (await db().selectFrom("reports").select("iri").where("id", "=", reportId).executeTakeFirstOrThrow())
      .iri!;
    const resolve = (actor: PeerActor, origin: string) => ({
      "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
      actor: actor.id,
      to: [group.id],
      type: "Resolve",
      id: `${origin}/activities/resolve/${uuid()}`,
      object: { actor: alice.iri, to: [group.id], object: post.iri, summary: "spam", type: "Flag", id: ours },
    });
    // Another server cannot close it.
    expect(
      (await mastodon.send(mastodonActor, `${instance.url}/inbox`, resolve(mastodonActor, mastodon.origin))).status,
    ).toBe(202);
    await queueIdle(instance);
    expect(
      (await db().selectFrom("reports").select("status").where("id", "=", reportId).executeTakeFirst())?.status,
    ).toBe("open");

    const res = await lemmy.send(reporter, `${instance.url}/inbox`, resolve(reporter, lemmy.origin));
    expect(res.status, res.text).toBe(202);
    await waitFor(
      async () =>
        (await db().selectFrom("reports").select("status").where("id", "=", reportId).executeTakeFirst())?.status ===
        "resolved",
      { label: "our report resolved" },
    );
  });

  it("a Flag about a post we hold of another server's community (and its author) is not ours: dropped", async () => {
    expect(remotePost, "the remote community's post (previous test)").toBeDefined();
    const flag = mastodonFlag([lemmyAuthor.id, remotePost!], lemmyAuthor.id);
    expect((await mastodon.send(mastodonActor, `${instance.url}/inbox`, flag)).status).toBe(202);
    await queueIdle(instance);
    expect(await reportCount(flag.id)).toBe(0);
  });
});
