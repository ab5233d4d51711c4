// Account sanctions (issue 13, item 5) on a real instance on each database,
// with a fake Mastodon server on loopback: an admin suspends a member from
// their profile (the member still logs in but reaches only their suspension
// page with the statement of reasons and the appeal; their thread and profile
// are gone for others; their actor document says `suspended: true` and a
// follower's server gets the `Update`); an appeal granted lifts it; a limit
// keeps posts out of public listings and turns follows into requests; the CLI
// suspends and lifts by username and by remote actor IRI; a suspended remote
// actor's signed Create is refused with 403 and not stored, and its follow of
// a community ends with a Reject.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { type CliResult, SPAWN_TIMEOUT, spawnCli } from "../helpers/cli.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor, waitFor } from "../helpers/peer.ts";
import { loggedIn, seedCommunity, seedThread, seedUser, threadTitles, unescapeHtml } from "../helpers/seed.ts";
import { postByIri, queueIdle } from "../interop/support.ts";
import { idOf, mastodonFollow, mastodonNote } from "../policy/support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

describe.each(dialects)("account sanctions (%s)", (dialect) => {
  let instance: TestInstance;
  let peer: Peer;
  let admin: LocalUser;
  let community: Community;
  let rita: PeerActor;
  let adminWeb: WebClient;
  const db = () => instance.runtime.db;
  const visitor = () => new WebClient(instance.url);
  const cli = (...args: string[]): Promise<CliResult> =>
    spawnCli(
      {
        DATABASE_URL: instance.database.url,
        DATA_DIR: instance.config.dataDir,
        ORIGIN: instance.url,
        LOG_LEVEL: "error",
      },
      args,
    );
  const actorRow = (iri: string) =>
    db()
      .selectFrom("actors")
      .select(["id", "suspended_at", "limited_at"])
      .where("iri", "=", iri)
      .executeTakeFirstOrThrow();

  /** A Mastodon Follow sent to `target`'s inbox; resolves once it is stored (pending or accepted). */
  async function follow(actor: PeerActor, target: string) {
    const activity = mastodonFollow(peer, actor, target);
    const res = await peer.send(actor, `${target}/inbox`, activity);
    expect(res.status, res.text).toBe(202);
    return waitFor(
      () => db().selectFrom("follows").select(["status", "iri"]).where("iri", "=", activity.id).executeTakeFirst(),
      { label: `${actor.username}'s follow of ${target}` },
    );
  }

  beforeAll(async () => {
    [instance, peer] = await Promise.all([startTestInstance({ dialect }), Peer.start("mastodon")]);
    admin = await seedUser(instance, "root", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS circle" });
    rita = await peer.addActor("rita", { name: "Rita" });
    adminWeb = await loggedIn(instance, "root");
  }, SPAWN_TIMEOUT);
  afterAll(async () => {
    await peer?.stop();
    await instance?.stop();
  });

  it("a suspended member sees only their suspension page, others see nothing of them, an appeal lifts it", async () => {
    const sam = await seedUser(instance, "sam");
    const thread = await seedThread(instance, community, sam, "Miracle salt tablets", "Buy mine.");
    // A Mastodon user follows sam: their server must hear of the suspension.
    expect((await follow(rita, sam.iri))?.status).toBe("accepted");
    const samWeb = await loggedIn(instance, "sam");
    expect((await visitor().get(`/posts/${thread.id}`)).status).toBe(200);

    // The admin suspends sam from the profile, with a reason.
    const profile = await adminWeb.get("/@sam");
    expect(profile.text).toContain('action="/admin/accounts/suspend"');
    const suspend = await adminWeb.post("/admin/accounts/suspend", { account: "sam", reason: "Selling miracle cures" });
    expect(suspend.status, suspend.text.slice(0, 300)).toBe(303);
    expect((await actorRow(sam.iri)).suspended_at).not.toBeNull();

    // Hidden from everyone else (not deleted): thread, profile, listing.
    expect((await visitor().get(`/posts/${thread.id}`)).status).toBe(404);
    expect((await visitor().get("/@sam")).status).toBe(404);
    expect(threadTitles((await visitor().get("/@pots")).text)).not.toContain("Miracle salt tablets");
    expect(await db().selectFrom("posts").select("id").where("id", "=", thread.id).executeTakeFirst()).toBeDefined();
    // The actor document says so, as Mastodon serves a suspended account, and nothing of theirs is served.
    const doc = await fetch(sam.iri, { headers: { accept: "application/activity+json" } }).then((r) => r.json());
    expect(doc.suspended).toBe(true);
    expect(doc.summary ?? null).toBeNull();
    expect((await fetch(thread.iri, { headers: { accept: "application/activity+json" } })).status).toBe(404);
    // The follower's server gets the Update of the actor.
    await peer.waitForDelivery(
      (b) => b.type === "Update" && idOf(b.object) === sam.iri && b.object.suspended === true,
      {
        label: "Update(Person suspended) to rita's server",
      },
    );

    // Sam still logs in, but every page leads to the suspension page, and nothing can be posted.
    const home = await samWeb.get("/");
    expect(home.status).toBe(303);
    expect(home.headers.get("location")).toBe("/account/suspended");
    expect((await samWeb.get(`/posts/${thread.id}`)).headers.get("location")).toBe("/account/suspended");
    const page = await samWeb.get("/account/suspended");
    expect(page.status).toBe(200);
    const text = unescapeHtml(page.text);
    expect(text).toContain("Your account is suspended");
    expect(text).toContain("Selling miracle cures");
    expect(page.text).toContain('href="/settings/data"');
    expect((await samWeb.get("/settings/data")).status).toBe(200);
    await samWeb.get("/account/suspended");
    expect((await samWeb.post("/settings/profile", { displayName: "x", bio: "", email: "" })).status).toBe(403);
    const appealAction = /action="(\/moderation\/actions\/[0-9a-f-]{36})\/appeal"/.exec(page.text)?.[1];
    expect(appealAction, "the appeal form").toBeTruthy();
    await samWeb.get("/account/suspended");
    const appealed = await samWeb.post(`${appealAction}/appeal`, { text: "I only shared what helps me." });
    expect(appealed.status).toBe(303);
    expect(unescapeHtml((await samWeb.get("/account/suspended")).text)).toContain("admins are reviewing");

    // The admins decide: granted, the suspension is lifted and sam is told.
    const queue = await adminWeb.get("/admin/appeals");
    const decide = /action="(\/admin\/appeals\/[0-9a-f-]{36})"/.exec(queue.text)?.[1];
    expect(decide, "the appeal in the admins' queue").toBeTruthy();
    expect((await adminWeb.post(decide as string, { decision: "grant", note: "Fair enough" })).status).toBe(303);
    expect((await actorRow(sam.iri)).suspended_at).toBeNull();
    expect((await samWeb.get("/")).status).toBe(200);
    expect((await visitor().get(`/posts/${thread.id}`)).status).toBe(200);
    const lifted = await fetch(sam.iri, { headers: { accept: "application/activity+json" } }).then((r) => r.json());
    expect(lifted.suspended ?? false).toBe(false);
  });

  it("a limited member's threads stay out of public listings, and their follows need approval", async () => {
    const lee = await seedUser(instance, "lee");
    await seedThread(instance, community, lee, "Limited thread by lee");
    await seedThread(instance, community, admin, "Ordinary thread");
    expect(threadTitles((await visitor().get("/@pots")).text)).toContain("Limited thread by lee");
    const limited = await adminWeb.post("/admin/accounts/limit", { account: "lee", reason: "Repeated spam" });
    expect(limited.status).toBe(303);
    const publicList = threadTitles((await visitor().get("/@pots")).text);
    expect(publicList).toContain("Ordinary thread");
    expect(publicList).not.toContain("Limited thread by lee");
    // Lee sees their own; lee is told why.
    const leeWeb = await loggedIn(instance, "lee");
    expect(threadTitles((await leeWeb.get("/@pots")).text)).toContain("Limited thread by lee");
    const notices = await db()
      .selectFrom("notifications")
      .select("action_id")
      .where("user_id", "=", lee.actorId)
      .where("kind", "=", "moderation")
      .execute();
    expect(notices).toHaveLength(1);
    // Joining an open community is now a request.
    const open = await seedCommunity(instance, admin, { slug: "open-room", name: "Open room" });
    await leeWeb.get("/@open-room");
    await leeWeb.post("/@open-room/join", {});
    const row = await db()
      .selectFrom("follows")
      .select("status")
      .where("follower_id", "=", lee.actorId)
      .where("followee_id", "=", open.id)
      .executeTakeFirst();
    expect(row?.status).toBe("pending");
    // A limited remote account's follow of an open community is a request too.
    const rob = await peer.addActor("rob");
    await follow(rob, admin.iri); // makes rob known here
    const lim = await adminWeb.post("/admin/accounts/limit", { account: rob.id, reason: "Spam" });
    expect(lim.status, lim.text.slice(0, 300)).toBe(303);
    expect((await follow(rob, community.iri))?.status).toBe("pending");
  });

  it("lists sanctioned accounts for admins, and an admin deletes a local account with a logged reason", async () => {
    const list = unescapeHtml((await adminWeb.get("/admin/accounts")).text);
    expect(list).toContain("@lee");
    expect(list).toContain(`@rob@${peer.host}`);
    expect((await (await loggedIn(instance, "lee")).get("/admin/accounts")).status).toBe(403);

    const dan = await seedUser(instance, "dan");
    await seedThread(instance, community, dan, "Thread by dan");
    await adminWeb.get("/@dan");
    const unconfirmed = await adminWeb.post("/admin/accounts/delete", { account: "dan", reason: "Ban evasion" });
    expect(unconfirmed.status).toBe(422);
    expect((await visitor().get("/@dan")).status).toBe(200);
    await adminWeb.get("/@dan");
    const deleted = await adminWeb.post("/admin/accounts/delete", {
      account: "dan",
      reason: "Ban evasion",
      confirm: "yes",
    });
    expect(deleted.status, deleted.text.slice(0, 300)).toBe(303);
    expect((await visitor().get("/@dan")).status).toBe(410);
    const user = await db()
      .selectFrom("users")
      .select("actor_id")
      .where("actor_id", "=", dan.actorId)
      .executeTakeFirst();
    expect(user).toBeUndefined();
    const logged = await db()
      .selectFrom("moderation_actions")
      .select(["reason", "by_role"])
      .where("action", "=", "delete_account")
      .execute();
    // Erasure removes every record naming them: the log keeps the decision and its reason, not whose account.
    expect(logged).toEqual([{ reason: "Ban evasion", by_role: "admin" }]);
    expect(
      await db().selectFrom("moderation_actions").select("id").where("target_actor_id", "=", dan.actorId).execute(),
    ).toEqual([]);
  });

  it(
    "CLI: suspends and lifts by username and by remote IRI, with clear errors",
    async () => {
      const kim = await seedUser(instance, "kim");
      const s = await cli("user", "suspend", "kim", "--reason", "Harassment");
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout).toContain("suspended @kim");
      expect((await actorRow(kim.iri)).suspended_at).not.toBeNull();
      const again = await cli("user", "suspend", "kim");
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain("already suspended");
      const u = await cli("user", "unsuspend", "kim");
      expect(u.code, u.stderr).toBe(0);
      expect((await actorRow(kim.iri)).suspended_at).toBeNull();
      const unknown = await cli("user", "suspend", "nobody-at-all");
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain('account "nobody-at-all" not found');
      const reason = await db()
        .selectFrom("moderation_actions")
        .select(["reason", "by_role", "reversed_at"])
        .where("target_actor_id", "=", kim.actorId)
        .where("action", "=", "suspend")
        .executeTakeFirstOrThrow();
      expect(reason).toMatchObject({ reason: "Harassment", by_role: "admin" });
      expect(reason.reversed_at).not.toBeNull();

      // A remote actor by IRI: its follow of the community ends (Reject), and its deliveries get 403.
      expect((await follow(rita, community.iri))?.status).toBe("accepted");
      const r = await cli("user", "suspend", rita.id, "--reason", "Spam from afar");
      expect(r.code, r.stderr).toBe(0);
      await peer.waitForDelivery((b) => b.type === "Reject" && idOf(b.object?.object) === community.iri, {
        label: "Reject of rita's follow",
      });
      const ritaId = (await actorRow(rita.id)).id;
      const follows = await db().selectFrom("follows").select("id").where("follower_id", "=", ritaId).execute();
      expect(follows).toHaveLength(0);
      const create = mastodonNote(peer, rita, {
        text: "Suspended words",
        mentioned: { iri: community.iri, name: "pots" },
      });
      const refused = await peer.send(rita, `${instance.url}/inbox`, create);
      expect(refused.status).toBe(403);
      await queueIdle(instance);
      expect(await postByIri(instance, create.object.id)).toBeUndefined();

      const lift = await cli("user", "unsuspend", rita.id);
      expect(lift.code, lift.stderr).toBe(0);
      const later = mastodonNote(peer, rita, { text: "Back again", mentioned: { iri: community.iri, name: "pots" } });
      expect((await peer.send(rita, `${instance.url}/inbox`, later)).status).toBe(202);
      await waitFor(() => postByIri(instance, later.object.id), { label: "rita's post after the suspension" });
    },
    SPAWN_TIMEOUT * 2,
  );
});
