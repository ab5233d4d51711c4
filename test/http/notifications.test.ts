// Notifications through the real app over real HTTP: the unread count in
// every page's header, the list with each kind's sentence and link, a closed
// report's outcome shown to its reporter, and marking read (all, or some).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { element, loggedIn, seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";

const count = (html: string) => /<a href="\/notifications"[^>]*>Notifications(?: \((\d+)\))?<\/a>/.exec(html);

describe.each(dialects)("notifications over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let threadIds: string[];
  let modWeb: WebClient;
  let reporterWeb: WebClient;
  let authorWeb: WebClient;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    const admin = await seedUser(instance, "root", { role: "admin" });
    const mod: LocalUser = await seedUser(instance, "nurse");
    const author = await seedUser(instance, "author");
    await seedUser(instance, "reporter");
    const pots = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    [modWeb, reporterWeb, authorWeb] = await Promise.all([
      loggedIn(instance, "nurse"),
      loggedIn(instance, "reporter"),
      loggedIn(instance, "author"),
    ]);
    for (const web of [modWeb, reporterWeb, authorWeb]) expect((await web.post("/@pots/join", {})).status).toBe(303);
    await addModerator(
      instance.runtime.db,
      instance.url,
      { role: "admin", actorId: admin.actorId },
      pots.id,
      mod.actorId,
    );
    threadIds = [];
    for (const title of ["First", "Second", "Third"])
      threadIds.push((await seedThread(instance, pots, author, title, `Body of ${title}`)).id);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const report = async (postId: string, comment: string) => {
    await reporterWeb.get(`/posts/${postId}/report`);
    const res = await reporterWeb.post(`/posts/${postId}/report`, { category: "spam", comment });
    expect(res.status, res.text.slice(0, 300)).toBe(303);
  };
  const reportId = async (comment: string) => {
    const queue = (await modWeb.get("/@pots/reports")).text;
    const at = queue.indexOf(comment);
    const start = queue.lastIndexOf('<article class="card report"', at);
    return /id="report-([0-9a-f-]{36})"/.exec(queue.slice(start))?.[1] ?? "";
  };

  it("a logged-out visitor has no notifications and is sent to log in", async () => {
    const visitor = new WebClient(instance.url);
    expect(count((await visitor.get("/")).text)).toBeNull();
    const res = await visitor.get("/notifications");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login?next=%2Fnotifications");
  });

  it("a closed report tells the reporter its outcome; the header count drops once read", async () => {
    expect(count((await reporterWeb.get("/")).text)?.[1]).toBeUndefined();
    await report(threadIds[0]!, "zqfirst");
    // The moderator's header counts the new report on every page.
    expect(count((await modWeb.get("/")).text)?.[1]).toBe("1");
    expect(count((await modWeb.get("/@pots")).text)?.[1]).toBe("1");
    const id = await reportId("zqfirst");
    const closed = await modWeb.post(`/@pots/reports/${id}`, { outcome: "resolved", note: "Removed it, thank you" });
    expect(closed.status).toBe(303);

    const page = await reporterWeb.get("/notifications");
    expect(count(page.text)?.[1]).toBe("1");
    const item = element(page.text, '<li class="notification unread"');
    expect(item).toContain("Your report was handled");
    expect(item).toContain("Resolved: the moderators acted on it");
    expect(item).toContain("Removed it, thank you");
    expect(item).toContain("Spam or advertising");
    // Neither the reported author nor anyone else is told about the report.
    expect((await authorWeb.get("/notifications")).text).not.toContain("Your report was handled");
    expect(count((await authorWeb.get("/")).text)?.[1]).toBeUndefined();

    const read = await reporterWeb.post("/notifications/read", {});
    expect(read.status).toBe(303);
    expect(read.headers.get("location")).toBe("/notifications");
    const after = await reporterWeb.get("/notifications");
    expect(count(after.text)?.[1]).toBeUndefined();
    expect(after.text).toContain("Removed it, thank you");
    expect(after.text).not.toContain('class="notification unread"');
  });

  it("some notifications can be marked read by id; newest first", async () => {
    await modWeb.post("/notifications/read", {});
    await report(threadIds[1]!, "zqsecond");
    await report(threadIds[2]!, "zqthird");
    const page = await modWeb.get("/notifications");
    expect(count(page.text)?.[1]).toBe("2");
    const unread = [...page.text.matchAll(/<li class="notification unread" id="n-([0-9a-f-]{36})"/g)].map((m) => m[1]!);
    expect(unread).toHaveLength(2);
    const all = [...page.text.matchAll(/<li class="notification[^"]*" id="n-([0-9a-f-]{36})"/g)].map((m) => m[1]!);
    expect(all).toEqual([...all].sort().reverse());
    expect((await modWeb.post("/notifications/read", { ids: unread[0]! })).status).toBe(303);
    expect(count((await modWeb.get("/")).text)?.[1]).toBe("1");
    // Someone else's ids change nothing of theirs; malformed ids are refused.
    expect((await reporterWeb.post("/notifications/read", { ids: unread[1]! })).status).toBe(303);
    expect(count((await modWeb.get("/")).text)?.[1]).toBe("1");
    const bad = await modWeb.post("/notifications/read", { ids: "1; drop table" });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("not a notification id");
    expect((await modWeb.post("/notifications/read", { ids: unread[1]! })).status).toBe(303);
    expect(count((await modWeb.get("/")).text)?.[1]).toBeUndefined();
  });
});
