// The public moderation log over real HTTP: per community and for the whole
// instance, every action with its reason, moderators named unless the
// community hides them (then only its moderators and admins see names),
// approvals of members never public, members-only communities for members.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { pinThread, unpinThread } from "../../src/moderation/posts.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { element, loggedIn, nextLink, seedCommunity, seedUser } from "../helpers/seed.ts";

const entries = (html: string) => [...html.matchAll(/<li id="action-([0-9a-f-]{36})">/g)].map((m) => m[1]!);

describe.each(dialects)("moderation log over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let boss: LocalUser;
  let mia: LocalUser;
  let ben: LocalUser;
  let open: Awaited<ReturnType<typeof seedCommunity>>;
  let circle: Awaited<ReturnType<typeof seedCommunity>>;
  let bossWeb: WebClient;
  let miaWeb: WebClient;
  let benWeb: WebClient;
  let amyWeb: WebClient;
  let visitor: WebClient;
  let threadId: string;

  const db = () => instance.runtime.db;
  const page = (web: WebClient, path: string) => web.get(path, { accept: "text/html" });

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    boss = await seedUser(instance, "boss", { role: "admin" });
    [mia, ben] = await Promise.all([seedUser(instance, "mia"), seedUser(instance, "ben"), seedUser(instance, "amy")]);
    open = await seedCommunity(instance, boss, { slug: "open", name: "Open door" });
    circle = await seedCommunity(instance, boss, { slug: "circle", name: "Inner circle", visibility: "members" });
    await seedCommunity(instance, boss, { slug: "gate", name: "Gated", join: "approval" });
    [bossWeb, miaWeb, benWeb, amyWeb] = await Promise.all([
      loggedIn(instance, "boss"),
      loggedIn(instance, "mia"),
      loggedIn(instance, "ben"),
      loggedIn(instance, "amy"),
    ]);
    visitor = new WebClient(instance.url);
    for (const web of [miaWeb, benWeb]) expect((await web.post("/@open/join", {})).status).toBe(303);
    await bossWeb.get("/@open/moderation");
    expect((await bossWeb.post("/@open/moderation/moderators", { username: "mia" })).status).toBe(303);

    // In the public community, mia: remove and restore a reply, lock, pin, ban and unban.
    threadId = (await createThread(db(), instance.url, open, ben.actorId, { title: "Salt and POTS" })).id;
    const replyId = (await createReply(db(), instance.url, open, ben.actorId, threadId, { body: "Buy my pills" })).id;
    await page(miaWeb, `/posts/${replyId}/remove`);
    expect((await miaWeb.post(`/posts/${replyId}/remove`, { reason: "Spam link" })).status).toBe(303);
    expect((await miaWeb.post(`/posts/${replyId}/restore`, { reason: "Link was fine" })).status).toBe(303);
    expect((await miaWeb.post(`/posts/${threadId}/lock`, { reason: "Heated" })).status).toBe(303);
    expect((await miaWeb.post(`/posts/${threadId}/pin`, {})).status).toBe(303);
    await page(miaWeb, `/@open/ban/${ben.actorId}`);
    expect((await miaWeb.post(`/@open/ban/${ben.actorId}`, { reason: "Rude", days: "3" })).status).toBe(303);
    expect((await miaWeb.post(`/@open/unban/${ben.actorId}`, {})).status).toBe(303);

    // In the members-only community (ben is a member), boss removes a thread.
    expect((await benWeb.post("/@circle/join", {})).status).toBe(303);
    await bossWeb.get("/@circle/moderation");
    expect((await bossWeb.post(`/@circle/members/${ben.actorId}/approve`, {})).status).toBe(303);
    const secret = await createThread(db(), instance.url, circle, ben.actorId, { title: "Between us" });
    await page(bossWeb, `/posts/${secret.id}/remove`);
    expect((await bossWeb.post(`/posts/${secret.id}/remove`, { reason: "Private matter" })).status).toBe(303);

    // In the approval community, amy's request is approved.
    expect((await amyWeb.post("/@gate/join", {})).status).toBe(303);
    await bossWeb.get("/@gate/moderation");
    const amy = await db().selectFrom("actors").select("id").where("username", "=", "amy").executeTakeFirstOrThrow();
    expect((await bossWeb.post(`/@gate/members/${amy.id}/approve`, {})).status).toBe(303);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("lists every action of a community with what, to what, why, when and by whom", async () => {
    const res = await page(visitor, "/@open/modlog");
    expect(res.status).toBe(200);
    const log = res.text;
    for (const label of [
      "Removed a post",
      "Restored a post",
      "Locked a thread",
      "Pinned a thread",
      "Banned a person",
      "Lifted a ban",
      "Appointed a moderator",
    ])
      expect(log, label).toContain(`<strong>${label}</strong>`);
    for (const reason of ["Spam link", "Link was fine", "Heated", "Rude"]) expect(log).toContain(`Reason: ${reason}`);
    expect(log).toContain(`<a href="/posts/${threadId}">a reply by @ben in “Salt and POTS”</a>`);
    // Who moderates, and whom a ban names, says who belongs: a visitor reads what was done, not by or to whom.
    expect(log).toContain("by a moderator · <time");
    expect(log).not.toContain("by @mia");
    expect(log).not.toContain("Buy my pills");
    const ban = /<li id="action-[^"]+">\s*<p><strong>Banned a person<\/strong>[^\n]*<\/p>/.exec(log)?.[0] ?? "";
    expect(ban).toContain(": a person");
    const forAdmin = (await page(bossWeb, "/@open/modlog")).text;
    expect(forAdmin).toContain("by @mia · <time");
    expect(/<li id="action-[^"]+">\s*<p><strong>Banned a person<\/strong>[^\n]*<\/p>/.exec(forAdmin)?.[0]).toContain(
      ": @ben",
    );
    expect(ban).toContain(" · until <time");
    expect(ban).toContain('<span class="tag">Undone</span>');
    expect(entries(log).length).toBe(7);
  });

  it("is linked from the community page and the home page", async () => {
    expect((await page(visitor, "/@open")).text).toContain('href="/@open/modlog"');
    expect((await page(visitor, "/")).text).toContain('href="/modlog"');
    expect((await page(visitor, "/@circle")).text).not.toContain('href="/@circle/modlog"');
  });

  it("never shows approvals of members publicly; the community's moderators see them", async () => {
    for (const path of ["/@gate/modlog", "/modlog"]) {
      const res = await page(visitor, path);
      expect(res.status).toBe(200);
      expect(res.text, path).not.toContain("Approved a join request");
      expect(res.text, path).not.toContain("@amy");
    }
    expect((await page(benWeb, "/modlog")).text).not.toContain("Approved a join request");
    expect((await page(bossWeb, "/@gate/modlog")).text).toContain("Approved a join request");
  });

  it("keeps a members-only community's actions to its members", async () => {
    const instanceLog = await page(visitor, "/modlog");
    expect(instanceLog.text).toContain("Spam link");
    expect(instanceLog.text).toContain('in <a href="/@open">open</a>');
    expect(instanceLog.text).not.toContain("Private matter");
    expect(instanceLog.text).not.toContain("/@circle");
    expect((await page(visitor, "/@circle/modlog")).status).toBe(403);
    expect((await page(amyWeb, "/@circle/modlog")).status).toBe(403);
    expect((await page(benWeb, "/modlog")).text).toContain("Private matter");
    const member = await page(benWeb, "/@circle/modlog");
    expect(member.status).toBe(200);
    expect(member.text).toContain("Reason: Private matter");
    expect(member.text).toContain("by @boss");
  });

  it("hides moderators' names when the community says so, except from its moderators and admins", async () => {
    const settings = await page(bossWeb, "/@open/settings");
    const box = /<input type="checkbox" name="hideModlogNames" value="1"[^>]*>/.exec(settings.text)?.[0];
    expect(box).toBeDefined();
    expect(box).not.toContain("checked");
    const saved = await bossWeb.post("/@open/settings", {
      name: "Open door",
      description: "",
      rules: "",
      visibility: "public",
      join: "open",
      federation: "federated",
      allowedServers: "",
      retentionDays: "",
      hideModlogNames: "1",
    });
    expect(saved.status).toBe(303);
    expect((await page(bossWeb, "/@open/settings")).text).toContain(
      '<input type="checkbox" name="hideModlogNames" value="1" checked>',
    );
    for (const [who, web, path] of [
      ["visitor", visitor, "/@open/modlog"],
      ["member", benWeb, "/@open/modlog"],
      ["visitor", visitor, "/modlog"],
    ] as const) {
      const log = (await page(web, path)).text;
      expect(log, `${who} ${path}`).not.toContain("by @mia");
      expect(log, `${who} ${path}`).toContain("by a moderator · <time");
      expect(log, `${who} ${path}`).toContain("Reason: Spam link");
    }
    for (const web of [miaWeb, bossWeb]) expect((await page(web, "/@open/modlog")).text).toContain("by @mia");
  });

  it("pages through a long log with a cursor, each entry once", async () => {
    const acting = { role: "moderator" as const, actorId: mia.actorId };
    // The thread is pinned: 30 rounds of unpinning and pinning it again.
    for (let i = 0; i < 30; i++) {
      await unpinThread(db(), instance.url, acting, threadId, { reason: `unpin ${i}` });
      await pinThread(db(), instance.url, acting, threadId, { reason: `pin ${i}` });
    }
    const first = await page(visitor, "/@open/modlog");
    const next = nextLink(first.text);
    expect(next).toMatch(/^\/@open\/modlog\?cursor=[0-9a-f-]{36}$/);
    const second = await page(visitor, next!);
    const seen = [...entries(first.text), ...entries(second.text)];
    expect(entries(first.text).length).toBe(50);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(7 + 60);
    expect(nextLink(second.text)).toBeUndefined();
    expect(element(second.text, '<ol class="modlog">')).toContain("Appointed a moderator");
  });
});
