// The moderation CLI (`kindred report …`, `kindred mod …`): an admin at the
// command line, on SQLite and PostgreSQL. Commands run in this process through
// `main` against a seeded database, which is then checked directly: the rows
// each action changes, its moderation log entry ("an admin": no moderator) and
// the event the server's outbox federates it from. One run of the real binary.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../db/schema.ts";
import { createUser, type LocalUser } from "../src/accounts/service.ts";
import { join as joinCommunity } from "../src/communities/membership.ts";
import { createCommunity, getCommunity } from "../src/communities/service.ts";
import { fileReport } from "../src/moderation/reports.ts";
import { createReply, createThread } from "../src/posts/service.ts";
import { type CliResult, ORIGIN, runMain, SPAWN_TIMEOUT, spawnCli } from "./helpers/cli.ts";
import { dialects, freshDatabase, type TestDatabase } from "./helpers/databases.ts";
import { PASSWORD } from "./helpers/seed.ts";
import { seedRemoteActor } from "./policy/support.ts";

const DAY = 86_400_000;

describe.each(dialects)("kindred report / mod on %s", (dialect) => {
  let dir: string;
  let database: TestDatabase;
  let db: Db;
  let env: Record<string, string>;
  let ada: LocalUser; // admin, owner of the community
  let bob: LocalUser; // author of the threads
  let cat: LocalUser; // reporter, author of a reply
  let dan: LocalUser; // member, to be appointed
  let community: Awaited<ReturnType<typeof getCommunity>>;
  let pat: string; // a remote person
  let group: string; // a remote community
  const threads: { id: string; iri: string }[] = [];
  let reply: { id: string; iri: string };
  let catReport: string;
  let visitorReport: string;

  const cli = (...args: string[]): Promise<CliResult> => runMain(env, args);
  const user = (username: string, role: "admin" | "member" = "member") =>
    createUser(db, ORIGIN, { username, password: PASSWORD }, { role, allowReserved: true });

  const post = (id: string) =>
    db
      .selectFrom("posts")
      .select(["removed_at", "removed_by", "locked", "pinned_at"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();

  /** The latest log entry, checked to be the CLI admin's, with its `moderation.acted` event. */
  async function logged(action: string, target: { postId?: string; actorId?: string }) {
    const entry = await db.selectFrom("moderation_actions").selectAll().orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(entry).toMatchObject({
      action,
      by_role: "admin",
      moderator_id: null,
      community_id: community.id,
      remote: 0,
      ...(target.postId ? { target_post_id: target.postId } : {}),
      ...(target.actorId ? { target_actor_id: target.actorId } : {}),
    });
    expect(await events()).toContainEqual({ type: "moderation.acted", actionId: entry.id });
    return entry;
  }

  /** The domain events queued, without the id each gets when recorded (src/events.ts). */
  const events = async () =>
    (await db.selectFrom("fedify_queue").select("payload").where("queue", "=", "events").execute()).map((r) => {
      const { eventId: _, ...event } = JSON.parse(r.payload) as Record<string, unknown>;
      return event;
    });

  /** Everything a mistaken command could have written. */
  const snapshot = async () => ({
    actions: await db.selectFrom("moderation_actions").select("id").execute(),
    queue: await db.selectFrom("fedify_queue").select("id").execute(),
    notifications: await db.selectFrom("notifications").select("id").execute(),
    bans: await db.selectFrom("community_bans").selectAll().execute(),
    moderators: await db.selectFrom("community_moderators").select("actor_id").orderBy("actor_id").execute(),
    posts: await db.selectFrom("posts").select(["id", "removed_at", "locked", "pinned_at"]).orderBy("id").execute(),
    reports: await db.selectFrom("reports").select(["id", "status"]).orderBy("id").execute(),
  });

  const oneLine = (r: CliResult, code: number, message: string | RegExp) => {
    expect(r.stdout).toBe("");
    expect(r.code).toBe(code);
    expect(r.stderr.trimEnd().split("\n"), r.stderr).toHaveLength(1);
    if (typeof message === "string") expect(r.stderr).toBe(`kindred: ${message}\n`);
    else expect(r.stderr).toMatch(message);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kindred-mod-cli-"));
    database = await freshDatabase(dialect);
    db = database.db;
    env = { DATABASE_URL: database.url, DATA_DIR: dir, LOG_LEVEL: "error" };
    ada = await user("ada", "admin");
    [bob, cat, dan] = [await user("bob"), await user("cat"), await user("dan")];
    await createCommunity(db, ORIGIN, ada, { slug: "longcovid", name: "Long COVID" });
    community = await getCommunity(db, "longcovid");
    for (const member of [bob, cat, dan]) await joinCommunity(db, ORIGIN, community, member.actorId);
    for (const title of ["Pacing tips", "Sleep", "Brain fog"])
      threads.push(await createThread(db, ORIGIN, community, bob.actorId, { title, body: "text" }));
    const first = threads[0]!;
    reply = await createReply(db, ORIGIN, community, cat.actorId, first.id, { body: "a reply" });
    pat = await seedRemoteActor(db, "remote.example", "pat");
    group = await seedRemoteActor(db, "remote.example", "support");
    await db.updateTable("actors").set({ type: "Group" }).where("id", "=", group).execute();
    catReport = await fileReport(db, ORIGIN, {
      reporterId: cat.actorId,
      postIds: [first.id],
      category: "medical_misinformation",
      comment: "Claims a cure\nthat does not exist",
    });
    visitorReport = await fileReport(db, ORIGIN, {
      reporterId: null,
      postIds: [threads[1]!.id],
      category: "spam",
      contact: "visitor@mail.example",
    });
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("report list: open reports newest first, as JSON and one line each (no visitor's address)", async () => {
    const json = await cli("report", "list", "--json");
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(list.map((r) => r.id)).toEqual([visitorReport, catReport]);
    expect(list[0]).toMatchObject({
      posts: [threads[1]!.iri],
      actor: bob.iri,
      reporter: null,
      contact: "visitor@mail.example",
      category: "spam",
      community: "longcovid",
      status: "open",
    });
    expect(list[1]).toMatchObject({
      posts: [threads[0]!.iri],
      actor: bob.iri,
      reporter: cat.iri,
      contact: null,
      comment: "Claims a cure\nthat does not exist",
      category: "medical_misinformation",
      community: "longcovid",
    });
    expect(typeof list[1]!.createdAt).toBe("string");

    const text = await cli("report", "list");
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+CREATED \(UTC\)\s+CATEGORY\s+REPORTER\s+REPORTED\s+COMMENT$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]!.split(/\s{2,}/)).toEqual([
      visitorReport,
      expect.any(String),
      "spam",
      "visitor",
      threads[1]!.iri,
      "-",
    ]);
    expect(lines[2]).toContain(`${catReport}  `);
    expect(lines[2]).toMatch(/medical_misinformation\s+cat\s+\S+\s+Claims a cure that does not exist$/);
    expect(text.stdout).not.toContain("visitor@mail.example");
  });

  it("report resolve and dismiss close reports with a note; the member who reported is notified", async () => {
    const resolved = await cli("report", "resolve", catReport, "--note", "Removed, thank you");
    expect(resolved).toEqual({
      code: 0,
      stdout: `resolved report ${catReport}; the reporter is notified\n`,
      stderr: "",
    });
    const dismissed = await cli("report", "dismiss", visitorReport);
    expect(dismissed.code).toBe(0);
    expect(dismissed.stdout).toContain(`dismissed report ${visitorReport}; the reporter, a visitor, left an address`);
    expect(dismissed.stdout).not.toContain("visitor@mail.example");
    const rows = await db
      .selectFrom("reports")
      .select(["id", "status", "resolution_note", "resolved_by", "resolved_at"])
      .orderBy("id")
      .execute();
    expect(rows).toEqual([
      {
        id: catReport,
        status: "resolved",
        resolution_note: "Removed, thank you",
        resolved_by: null,
        resolved_at: expect.any(String),
      },
      {
        id: visitorReport,
        status: "dismissed",
        resolution_note: null,
        resolved_by: null,
        resolved_at: expect.any(String),
      },
    ]);
    const told = await db
      .selectFrom("notifications")
      .select(["user_id", "report_id"])
      .where("kind", "=", "report_closed")
      .execute();
    expect(told).toEqual([{ user_id: cat.actorId, report_id: catReport }]);
    expect(await events()).toContainEqual({ type: "report.closed", reportId: catReport });

    expect((await cli("report", "list")).stdout).toBe("no open reports\n");
    const closed = JSON.parse((await cli("report", "list", "--status", "resolved", "--json")).stdout);
    expect(closed).toEqual([expect.objectContaining({ id: catReport, note: "Removed, thank you" })]);

    const before = await snapshot();
    oneLine(await cli("report", "resolve", catReport), 1, "this report is already resolved");
    oneLine(await cli("report", "dismiss", "0190aaaa-0000-7000-8000-000000000000"), 1, /^kindred: no report 0190aaaa-/);
    oneLine(await cli("report", "list", "--status", "closed"), 2, "--status must be open, resolved or dismissed");
    expect(await snapshot()).toEqual(before);
  });

  it("mod remove and restore a post by IRI or page address, logged as an admin's and federated", async () => {
    const [thread] = threads;
    const removed = await cli("mod", "remove", reply.iri, "--reason", "Rule 2: no cures");
    expect(removed).toEqual({ code: 0, stdout: `removed ${reply.iri} in longcovid\n`, stderr: "" });
    expect(await post(reply.id)).toMatchObject({ removed_at: expect.any(String), removed_by: null });
    expect((await logged("remove_post", { postId: reply.id, actorId: cat.actorId })).reason).toBe("Rule 2: no cures");
    const told = await db.selectFrom("notifications").select("kind").where("user_id", "=", cat.actorId).execute();
    expect(told.map((n) => n.kind)).toContain("moderation");

    // A reply's page address is its thread's page with an anchor.
    const restored = await cli("mod", "restore", `${ORIGIN}/posts/${thread!.id}#post-${reply.id}`);
    expect(restored.stdout).toBe(`restored ${reply.iri} in longcovid\n`);
    expect(await post(reply.id)).toMatchObject({ removed_at: null });
    const entry = await logged("restore_post", { postId: reply.id });
    expect(entry.reverses_id).not.toBeNull();
  });

  it("mod lock, unlock, pin and unpin a thread", async () => {
    const { id, iri } = threads[0]!;
    for (const [verb, action, done, check] of [
      ["lock", "lock", "locked", { locked: 1 }],
      ["unlock", "unlock", "unlocked", { locked: 0 }],
      ["pin", "pin", "pinned", { pinned_at: expect.any(String) }],
      ["unpin", "unpin", "unpinned", { pinned_at: null }],
    ] as const) {
      const r = await cli("mod", verb, iri);
      expect(r, verb).toEqual({ code: 0, stdout: `${done} ${iri} in longcovid\n`, stderr: "" });
      expect(await post(id)).toMatchObject(check);
      await logged(action, { postId: id });
    }
  });

  it("refuses mistakes with one line and a non-zero exit, writing nothing", async () => {
    await cli("mod", "lock", threads[2]!.iri);
    const before = await snapshot();
    const bad = async (code: number, message: string | RegExp, ...args: string[]) =>
      oneLine(await cli(...args), code, message);
    await bad(
      1,
      "no post https://nowhere.example/posts/1 is known here",
      "mod",
      "remove",
      "https://nowhere.example/posts/1",
    );
    await bad(1, "only threads can be locked, not replies", "mod", "lock", reply.iri);
    await bad(1, "this thread is already locked", "mod", "lock", threads[2]!.iri);
    await bad(1, "this thread is not pinned", "mod", "unpin", threads[2]!.iri);
    await bad(
      1,
      /^kindred: no actor https:\/\/nowhere\.example\/u\/x is known here; /,
      "mod",
      "ban",
      "longcovid",
      "https://nowhere.example/u/x",
    );
    await bad(1, /^kindred: no actor zed is known here; /, "mod", "add", "longcovid", "zed");
    await bad(1, 'community "nope" not found', "mod", "ban", "nope", "bob");
    await bad(
      2,
      "--days must be a whole number of days from 1 to 3650",
      "mod",
      "ban",
      "longcovid",
      "bob",
      "--days",
      "0",
    );
    await bad(
      2,
      "--days must be a whole number of days from 1 to 3650",
      "mod",
      "ban",
      "longcovid",
      "bob",
      "--days",
      "2.5",
    );
    await bad(1, "the owner of a community stays its moderator", "mod", "remove-moderator", "longcovid", "ada");
    await bad(1, "the owner of a community cannot be banned from it", "mod", "ban", "longcovid", "ada");
    await bad(1, "longcovid is a community, not a person", "mod", "ban", "longcovid", "longcovid");
    await bad(1, "this person is not banned from this community", "mod", "unban", "longcovid", "dan");
    await bad(2, /^kindred: missing <actor> \(usage: kindred mod ban /, "mod", "ban", "longcovid");
    await bad(2, /^kindred: missing <thread-iri> /, "mod", "pin");
    // A Lemmy link post's `url` is the link: two posts may share it.
    const link = "https://link.example/article";
    await db.updateTable("posts").set({ url: link }).where("id", "in", [threads[0]!.id, threads[1]!.id]).execute();
    await bad(1, `${link} is the address of several things here; give an IRI`, "mod", "remove", link);
    await db.updateTable("posts").set({ url: null }).where("url", "=", link).execute();
    const unknown = await cli("mod", "frobnicate", "x");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toMatch(
      /^kindred: unknown mod command "frobnicate" \(try .*remove-moderator\)$/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it("mod ban --remove-content --days 7 and unban, by username, IRI or handle", async () => {
    const ban = await cli(
      "mod",
      "ban",
      "longcovid",
      "@bob",
      "--reason",
      "Selling cures",
      "--remove-content",
      "--days",
      "7",
    );
    expect(ban.stderr).toBe("");
    expect(ban.stdout).toMatch(
      /^banned bob from longcovid until \d{4}-\d\d-\d\d \d\d:\d\d UTC; removed 3 of their posts there\n$/,
    );
    const row = await db
      .selectFrom("community_bans")
      .selectAll()
      .where("actor_id", "=", bob.actorId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ community_id: community.id, banned_by: null, reason: "Selling cures" });
    const days = (Date.parse(row.expires_at ?? "") - Date.now()) / DAY;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    const removals = await db
      .selectFrom("moderation_actions")
      .select(["target_post_id", "by_role", "moderator_id"])
      .where("action", "=", "remove_post")
      .where("target_actor_id", "=", bob.actorId)
      .execute();
    expect(removals.map((r) => r.target_post_id).sort()).toEqual(threads.map((t) => t.id).sort());
    expect(removals.every((r) => r.by_role === "admin" && r.moderator_id === null)).toBe(true);
    for (const t of threads) expect((await post(t.id)).removed_at).not.toBeNull();
    const follow = await db.selectFrom("follows").select("id").where("follower_id", "=", bob.actorId).execute();
    expect(follow).toEqual([]);
    const banEntry = await db
      .selectFrom("moderation_actions")
      .selectAll()
      .where("action", "=", "ban")
      .executeTakeFirstOrThrow();
    expect(banEntry).toMatchObject({ by_role: "admin", moderator_id: null, target_actor_id: bob.actorId });
    expect(await events()).toContainEqual({ type: "moderation.acted", actionId: banEntry.id });

    const unban = await cli("mod", "unban", "longcovid", bob.iri);
    expect(unban).toEqual({ code: 0, stdout: "lifted the ban on bob in longcovid\n", stderr: "" });
    expect(await db.selectFrom("community_bans").select("actor_id").execute()).toEqual([]);
    await logged("unban", { actorId: bob.actorId });

    // A remote person, by IRI then by handle; no --days: for good.
    const remote = await cli("mod", "ban", "longcovid", "https://remote.example/users/pat");
    expect(remote.stdout).toBe("banned pat@remote.example from longcovid permanently\n");
    expect(await logged("ban", { actorId: pat })).toMatchObject({ expires_at: null });
    expect((await cli("mod", "unban", "longcovid", "@pat@remote.example")).code).toBe(0);
    await logged("unban", { actorId: pat });

    // In a remote community (by its IRI, then its handle), the person by their profile's address.
    const there = await cli("mod", "ban", "https://remote.example/users/support", "https://remote.example/@pat");
    expect(there).toEqual({
      code: 0,
      stdout: "banned pat@remote.example from support@remote.example permanently\n",
      stderr: "",
    });
    const lifted = await cli("mod", "unban", "support@remote.example", "pat@remote.example", "--reason", "Appeal");
    expect(lifted.stdout).toBe("lifted the ban on pat@remote.example in support@remote.example\n");
    const remoteEntries = await db
      .selectFrom("moderation_actions")
      .select(["id", "action", "by_role", "moderator_id", "target_actor_id"])
      .where("community_id", "=", group)
      .orderBy("id")
      .execute();
    expect(remoteEntries.map(({ id: _, ...e }) => e)).toEqual(
      ["ban", "unban"].map((action) => ({ action, by_role: "admin", moderator_id: null, target_actor_id: pat })),
    );
    const acted = await events();
    for (const e of remoteEntries) expect(acted).toContainEqual({ type: "moderation.acted", actionId: e.id });
  });

  it("mod add and remove-moderator", async () => {
    const add = await cli("mod", "add", "longcovid", "dan");
    expect(add).toEqual({ code: 0, stdout: "dan now moderates longcovid\n", stderr: "" });
    const moderators = () =>
      db.selectFrom("community_moderators").select("actor_id").where("community_id", "=", community.id).execute();
    expect((await moderators()).map((m) => m.actor_id).sort()).toEqual([ada.actorId, dan.actorId].sort());
    await logged("add_moderator", { actorId: dan.actorId });
    oneLine(await cli("mod", "add", "longcovid", "dan"), 1, "already a moderator of this community");

    const removed = await cli("mod", "remove-moderator", "longcovid", `@dan@${new URL(ORIGIN).host}`);
    expect(removed).toEqual({ code: 0, stdout: "dan no longer moderates longcovid\n", stderr: "" });
    expect(await moderators()).toEqual([{ actor_id: ada.actorId }]);
    await logged("remove_moderator", { actorId: dan.actorId });
  });

  it.runIf(dialect === "sqlite")("runs as a real process", { timeout: SPAWN_TIMEOUT }, async () => {
    const { id, iri } = threads[2]!;
    const r = await spawnCli(env, ["mod", "unlock", iri]);
    expect(r).toEqual({ code: 0, stdout: `unlocked ${iri} in longcovid\n`, stderr: "" });
    expect((await post(id)).locked).toBe(0);
    await logged("unlock", { postId: id });
    const mistake = await spawnCli(env, ["mod", "unlock", iri]);
    expect(mistake).toEqual({ code: 1, stdout: "", stderr: "kindred: this thread is not locked\n" });
  });
});
