// What the moderation pages must not give away (found by review): removed
// words through the report form, members through the public modlog, and
// reports closed by an unrelated action. Real instance, real HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { removePost } from "../../src/moderation/posts.ts";
import { fileReport } from "../../src/moderation/reports.ts";
import { createReply } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedCommunity, seedThread, seedUser, unescapeHtml } from "../helpers/seed.ts";

describe.each(dialects)("moderation pages keep what they must (%s)", (dialect) => {
  let instance: TestInstance;
  let admin: LocalUser;
  let mia: LocalUser;
  let ben: LocalUser;
  let cat: LocalUser;
  let open: Awaited<ReturnType<typeof seedCommunity>>;
  let miaWeb: WebClient;
  let catWeb: WebClient;
  const db = () => instance.runtime.db;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    admin = await seedUser(instance, "root", { role: "admin" });
    [mia, ben, cat] = await Promise.all([
      seedUser(instance, "mia"),
      seedUser(instance, "ben"),
      seedUser(instance, "cat"),
    ]);
    open = await seedCommunity(instance, admin, { slug: "hiv", name: "Living with HIV" });
    for (const u of [mia, ben, cat]) await join(db(), instance.url, open, u.actorId);
    await addModerator(db(), instance.url, { role: "admin", actorId: admin.actorId }, open.id, mia.actorId);
    [miaWeb, catWeb] = await Promise.all([loggedIn(instance, "mia"), loggedIn(instance, "cat")]);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("a reply in a removed thread is not served to ActivityPub clients, nor its replies collection", async () => {
    const t = await seedThread(instance, open, ben, "Thread to remove", "body");
    const reply = await createReply(db(), instance.url, open, cat.actorId, t.id, { body: "zqreply my results" });
    const get = (url: string) =>
      fetch(url, { headers: { accept: "application/activity+json" } }).then(async (r) => ({
        status: r.status,
        text: await r.text(),
      }));
    expect((await get(reply.iri)).status).toBe(200);
    await removePost(db(), instance.url, { role: "moderator", actorId: mia.actorId }, t.id, { reason: "Privacy" });
    for (const url of [reply.iri, `${reply.iri}/collections/replies`]) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
      expect(res.text, url).not.toContain("zqreply");
    }
  });

  it("a removed post's title and words do not reach non-moderators through its report form", async () => {
    const t = await seedThread(instance, open, ben, "zqtitle Ben's viral load", "zqbody my CD4 count is 180");
    await removePost(db(), instance.url, { role: "moderator", actorId: mia.actorId }, t.id, { reason: "Privacy" });
    const visitor = new WebClient(instance.url);
    // The thread page hides it (placeholder)...
    const page = await visitor.get(`/posts/${t.id}`);
    expect(page.text).not.toContain("zqtitle");
    expect(page.text).not.toContain("zqbody");
    // ...but still offers "Report", whose form quotes the removed title and text.
    for (const web of [visitor, catWeb]) {
      const form = await web.get(`/posts/${t.id}/report`);
      const text = unescapeHtml(form.text);
      expect(text, "title of a removed post on /report").not.toContain("zqtitle");
      expect(text, "body of a removed post on /report").not.toContain("zqbody");
    }
  });

  it("the public modlog does not name members the community page hides (moderators are members)", async () => {
    await db().updateTable("communities").set({ hide_modlog_names: 1 }).where("actor_id", "=", open.id).execute();
    const visitor = new WebClient(instance.url);
    const community = await visitor.get("/@hiv");
    // The community page keeps its moderators' names from visitors (FEDERATION.md, "Privacy of membership")...
    expect(community.text).not.toContain("/@mia");
    expect(community.text).toContain("members see who");
    // ...and the community even asked to hide moderators' names in its log; yet the log names mia.
    for (const path of ["/@hiv/modlog", "/modlog"]) {
      const log = unescapeHtml((await visitor.get(path)).text);
      expect(log, path).not.toContain("@mia");
    }
  });

  it("the public modlog does not publish a removed thread's title (the removed content itself)", async () => {
    const t = await seedThread(instance, open, ben, "zqremovedtitle My partner's HIV status", "text");
    await removePost(db(), instance.url, { role: "moderator", actorId: mia.actorId }, t.id, { reason: "Outing" });
    const visitor = new WebClient(instance.url);
    expect((await visitor.get(`/posts/${t.id}`)).text).not.toContain("zqremovedtitle");
    for (const path of ["/@hiv/modlog", "/modlog"])
      expect((await visitor.get(path)).text, path).not.toContain("zqremovedtitle");
  });

  it("an action resolves only the report it answers: not an unrelated one, nor one about the acting moderator", async () => {
    const reported = await seedThread(instance, open, mia, "zqmia advice", "Stop your pills");
    const other = await seedThread(instance, open, ben, "zqben spam", "buy now");
    // cat reports mia (a moderator): the queue hides it from her, the other reviewers decide.
    const reportId = await fileReport(db(), instance.url, {
      reporterId: cat.actorId,
      postIds: [reported.id],
      category: "medical_misinformation",
      comment: "zqaboutmia",
    });
    expect((await miaWeb.get("/@hiv/reports")).text).not.toContain("zqaboutmia");
    // mia removes an unrelated post and names that report (the id is all she needs).
    await miaWeb.get(`/posts/${other.id}/remove?report=${reportId}`);
    expect((await miaWeb.post(`/posts/${other.id}/remove`, { reason: "spam", report: reportId })).status).toBe(303);
    const row = await db()
      .selectFrom("reports")
      .select(["status"])
      .where("id", "=", reportId)
      .executeTakeFirstOrThrow();
    expect(row.status, "report about mia closed by mia through an unrelated removal").toBe("open");
  });
});
