// Statements of reasons (DSA Art. 17) and appeals (Art. 20) through the real
// app over real HTTP: a moderator removes a post, its author is told why and
// appeals once; the moderators uphold, the admins grant, the post comes back
// and the author is told at every step. Nobody else reads any of it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { removePost } from "../../src/moderation/posts.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { alertText, element, loggedIn, seedCommunity, seedThread, seedUser, unescapeHtml } from "../helpers/seed.ts";

describe.each(dialects)("statements of reasons and appeals over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let mod: LocalUser;
  let admin: LocalUser;
  let threadId: string;
  let actionId: string;
  let appealId: string;
  let adminWeb: WebClient;
  let modWeb: WebClient;
  let authorWeb: WebClient;
  let bystanderWeb: WebClient;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    admin = await seedUser(instance, "root", { role: "admin" });
    mod = await seedUser(instance, "nurse");
    const author = await seedUser(instance, "author");
    await seedUser(instance, "bystander");
    const pots = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    [adminWeb, modWeb, authorWeb, bystanderWeb] = await Promise.all([
      loggedIn(instance, "root"),
      loggedIn(instance, "nurse"),
      loggedIn(instance, "author"),
      loggedIn(instance, "bystander"),
    ]);
    for (const web of [modWeb, authorWeb, bystanderWeb]) expect((await web.post("/@pots/join", {})).status).toBe(303);
    const acting = { role: "admin" as const, actorId: admin.actorId };
    await addModerator(instance.runtime.db, instance.url, acting, pots.id, mod.actorId);
    threadId = (await seedThread(instance, pots, author, "Salt loading", "Take 10 g of salt a day")).id;
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const removedAt = async () =>
    (
      await instance.runtime.db
        .selectFrom("posts")
        .select("removed_at")
        .where("id", "=", threadId)
        .executeTakeFirstOrThrow()
    ).removed_at;
  const notification = (html: string, marker: string) => {
    const at = html.indexOf(marker);
    const start = html.lastIndexOf('<li class="notification', at);
    return at < 0 || start < 0 ? undefined : element(html.slice(start), '<li class="notification');
  };

  it("a removal tells its author, whose statement of reasons says what, why, by whom and how to appeal", async () => {
    const acting = { role: "moderator" as const, actorId: mod.actorId };
    actionId = await removePost(instance.runtime.db, instance.url, acting, threadId, {
      reason: "Unsafe dosing advice zqreason",
    });
    const notes = await authorWeb.get("/notifications");
    expect(notes.text).toContain("Notifications (1)");
    const item = notification(notes.text, "A moderator acted on your content");
    expect(item).toContain(`href="/moderation/actions/${actionId}"`);
    expect(unescapeHtml(item ?? "")).toContain("Removed a post “Salt loading” in POTS. Reason: Unsafe dosing advice");

    const statement = await authorWeb.get(`/moderation/actions/${actionId}`);
    expect(statement.status).toBe(200);
    const text = unescapeHtml(statement.text);
    for (const part of ["Removed a post", "“Salt loading” by @author", "Unsafe dosing advice zqreason", "pots"])
      expect(text).toContain(part);
    expect(text).toContain("You may appeal this decision once");
    expect(statement.text).toContain(`action="/moderation/actions/${actionId}/appeal"`);
    // The moderators and admins read it (without the appeal form); anyone else finds nothing.
    for (const web of [modWeb, adminWeb]) {
      const page = await web.get(`/moderation/actions/${actionId}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain("zqreason");
      expect(page.text).not.toContain('/appeal"');
    }
    const other = await bystanderWeb.get(`/moderation/actions/${actionId}`);
    expect(other.status).toBe(404);
    expect(other.text).not.toContain("zqreason");
    const visitor = await new WebClient(instance.url).get(`/moderation/actions/${actionId}`);
    expect(visitor.status).toBe(302);
  });

  it("the author appeals once: an empty appeal is refused, a second one is a conflict", async () => {
    await authorWeb.get(`/moderation/actions/${actionId}`);
    const empty = await authorWeb.post(`/moderation/actions/${actionId}/appeal`, { text: "  " });
    expect(empty.status).toBe(422);
    expect(alertText(empty.text)).toBe("text: is required");
    expect((await bystanderWeb.post(`/moderation/actions/${actionId}/appeal`, { text: "me too" })).status).toBe(404);
    const filed = await authorWeb.post(`/moderation/actions/${actionId}/appeal`, {
      text: "It was my own diary zqappeal",
    });
    expect(filed.status).toBe(303);
    expect(filed.headers.get("location")).toBe(`/moderation/actions/${actionId}`);
    const statement = await authorWeb.get(`/moderation/actions/${actionId}`);
    expect(statement.text).toContain("The community&#39;s moderators are reviewing the appeal.");
    expect(statement.text).not.toContain(`action="/moderation/actions/${actionId}/appeal"`);
    const again = await authorWeb.post(`/moderation/actions/${actionId}/appeal`, { text: "Please" });
    expect(again.status).toBe(409);
    expect(again.text).toContain("you already appealed this action");
  });

  it("the moderators see it and uphold it; it goes to the admins", async () => {
    const notes = await modWeb.get("/notifications");
    expect(notification(notes.text, "New appeal to review")).toContain('href="/@pots/appeals"');
    const queue = await modWeb.get("/@pots/appeals");
    expect(queue.status).toBe(200);
    expect(queue.text).toContain("zqappeal");
    expect(queue.text).toContain("@author");
    appealId = /id="appeal-([0-9a-f-]{36})"/.exec(queue.text)?.[1] ?? "";
    expect(appealId).not.toBe("");
    expect((await bystanderWeb.get("/@pots/appeals")).status).toBe(403);
    expect((await bystanderWeb.post(`/@pots/appeals/${appealId}`, { decision: "grant" })).status).toBe(403);
    expect((await adminWeb.get("/admin/appeals")).text).not.toContain("zqappeal");
    // The admins' queue does not take an appeal still with the moderators.
    expect((await adminWeb.post(`/admin/appeals/${appealId}`, { decision: "deny" })).status).toBe(409);
    const bad = await modWeb.post(`/@pots/appeals/${appealId}`, { decision: "deny" });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("choose grant or uphold");

    const upheld = await modWeb.post(`/@pots/appeals/${appealId}`, { decision: "uphold", note: "zqupheld rules" });
    expect(upheld.status).toBe(303);
    expect((await modWeb.get("/@pots/appeals")).text).not.toContain("zqappeal");
    expect(await removedAt()).not.toBeNull();
    const admins = await adminWeb.get("/admin/appeals");
    expect(admins.text).toContain("zqappeal");
    expect(admins.text).toContain("zqupheld rules");
    expect(notification((await adminWeb.get("/notifications")).text, "New appeal to review")).toContain(
      'href="/admin/appeals"',
    );
    const told = notification((await authorWeb.get("/notifications")).text, "Your appeal was decided");
    expect(told).toContain("upheld by the moderators and sent to the instance");
    expect(told).toContain(`href="/moderation/actions/${actionId}"`);
  });

  it("an admin grants it: the post is restored and the author told", async () => {
    const granted = await adminWeb.post(`/admin/appeals/${appealId}`, { decision: "grant", note: "zqgranted diary" });
    expect(granted.status).toBe(303);
    expect(await removedAt()).toBeNull();
    expect((await adminWeb.get("/admin/appeals")).text).not.toContain("zqappeal");
    const notes = await authorWeb.get("/notifications");
    expect(notes.text).toContain("granted: the decision was reversed");
    expect(notes.text).toContain("zqgranted diary");
    const statement = unescapeHtml((await authorWeb.get(`/moderation/actions/${actionId}`)).text);
    expect(statement).toContain("The appeal was granted: the decision was reversed.");
    expect(statement).toContain("Note from the moderators: zqupheld rules");
    expect(statement).toContain("Note from the admins: zqgranted diary");
    expect(statement).toContain("reversed");
    // Decided once.
    expect((await adminWeb.post(`/admin/appeals/${appealId}`, { decision: "deny" })).status).toBe(409);
    const thread = await bystanderWeb.get(`/posts/${threadId}`);
    expect(thread.text).toContain("Take 10 g of salt a day");
  });

  it("a moderator never decides their own appeal", async () => {
    const pots = await instance.runtime.db
      .selectFrom("actors")
      .select("id")
      .where("username_key", "=", "pots")
      .executeTakeFirstOrThrow();
    const own = await seedThread(
      instance,
      { id: pots.id, visibility: "public", joinPolicy: "open" },
      mod,
      "Moderator's thread",
    );
    const acting = { role: "admin" as const, actorId: admin.actorId };
    const action = await removePost(instance.runtime.db, instance.url, acting, own.id, { reason: "Off topic" });
    await modWeb.get(`/moderation/actions/${action}`);
    expect((await modWeb.post(`/moderation/actions/${action}/appeal`, { text: "zqownappeal" })).status).toBe(303);
    expect((await modWeb.get("/@pots/appeals")).text).not.toContain("zqownappeal");
    const queue = await adminWeb.get("/@pots/appeals");
    const id = /id="appeal-([0-9a-f-]{36})"/.exec(queue.text)?.[1];
    expect(queue.text).toContain("zqownappeal");
    const self = await modWeb.post(`/@pots/appeals/${id}`, { decision: "grant" });
    expect(self.status).toBe(403);
    expect(self.text).toContain("you cannot decide your own appeal");
  });
});
