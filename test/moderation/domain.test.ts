// The moderation services on both databases, without HTTP or federation:
// who may act, what each action changes and logs, the events that federate
// it, statements of reasons, appeals and reports.
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/schema.ts";
import { createUser, type LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { createCommunity, getCommunity } from "../../src/communities/service.ts";
import { decideAppeal, fileAppeal } from "../../src/moderation/appeals.ts";
import type { Acting } from "../../src/moderation/authority.ts";
import { listModlog, statementOfReasons } from "../../src/moderation/modlog.ts";
import { addModerator, banPerson, removeModerator, unbanPerson } from "../../src/moderation/people.ts";
import { lockThread, pinThread, removePost, restorePost, unlockThread } from "../../src/moderation/posts.ts";
import { listAppeals, listReports } from "../../src/moderation/queues.ts";
import { closeReport, fileReport, pruneReportContacts } from "../../src/moderation/reports.ts";
import { listNotifications, unreadCount } from "../../src/notifications/service.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";

const ORIGIN = "https://kindred.example";

describe.each(dialects)("moderation services on %s", (dialect) => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  let admin: LocalUser;
  let mod: LocalUser;
  let ann: LocalUser;
  let bo: LocalUser;
  let community: Awaited<ReturnType<typeof getCommunity>>;
  const asMod = (): Acting => ({ role: "moderator", actorId: mod.actorId });

  const events = async (type: string) =>
    (await db.selectFrom("fedify_queue").select("payload").where("queue", "=", "events").execute())
      .map((r) => JSON.parse(r.payload) as { type: string; actionId?: string })
      .filter((e) => e.type === type);
  const post = (id: string) =>
    db
      .selectFrom("posts")
      .select(["removed_at", "removed_by", "locked", "pinned_at"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();

  beforeAll(async () => {
    database = await freshDatabase(dialect);
    db = database.db;
    admin = await createUser(
      db,
      ORIGIN,
      { username: "admin", password: "correct horse battery" },
      { role: "admin", allowReserved: true },
    );
    mod = await createUser(db, ORIGIN, { username: "maya", password: "correct horse battery" });
    ann = await createUser(db, ORIGIN, { username: "ann", password: "correct horse battery" });
    bo = await createUser(db, ORIGIN, { username: "bo", password: "correct horse battery" });
    await createCommunity(db, ORIGIN, admin, { slug: "longcovid", name: "Long COVID" });
    community = await getCommunity(db, "longcovid");
    for (const u of [mod, ann, bo]) await join(db, ORIGIN, community, u.actorId);
    await addModerator(db, ORIGIN, { role: "moderator", actorId: admin.actorId }, community.id, mod.actorId);
  });
  afterAll(() => database.drop());

  it("removes and restores a reply: logged with its reason, federated, the author told, reversible", async () => {
    const thread = await createThread(db, ORIGIN, community, ann.actorId, { title: "Pacing" });
    const reply = await createReply(db, ORIGIN, community, bo.actorId, thread.id, { body: "Buy my cure" });
    const removal = await removePost(db, ORIGIN, asMod(), reply.id, { reason: "Selling a cure" });
    expect(await post(reply.id)).toMatchObject({ removed_by: mod.actorId });
    expect((await post(reply.id)).removed_at).not.toBeNull();
    expect((await events("moderation.acted")).map((e) => e.actionId)).toContain(removal);
    const statement = await statementOfReasons(db, removal, bo.actorId);
    expect(statement).toMatchObject({
      label: "Removed a post",
      reason: "Selling a cure",
      appealable: true,
      mine: true,
    });
    expect(statement.moderator).toBe("@maya");
    // Only the person concerned, the moderators and admins read it.
    await expect(statementOfReasons(db, removal, ann.actorId)).rejects.toThrow(/not found/);
    expect((await listNotifications(db, bo.actorId)).items.map((n) => n.kind)).toContain("moderation");
    await expect(removePost(db, ORIGIN, asMod(), reply.id)).rejects.toThrow(/already removed/);

    const restore = await restorePost(db, ORIGIN, asMod(), reply.id);
    expect((await post(reply.id)).removed_at).toBeNull();
    const original = await db
      .selectFrom("moderation_actions")
      .select(["reversed_at"])
      .where("id", "=", removal)
      .executeTakeFirstOrThrow();
    expect(original.reversed_at).not.toBeNull();
    const row = await db
      .selectFrom("moderation_actions")
      .selectAll()
      .where("id", "=", restore)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ reverses_id: removal, by_role: "moderator", remote: 0 });
    expect(row.activity_iri).toBe(`${ORIGIN}/activities/undo/${restore}`);
  });

  it("refuses members, other communities' moderators and forged admins; lets admins act", async () => {
    const thread = await createThread(db, ORIGIN, community, ann.actorId, { title: "Sleep" });
    for (const acting of [
      { role: "moderator", actorId: bo.actorId },
      { role: "admin", actorId: bo.actorId },
      { role: "group", actorId: bo.actorId },
    ] as Acting[])
      await expect(lockThread(db, ORIGIN, acting, thread.id)).rejects.toThrow(/only|acts only/);
    expect((await post(thread.id)).locked).toBe(0);
    await lockThread(db, ORIGIN, { role: "admin", actorId: null }, thread.id, { reason: "Heated" });
    expect((await post(thread.id)).locked).toBe(1);
    await expect(createReply(db, ORIGIN, community, bo.actorId, thread.id, { body: "late" })).rejects.toThrow(/locked/);
    await unlockThread(db, ORIGIN, asMod(), thread.id);
    const reply = await createReply(db, ORIGIN, community, bo.actorId, thread.id, { body: "ok" });
    await expect(lockThread(db, ORIGIN, asMod(), reply.id)).rejects.toThrow(/only threads/);
    await pinThread(db, ORIGIN, asMod(), thread.id);
    expect((await post(thread.id)).pinned_at).not.toBeNull();
  });

  it("bans with content removal and an expiry; the owner and moderators cannot be banned; unban lifts it", async () => {
    const spam = await createThread(db, ORIGIN, community, bo.actorId, { title: "Miracle pills" });
    await expect(banPerson(db, ORIGIN, asMod(), community.id, admin.actorId)).rejects.toThrow(/owner/);
    await expect(banPerson(db, ORIGIN, { role: "admin", actorId: null }, community.id, mod.actorId)).rejects.toThrow(
      /moderator/,
    );
    await expect(banPerson(db, ORIGIN, asMod(), community.id, bo.actorId, { days: 0 })).rejects.toThrow(/days/);
    const ban = await banPerson(db, ORIGIN, asMod(), community.id, bo.actorId, {
      reason: "Spam",
      removeContent: true,
      days: 7,
    });
    expect((await post(spam.id)).removed_at).not.toBeNull();
    const row = await db
      .selectFrom("community_bans")
      .selectAll()
      .where("actor_id", "=", bo.actorId)
      .executeTakeFirstOrThrow();
    expect(Date.parse(row.expires_at ?? "") - Date.now()).toBeGreaterThan(6 * 86_400_000);
    await expect(createThread(db, ORIGIN, community, bo.actorId, { title: "Again" })).rejects.toThrow(/banned/);
    const membership = await db
      .selectFrom("follows")
      .select("id")
      .where("follower_id", "=", bo.actorId)
      .where("followee_id", "=", community.id)
      .execute();
    expect(membership).toEqual([]);
    expect((await statementOfReasons(db, ban, bo.actorId)).appealable).toBe(true);
    await unbanPerson(db, ORIGIN, asMod(), community.id, bo.actorId);
    await expect(unbanPerson(db, ORIGIN, asMod(), community.id, bo.actorId)).rejects.toThrow(/not banned/);
    await join(db, ORIGIN, community, bo.actorId);
  });

  it("keeps the owner and the last moderator", async () => {
    await expect(removeModerator(db, ORIGIN, asMod(), community.id, admin.actorId)).rejects.toThrow(/owner/);
    await removeModerator(db, ORIGIN, { role: "moderator", actorId: admin.actorId }, community.id, mod.actorId);
    await addModerator(db, ORIGIN, { role: "moderator", actorId: admin.actorId }, community.id, mod.actorId);
    await expect(addModerator(db, ORIGIN, asMod(), community.id, mod.actorId)).rejects.toThrow(/already/);
  });

  it("appeals once; the moderators uphold, the admins grant, and the removal is reversed", async () => {
    const thread = await createThread(db, ORIGIN, community, ann.actorId, { title: "My diet" });
    const removal = await removePost(db, ORIGIN, asMod(), thread.id, { reason: "Misinformation" });
    await expect(fileAppeal(db, bo.actorId, removal, "not mine")).rejects.toThrow(/not found/);
    await expect(fileAppeal(db, ann.actorId, removal, " ")).rejects.toThrow(/required/);
    const appeal = await fileAppeal(db, ann.actorId, removal, "It is my own experience");
    await expect(fileAppeal(db, ann.actorId, removal, "again")).rejects.toThrow(/already appealed/);
    expect((await listAppeals(db, { communityId: community.id })).items.map((a) => a.id)).toContain(appeal);
    await decideAppeal(db, ORIGIN, asMod(), appeal, false, "Stays removed");
    expect((await post(thread.id)).removed_at).not.toBeNull();
    await expect(decideAppeal(db, ORIGIN, asMod(), appeal, true)).rejects.toThrow(/admins decide/);
    expect((await listAppeals(db, { instance: true })).items.map((a) => a.id)).toContain(appeal);
    await decideAppeal(db, ORIGIN, { role: "admin", actorId: admin.actorId }, appeal, true, "Personal experience");
    expect((await post(thread.id)).removed_at).toBeNull();
    const statement = await statementOfReasons(db, removal, ann.actorId);
    expect(statement).toMatchObject({ reversed: true, appealable: false, appeal: { status: "granted" } });
    expect((await listNotifications(db, ann.actorId)).items.filter((n) => n.kind === "appeal_decided")).toHaveLength(2);
  });

  it("files reports into the community's queue, closes them with a note and tells the reporter", async () => {
    const thread = await createThread(db, ORIGIN, community, ann.actorId, { title: "Vaccines cause it" });
    await expect(
      fileReport(db, ORIGIN, { reporterId: bo.actorId, postIds: [thread.id], category: "nonsense" }),
    ).rejects.toThrow(/reason/);
    await expect(
      fileReport(db, ORIGIN, { reporterId: ann.actorId, postIds: [thread.id], category: "spam" }),
    ).rejects.toThrow(/yourself/);
    const report = await fileReport(db, ORIGIN, {
      reporterId: bo.actorId,
      postIds: [thread.id],
      category: "medical_misinformation",
      comment: "Contradicts the evidence",
      forward: true,
    });
    const visitor = await fileReport(db, ORIGIN, {
      reporterId: null,
      postIds: [thread.id],
      category: "other",
      contact: "visitor@example.org",
    });
    const queue = await listReports(db, { communityId: community.id });
    expect(queue.items.map((r) => r.id)).toEqual([visitor, report]);
    expect(queue.items[1]).toMatchObject({ comment: "Contradicts the evidence", targetId: ann.actorId });
    expect(queue.items[0]?.contact).toBe("visitor@example.org");
    expect(await unreadCount(db, mod.actorId)).toBeGreaterThan(0);
    await expect(closeReport(db, { role: "moderator", actorId: bo.actorId }, report, "resolved")).rejects.toThrow(
      /only/,
    );
    await closeReport(db, asMod(), report, "resolved", "Removed the thread");
    await expect(closeReport(db, asMod(), report, "dismissed")).rejects.toThrow(/already resolved/);
    expect((await listNotifications(db, bo.actorId)).items.some((n) => n.kind === "report_closed")).toBe(true);
    expect((await listReports(db, { communityId: community.id })).items.map((r) => r.id)).toEqual([visitor]);
    expect((await events("report.filed")).length).toBeGreaterThanOrEqual(2);
    expect((await events("report.closed")).length).toBeGreaterThanOrEqual(1);
    // The visitor's address stays while the report is open and for a while after, then it is erased.
    await pruneReportContacts(db);
    expect((await listReports(db, { communityId: community.id })).items[0]?.contact).toBe("visitor@example.org");
    await closeReport(db, asMod(), visitor, "dismissed", "Not a misinformation case");
    expect(await pruneReportContacts(db)).toBe(0);
    // Closed 31 days ago.
    const longAgo = new Date(Date.now() - 31 * 86_400_000).toISOString();
    await db.updateTable("reports").set({ resolved_at: longAgo }).where("id", "=", visitor).execute();
    expect(await pruneReportContacts(db)).toBe(1);
    const erased = await db
      .selectFrom("reports")
      .select("reporter_contact")
      .where("id", "=", visitor)
      .executeTakeFirstOrThrow();
    expect(erased.reporter_contact).toBeNull();
  });

  it("resolves the report an action was taken from, with the action as its note", async () => {
    const thread = await createThread(db, ORIGIN, community, ann.actorId, { title: "Cure for sale" });
    const report = await fileReport(db, ORIGIN, { reporterId: bo.actorId, postIds: [thread.id], category: "spam" });
    await removePost(db, ORIGIN, asMod(), thread.id, { reason: "Advertising", reportId: report });
    const row = await db.selectFrom("reports").selectAll().where("id", "=", report).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "resolved", resolution_note: "The post was removed: Advertising" });
    expect(row.resolved_by).toBe(mod.actorId);
  });

  it("shows the modlog to everyone; moderators' names to members, unless the community hides them", async () => {
    const visible = await listModlog(db, { communityId: community.id }, {});
    expect(visible.items.length).toBeGreaterThan(5);
    // Who moderates, and whom a ban names, says who belongs: not for visitors.
    expect(visible.items.some((e) => e.moderator === "@maya")).toBe(false);
    expect(visible.items.some((e) => e.moderator === "an admin")).toBe(true);
    expect(visible.items.filter((e) => e.action === "ban").map((e) => e.target)).toContain("a person");
    const forMembers = await listModlog(db, { communityId: community.id }, { actorId: ann.actorId });
    expect(forMembers.items.some((e) => e.moderator === "@maya")).toBe(true);
    await db.updateTable("communities").set({ hide_modlog_names: 1 }).where("actor_id", "=", community.id).execute();
    const hidden = await listModlog(db, { instance: true }, { actorId: ann.actorId });
    expect(hidden.items.some((e) => e.moderator === "@maya")).toBe(false);
    const forMods = await listModlog(db, { instance: true }, { actorId: mod.actorId });
    expect(forMods.items.some((e) => e.moderator === "@maya")).toBe(true);
  });
});
