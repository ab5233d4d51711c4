// Moderating a community over real HTTP: removing (after a confirmation page
// naming the servers that hear of it) and restoring posts, what readers then
// see, locking, pinning, banning with the removal of a person's posts and an
// expiry, and the confirmation pages of every destructive action.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { countRows, element, forms, loggedIn, seedCommunity, seedUser, threadTitles } from "../helpers/seed.ts";
import { seedFollow, seedRemoteActor } from "../policy/support.ts";

const DAY = 86_400_000;

describe.each(dialects)("moderation over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let boss: LocalUser;
  let mia: LocalUser;
  let amy: LocalUser;
  let ben: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let bossWeb: WebClient;
  let miaWeb: WebClient;
  let amyWeb: WebClient;
  let benWeb: WebClient;
  let visitor: WebClient;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    boss = await seedUser(instance, "boss", { role: "admin" });
    [mia, amy, ben] = await Promise.all([
      seedUser(instance, "mia"),
      seedUser(instance, "amy"),
      seedUser(instance, "ben"),
    ]);
    community = await seedCommunity(instance, boss, { slug: "calm", name: "Calm corner" });
    [bossWeb, miaWeb, amyWeb, benWeb] = await Promise.all([
      loggedIn(instance, "boss"),
      loggedIn(instance, "mia"),
      loggedIn(instance, "amy"),
      loggedIn(instance, "ben"),
    ]);
    visitor = new WebClient(instance.url);
    for (const web of [miaWeb, amyWeb, benWeb]) expect((await web.post("/@calm/join", {})).status).toBe(303);
    await bossWeb.get("/@calm/moderation");
    expect((await bossWeb.post("/@calm/moderation/moderators", { username: "mia" })).status).toBe(303);
    // Two servers follow the community: what it does reaches them.
    for (const [host, name] of [
      ["lemmy.example", "fan"],
      ["masto.example", "pal"],
      ["masto.example", "kit"],
    ] as const)
      await seedFollow(db(), await seedRemoteActor(db(), host, name), community.id);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const db = () => instance.runtime.db;
  const page = (web: WebClient, path: string) => web.get(path, { accept: "text/html" });
  const postRow = (id: string) => db().selectFrom("posts").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const thread = (author: LocalUser, title: string, body = "") =>
    createThread(db(), instance.url, community, author.actorId, { title, body });
  const reply = (author: LocalUser, parentId: string, body: string) =>
    createReply(db(), instance.url, community, author.actorId, parentId, { body });
  const item = async (web: WebClient, threadId: string, postId: string) =>
    element((await page(web, `/posts/${threadId}`)).text, `<li id="post-${postId}">`) ?? "";

  describe("removing and restoring", () => {
    let threadId: string;
    let replyId: string;

    beforeAll(async () => {
      threadId = (await thread(ben, "Pacing on bad days")).id;
      replyId = (await reply(amy, threadId, "Try my miracle cure from the shop")).id;
    });

    it("shows a moderator Remove and Ban on others' posts and Lock and Pin on the thread; members see none", async () => {
      const mod = await page(miaWeb, `/posts/${threadId}`);
      expect(element(mod.text, `<li id="post-${replyId}">`)).toContain(`href="/posts/${replyId}/remove"`);
      expect(element(mod.text, `<li id="post-${replyId}">`)).toContain(`href="/@calm/ban/${amy.actorId}"`);
      expect(mod.text).toContain(`action="/posts/${threadId}/lock"`);
      expect(mod.text).toContain(`action="/posts/${threadId}/pin"`);
      const member = await page(benWeb, `/posts/${threadId}`);
      expect(member.text).not.toContain("/remove");
      expect(member.text).not.toContain("/ban/");
      expect(member.text).not.toContain(`action="/posts/${threadId}/lock"`);
      // Report: on others' posts for members, on public posts for visitors; never on one's own.
      expect(element(member.text, `<li id="post-${replyId}">`)).toContain(`href="/posts/${replyId}/report"`);
      expect(element(member.text, '<article class="thread"')).not.toContain("/report");
      expect((await page(visitor, `/posts/${threadId}`)).text).toContain(`href="/posts/${replyId}/report"`);
    });

    it("a non-moderator can neither see the confirmation page nor remove (403), and nothing changes", async () => {
      expect((await page(benWeb, `/posts/${replyId}/remove`)).status).toBe(403);
      expect((await benWeb.post(`/posts/${replyId}/remove`, { reason: "I dislike it" })).status).toBe(403);
      for (const action of ["restore", "lock", "unlock", "pin", "unpin"])
        expect((await benWeb.post(`/posts/${threadId}/${action}`, {})).status, action).toBe(403);
      expect((await page(visitor, `/posts/${replyId}/remove`)).status).toBe(302);
      const row = await postRow(replyId);
      expect(row.removed_at).toBeNull();
      expect((await postRow(threadId)).locked).toBe(0);
      expect(await countRows(instance, "moderation_actions", ["community_id", community.id])).toBe(1);
    });

    it("the confirmation page says what happens and on which servers, with a reason field", async () => {
      const res = await page(miaWeb, `/posts/${replyId}/remove`);
      expect(res.status).toBe(200);
      expect(res.text).toContain("Try my miracle cure from the shop");
      expect(res.text).toMatch(/disappears for everyone here and on the 2 servers that follow this community/);
      expect(res.text).toContain("<strong>lemmy.example</strong>, <strong>masto.example</strong>");
      expect(res.text).toContain("you can restore it");
      expect(res.text).toContain(`<form method="post" action="/posts/${replyId}/remove"`);
      expect(res.text).toContain('<textarea id="reason" name="reason"');
    });

    it("removes with a reason: visitors and members see a placeholder, the author and moderators the text", async () => {
      const res = await miaWeb.post(`/posts/${replyId}/remove`, { reason: "Selling cures is not allowed" });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe(`/posts/${threadId}#post-${replyId}`);
      expect((await postRow(replyId)).removed_at).not.toBeNull();

      for (const [who, web] of [
        ["visitor", visitor],
        ["member", benWeb],
      ] as const) {
        const shown = await item(web, threadId, replyId);
        expect(shown, who).toContain('<p class="placeholder">[removed by a moderator]</p>');
        expect(shown, who).not.toContain("miracle cure");
        expect(shown, who).not.toContain("Selling cures");
      }
      const action = await db()
        .selectFrom("moderation_actions")
        .select(["id", "reason", "moderator_id"])
        .where("target_post_id", "=", replyId)
        .where("action", "=", "remove_post")
        .executeTakeFirstOrThrow();
      expect(action).toMatchObject({ reason: "Selling cures is not allowed", moderator_id: mia.actorId });

      const own = await item(amyWeb, threadId, replyId);
      expect(own).toContain("Try my miracle cure from the shop");
      expect(own).toContain("<strong>Removed by the moderators</strong>: Selling cures is not allowed");
      expect(own).toContain(`href="/moderation/actions/${action.id}"`);
      for (const web of [miaWeb, bossWeb]) {
        const mod = await item(web, threadId, replyId);
        expect(mod).toContain("Try my miracle cure from the shop");
        expect(mod).toContain("<strong>Removed by the moderators</strong>: Selling cures is not allowed");
        expect(mod).toContain(`action="/posts/${replyId}/restore"`);
        expect(mod).not.toContain(`href="/posts/${replyId}/remove"`);
      }
      // A second removal is refused, not logged twice.
      expect((await miaWeb.post(`/posts/${replyId}/remove`, { reason: "again" })).status).toBe(409);
    });

    it("restoring brings it back for everyone", async () => {
      await page(miaWeb, `/posts/${threadId}`);
      const res = await miaWeb.post(`/posts/${replyId}/restore`, {});
      expect(res.status).toBe(303);
      expect((await postRow(replyId)).removed_at).toBeNull();
      for (const web of [visitor, benWeb, amyWeb, miaWeb]) {
        const shown = await item(web, threadId, replyId);
        expect(shown).toContain("Try my miracle cure from the shop");
        expect(shown).not.toContain("Removed by the moderators");
      }
    });

    it("a removed thread leaves the listing and the pinned list, except for moderators, who see it marked", async () => {
      const pinned = await thread(ben, "A pinned thread to remove");
      await page(miaWeb, `/posts/${pinned.id}`);
      expect((await miaWeb.post(`/posts/${pinned.id}/pin`, {})).status).toBe(303);
      expect(threadTitles((await page(visitor, "/@calm")).text)).toContain("A pinned thread to remove");
      expect((await miaWeb.post(`/posts/${pinned.id}/remove`, { reason: "" })).status).toBe(303);
      for (const web of [visitor, benWeb])
        expect(threadTitles((await page(web, "/@calm")).text)).not.toContain("A pinned thread to remove");
      const view = await page(visitor, `/posts/${pinned.id}`);
      expect(view.text).toContain("<h1>[removed by a moderator]</h1>");
      expect(view.text).not.toContain("A pinned thread to remove");
      const mod = (await page(miaWeb, "/@calm")).text;
      expect(threadTitles(mod)).toContain("A pinned thread to remove");
      expect(mod).toContain('<span class="tag removed">Removed</span>');
      expect((await page(amyWeb, `/posts/${pinned.id}`)).text).toContain("<h1>[removed by a moderator]</h1>");
      // Its author still reads it; without a reason, the banner says so.
      const own = (await page(benWeb, `/posts/${pinned.id}`)).text;
      expect(own).toContain("<h1>A pinned thread to remove</h1>");
      expect(own).toContain("(no reason given)");
      expect(own).toContain("Only you and the moderators see it.");
    });
  });

  describe("locking and pinning", () => {
    it("a locked thread loses its reply form and refuses replies with 403; unlocking reopens it", async () => {
      const t = await thread(ben, "Heat and fatigue");
      await page(miaWeb, `/posts/${t.id}`);
      expect((await miaWeb.post(`/posts/${t.id}/lock`, { reason: "Cooling off" })).status).toBe(303);
      const view = await page(benWeb, `/posts/${t.id}`);
      expect(view.text).toContain('<p class="notice">This thread is locked.</p>');
      expect(view.text).not.toContain(`action="/posts/${t.id}/replies"`);
      const refused = await benWeb.post(`/posts/${t.id}/replies`, { body: "But wait", cw: "" });
      expect(refused.status).toBe(403);
      expect(refused.text).toContain("locked");
      const log = await db()
        .selectFrom("moderation_actions")
        .select(["action", "reason"])
        .where("target_post_id", "=", t.id)
        .execute();
      expect(log).toEqual([{ action: "lock", reason: "Cooling off" }]);
      expect((await page(miaWeb, `/posts/${t.id}`)).text).toContain(`action="/posts/${t.id}/unlock"`);
      expect((await miaWeb.post(`/posts/${t.id}/unlock`, {})).status).toBe(303);
      expect((await page(benWeb, `/posts/${t.id}`)).text).toContain(`action="/posts/${t.id}/replies"`);
    });

    it("a pinned thread comes first on the community page, marked Pinned, until unpinned", async () => {
      const older = await thread(ben, "Older but important");
      await thread(amy, "Newer chatter");
      await page(miaWeb, `/posts/${older.id}`);
      expect((await miaWeb.post(`/posts/${older.id}/pin`, {})).status).toBe(303);
      const listing = (await page(visitor, "/@calm")).text;
      expect(threadTitles(listing)[0]).toBe("Older but important");
      expect(element(listing, '<article class="thread-summary pinned">')).toContain('<span class="tag">Pinned</span>');
      expect((await page(miaWeb, `/posts/${older.id}`)).text).toContain(`action="/posts/${older.id}/unpin"`);
      expect((await miaWeb.post(`/posts/${older.id}/unpin`, {})).status).toBe(303);
      expect(threadTitles((await page(visitor, "/@calm")).text)[0]).not.toBe("Older but important");
      // Replies cannot be pinned.
      const r = await reply(ben, older.id, "A reply");
      expect((await miaWeb.post(`/posts/${r.id}/pin`, {})).status).toBe(403);
    });
  });

  describe("banning", () => {
    let cal: LocalUser;
    let calWeb: WebClient;
    let calThread: string;
    let calReply: string;

    beforeAll(async () => {
      cal = await seedUser(instance, "cal");
      calWeb = await loggedIn(instance, "cal");
      expect((await calWeb.post("/@calm/join", {})).status).toBe(303);
      calThread = (await thread(cal, "Cal's rant", "Angry words")).id;
      calReply = (await reply(cal, calThread, "More angry words")).id;
    });

    it("the ban page names the servers and offers removing their posts and an expiry", async () => {
      expect((await page(benWeb, `/@calm/ban/${cal.actorId}`)).status).toBe(403);
      const res = await page(miaWeb, `/@calm/ban/${cal.actorId}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain("<h1>Ban @cal from Calm corner?</h1>");
      expect(res.text).toContain("sent to the 2 servers that follow this community");
      expect(res.text).toContain("<strong>lemmy.example</strong>");
      expect(res.text).toContain('name="removeContent" value="1"');
      expect(res.text).toContain("Also remove their posts in this community (2)");
      expect(res.text).toContain('<input id="days" name="days"');
      // Moderators are not banned: the page says so first.
      const mod = await page(miaWeb, `/@calm/ban/${boss.actorId}`);
      expect(mod.status).toBe(403);
      expect(mod.text).toContain("the owner of a community cannot be banned");
    });

    it("refuses a malformed expiry with 422 and a reason, banning nobody", async () => {
      const res = await miaWeb.post(`/@calm/ban/${cal.actorId}`, { reason: "x", days: "a week" });
      expect(res.status).toBe(422);
      expect(res.text).toContain("must be a whole number from 1 to 3650");
      expect(await countRows(instance, "community_bans", ["actor_id", cal.actorId])).toBe(0);
    });

    it("bans for 7 days removing their posts: listed with its expiry, and they cannot post (403)", async () => {
      await page(miaWeb, `/@calm/ban/${cal.actorId}`);
      const before = Date.now();
      const res = await miaWeb.post(`/@calm/ban/${cal.actorId}`, {
        reason: "Repeated insults",
        removeContent: "1",
        days: "7",
      });
      const after = Date.now();
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/@calm/moderation");
      for (const id of [calThread, calReply]) expect((await postRow(id)).removed_at).not.toBeNull();
      const ban = await db()
        .selectFrom("community_bans")
        .selectAll()
        .where("actor_id", "=", cal.actorId)
        .executeTakeFirstOrThrow();
      const expires = Date.parse(ban.expires_at ?? "");
      expect(expires).toBeGreaterThanOrEqual(before + 7 * DAY);
      expect(expires).toBeLessThanOrEqual(after + 7 * DAY);

      const moderation = await page(miaWeb, "/@calm/moderation");
      const bans = element(moderation.text, '<section aria-labelledby="bans-h">') ?? "";
      expect(bans).toContain("<td>@cal</td><td>Repeated insults</td>");
      expect(bans).toContain(`<time datetime="${ban.expires_at}"`);
      expect(bans).toContain(`action="/@calm/unban/${cal.actorId}"`);

      expect((await page(calWeb, "/@calm/submit")).status).toBe(403);
      const post = await calWeb.post("/@calm/submit", { title: "I'm back", body: "", cw: "" });
      expect(post.status).toBe(403);
      expect(post.text).toContain("banned");
      expect((await calWeb.post(`/posts/${calThread}/replies`, { body: "Hello?", cw: "" })).status).toBe(403);
      expect((await calWeb.post("/@calm/join", {})).status).toBe(403);
    });

    it("unbanning lifts it: off the list, and they may join and post again", async () => {
      await page(miaWeb, "/@calm/moderation");
      expect((await miaWeb.post(`/@calm/unban/${cal.actorId}`, {})).status).toBe(303);
      const moderation = await page(miaWeb, "/@calm/moderation");
      expect(element(moderation.text, '<section aria-labelledby="bans-h">')).toContain("Nobody is banned.");
      expect((await calWeb.post("/@calm/join", {})).status).toBe(303);
      await page(calWeb, "/@calm/submit");
      expect((await calWeb.post("/@calm/submit", { title: "Calmer now", body: "", cw: "" })).status).toBe(303);
    });
  });

  describe("the moderation page", () => {
    it("lists moderators with Remove (the owner has none), and links reports, appeals and the modlog", async () => {
      const res = await page(bossWeb, "/@calm/moderation");
      const mods = element(res.text, '<section aria-labelledby="mods-h">') ?? "";
      expect(mods).toContain(`action="/@calm/moderation/moderators/${mia.actorId}/remove"`);
      expect(mods).not.toContain(`/moderators/${boss.actorId}/remove`);
      expect(mods).toContain('<span class="tag">Owner</span>');
      for (const link of ["/@calm/reports", "/@calm/appeals", "/@calm/modlog"])
        expect(res.text).toContain(`href="${link}"`);
      expect((await bossWeb.post(`/@calm/moderation/moderators/${boss.actorId}/remove`, {})).status).toBe(403);
    });

    it("every moderation page carries the CSRF token in each form, and no script", async () => {
      const t = await thread(amy, "Checked pages");
      const r = await reply(ben, t.id, "A checked reply");
      for (const [web, path] of [
        [miaWeb, "/@calm/moderation"],
        [miaWeb, `/posts/${t.id}`],
        [miaWeb, `/posts/${r.id}/remove`],
        [miaWeb, `/@calm/ban/${ben.actorId}`],
        [amyWeb, `/posts/${t.id}/delete`],
        [amyWeb, "/messages/ben/delete"],
        [visitor, "/@calm/modlog"],
        [visitor, "/modlog"],
      ] as const) {
        const res = await page(web, path);
        expect(res.status, path).toBe(200);
        expect(res.text, path).not.toMatch(/<script/i);
        for (const form of forms(res.text).filter((f) => /method="post"/.test(f)))
          expect(form, path).toContain(`<input type="hidden" name="_csrf" value="${web.csrf}">`);
      }
    });

    it("dismisses a moderator, who then loses the tools", async () => {
      await seedUser(instance, "dee");
      const deeWeb = await loggedIn(instance, "dee");
      expect((await deeWeb.post("/@calm/join", {})).status).toBe(303);
      await page(bossWeb, "/@calm/moderation");
      expect((await bossWeb.post("/@calm/moderation/moderators", { username: "dee" })).status).toBe(303);
      expect((await page(deeWeb, "/@calm/moderation")).status).toBe(200);
      const dee = await db().selectFrom("actors").select("id").where("username", "=", "dee").executeTakeFirstOrThrow();
      expect((await bossWeb.post(`/@calm/moderation/moderators/${dee.id}/remove`, {})).status).toBe(303);
      expect((await page(deeWeb, "/@calm/moderation")).status).toBe(403);
    });
  });

  describe("confirmation pages of the author's own deletions", () => {
    it("deleting a post asks first, naming the servers; only its author gets the page", async () => {
      const t = await thread(amy, "Something I regret");
      const view = await page(amyWeb, `/posts/${t.id}`);
      expect(view.text).toContain(`href="/posts/${t.id}/delete"`);
      expect(view.text).not.toContain(`action="/posts/${t.id}/delete"`);
      const res = await page(amyWeb, `/posts/${t.id}/delete`);
      expect(res.status).toBe(200);
      expect(res.text).toContain("a deletion request goes to the 2 servers that follow this community");
      expect(res.text).toContain("<strong>masto.example</strong>");
      expect(res.text).toContain("This cannot be undone.");
      expect(res.text).toContain(`<form method="post" action="/posts/${t.id}/delete"`);
      expect((await page(benWeb, `/posts/${t.id}/delete`)).status).toBe(403);
      expect((await amyWeb.post(`/posts/${t.id}/delete`, {})).status).toBe(303);
      expect((await postRow(t.id)).deleted_at).not.toBeNull();
    });

    it("deleting a conversation asks first, naming the other person's server", async () => {
      await page(amyWeb, "/messages/ben");
      expect((await amyWeb.post("/messages/ben", { body: "Hi Ben", cw: "" })).status).toBe(303);
      const conversation = await page(amyWeb, "/messages/ben");
      expect(conversation.text).toContain('href="/messages/ben/delete"');
      const local = await page(amyWeb, "/messages/ben/delete");
      expect(local.status).toBe(200);
      expect(local.text).toContain("The message you sent is deleted on this instance, where @ben also lives.");
      const remote = await page(amyWeb, "/messages/fan@lemmy.example/delete");
      expect(remote.status).toBe(200);
      expect(remote.text).toContain("a deletion request goes to <strong>lemmy.example</strong>");
      expect(local.text).toContain('<form method="post" action="/messages/ben/delete"');
      await page(amyWeb, "/messages/ben/delete");
      expect((await amyWeb.post("/messages/ben/delete", {})).status).toBe(303);
    });
  });

  describe("a community on another server", () => {
    it("a local moderator asks its server; an admin here hides it on this instance only", async () => {
      const groupId = await seedRemoteActor(db(), "lemmy.example", "faraway");
      await db().updateTable("actors").set({ type: "Group" }).where("id", "=", groupId).execute();
      const group = { id: groupId, visibility: "public" as const, joinPolicy: "open" as const };
      await addModerator(db(), instance.url, { role: "group", actorId: groupId }, groupId, mia.actorId, {
        received: { activityIri: "https://lemmy.example/activities/add/1" },
      });
      const t = await createThread(db(), instance.url, group, ben.actorId, { title: "Over there", body: "" });
      const asMod = await page(miaWeb, `/posts/${t.id}/remove`);
      expect(asMod.status).toBe(200);
      expect(asMod.text).toContain("This asks <strong>lemmy.example</strong>, where the community lives");
      expect(asMod.text).toContain("here it is hidden at once");
      const asAdmin = await page(bossWeb, `/posts/${t.id}/remove`);
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.text).toContain("It is hidden on this instance only");
      expect((await page(benWeb, `/posts/${t.id}/remove`)).status).toBe(403);
    });
  });
});
