// The kinds of notification of issue 12 through the real app over real HTTP:
// replies, mentions, direct messages, likes (one card per post), join
// requests; nobody is told of their own doing, of people they muted, of a kind
// they turned off, or of a post deleted since.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { createReply } from "../../src/posts/service.ts";
import type { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { element, loggedIn, seedCommunity, seedThread, seedUser, unescapeHtml } from "../helpers/seed.ts";

const count = (html: string) =>
  /<a href="\/notifications"[^>]*>Notifications(?: \((\d+)\))?<\/a>/.exec(html)?.[1] ?? "0";
/** The unread items of a notifications page, as text. */
const unreadItems = (html: string) =>
  [...html.matchAll(/<li class="notification unread"[\s\S]*?<\/li>/g)].map((m) =>
    unescapeHtml(m[0].replace(/<[^>]+>/g, " ").replace(/\s+/g, " ")),
  );

describe.each(dialects)("kinds of notification over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let admin: LocalUser;
  let ana: LocalUser;
  let web: Record<"ana" | "ben" | "cara" | "dan" | "root", WebClient>;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  const authors = new Map<WebClient, string>();

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    admin = await seedUser(instance, "root", { role: "admin" });
    ana = await seedUser(instance, "ana");
    const others = [];
    for (const name of ["ben", "cara", "dan"]) others.push(await seedUser(instance, name));
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    await seedCommunity(instance, admin, { slug: "vetted", name: "Vetted", join: "approval" });
    const [a, b, c, d, r] = await Promise.all(
      ["ana", "ben", "cara", "dan", "root"].map((name) => loggedIn(instance, name)),
    );
    web = { ana: a!, ben: b!, cara: c!, dan: d!, root: r! };
    for (const [w, u] of [
      [a, ana],
      [b, others[0]],
      [c, others[1]],
      [d, others[2]],
    ] as const)
      authors.set(w!, u!.actorId);
    for (const w of [web.ana, web.ben, web.cara, web.dan]) expect((await w.post("/@pots/join", {})).status).toBe(303);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const readAll = async (w: WebClient) => expect((await w.post("/notifications/read", {})).status).toBe(303);
  // Replies through the posts service: the reply form's POST /posts/:id/replies is, for now, answered by the
  // thread's ActivityPub `replies` collection (work in progress elsewhere), so it can't be the way in here.
  const reply = async (w: WebClient, postId: string, body: string) =>
    createReply(instance.runtime.db, instance.url, community, authors.get(w) ?? "", postId, { body });
  const postIdOf = async (body: string) =>
    (await instance.runtime.db.selectFrom("posts").select("id").where("source", "=", body).executeTakeFirstOrThrow())
      .id;

  it("a reply, a mention and a direct message each tell their person once, with a link; read clears the count", async () => {
    const thread = await seedThread(instance, community, ana, "Salt loading", "Does it help anyone?");
    await reply(web.ben, thread.id, "It helps me. @cara does it too.");
    await reply(web.ben, thread.id, "And @ana, try electrolytes.");
    // Her own reply, to her own thread, tells her nothing.
    await reply(web.ana, thread.id, "Thanks, I will.");
    expect((await web.ben.post("/messages/ana", { body: "Hi Ana, a private word." })).status).toBe(303);

    const page = await web.ana.get("/notifications");
    expect(count(page.text)).toBe("3");
    const items = unreadItems(page.text);
    expect(items).toHaveLength(3);
    expect(items[0]).toContain("ben sent you a direct message");
    expect(items[1]).toContain("ben replied to your thread “Salt loading”");
    expect(items[2]).toContain("ben replied to your thread “Salt loading”");
    expect(element(page.text, '<li class="notification unread"')).toContain('href="/messages/ben"');
    expect(page.text).toContain(`href="/posts/${await postIdOf("And @ana, try electrolytes.")}"`);

    const cara = await web.cara.get("/notifications");
    expect(count(cara.text)).toBe("1");
    expect(unreadItems(cara.text)[0]).toContain("ben mentioned you in “Salt loading”");
    // Ben was told of nothing: all of it was his own doing.
    expect(count((await web.ben.get("/")).text)).toBe("0");

    await readAll(web.ana);
    const after = await web.ana.get("/");
    expect(count(after.text)).toBe("0");
    expect(unreadItems((await web.ana.get("/notifications")).text)).toEqual([]);
    await readAll(web.cara);
  });

  it("likes of one post are one card; liking one's own post tells nobody", async () => {
    const thread = await seedThread(instance, community, ana, "Compression socks");
    for (const w of [web.ben, web.cara, web.dan, web.ana])
      expect((await w.post(`/posts/${thread.id}/like`, {})).status).toBe(303);
    const page = await web.ana.get("/notifications");
    // The header counts cards, as the page shows them: three likes of one post are one.
    expect(count(page.text)).toBe("1");
    const items = unreadItems(page.text);
    expect(items).toHaveLength(1);
    expect(items[0]).toContain("dan and 2 others liked your thread “Compression socks”");
    // Marking the card read marks every like it stands for.
    const ids = /name="ids" value="([^"]+)"/.exec(element(page.text, '<li class="notification unread"') ?? "")?.[1];
    expect(ids?.split(",")).toHaveLength(3);
    expect((await web.ana.post("/notifications/read", { ids: ids ?? "" })).status).toBe(303);
    expect(count((await web.ana.get("/")).text)).toBe("0");
  });

  it("a muted person's reply tells nothing, and muting hides what they did before", async () => {
    const thread = await seedThread(instance, community, ana, "Tilt table test");
    await reply(web.dan, thread.id, "Mine was awful.");
    expect(count((await web.ana.get("/")).text)).toBe("1");
    expect((await web.ana.post("/@dan/mute", {})).status).toBe(303);
    expect(count((await web.ana.get("/")).text)).toBe("0");
    await reply(web.dan, thread.id, "Still awful.");
    await reply(web.ben, thread.id, "Mine was fine.");
    const page = await web.ana.get("/notifications");
    expect(count(page.text)).toBe("1");
    expect(unreadItems(page.text)).toEqual([expect.stringContaining("ben replied")]);
    const rows = await instance.runtime.db
      .selectFrom("notifications")
      .select("id")
      .where("user_id", "=", ana.actorId)
      .where("kind", "=", "reply")
      .where(
        "actor_id",
        "in",
        await instance.runtime.db.selectFrom("actors").select("id").where("username", "=", "dan"),
      )
      .execute();
    expect(rows).toHaveLength(1);
    expect((await web.ana.post("/@dan/unfilter", {})).status).toBe(303);
    await readAll(web.ana);
  });

  it("a reply deleted since is no longer announced", async () => {
    const thread = await seedThread(instance, community, ana, "Beta blockers");
    await reply(web.cara, thread.id, "Propranolol here, zqdeleted.");
    expect(count((await web.ana.get("/")).text)).toBe("1");
    const id = await postIdOf("Propranolol here, zqdeleted.");
    expect((await web.cara.post(`/posts/${id}/delete`, {})).status).toBe(303);
    expect(count((await web.ana.get("/")).text)).toBe("0");
    expect((await web.ana.get("/notifications")).text).not.toContain(`/posts/${id}"`);
  });

  it("a member turns a kind off on the settings page; it stops, the others go on", async () => {
    const settings = await web.ana.get("/settings/notifications");
    expect(settings.status).toBe(200);
    expect(settings.text).toMatch(/<input type="checkbox" name="reply" value="1" checked>/);
    // Moderation notices can't be turned off (DSA Art. 17): they have no box.
    expect(settings.text).not.toContain('name="moderation"');
    expect((await web.ana.get("/notifications")).text).toContain('href="/settings/notifications"');

    const saved = await web.ana.post("/settings/notifications", { mention: "1", message: "1", like: "1", follow: "1" });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/settings/notifications?saved=1");
    const after = await web.ana.get("/settings/notifications?saved=1");
    expect(after.text).toMatch(/<input type="checkbox" name="reply" value="1">/);
    expect(after.text).toMatch(/<input type="checkbox" name="mention" value="1" checked>/);

    const thread = await seedThread(instance, community, ana, "Hydration");
    const ben = await reply(web.ben, thread.id, "Three litres a day.");
    await reply(web.cara, ben.id, "@ana what about salt?");
    // A reply to her that names her: replies are off, mentions on, so it is a mention.
    await reply(web.dan, thread.id, "@ana and magnesium?");
    const items = unreadItems((await web.ana.get("/notifications")).text);
    expect(items).toEqual([
      expect.stringContaining("dan mentioned you in “Hydration”"),
      expect.stringContaining("cara mentioned you in “Hydration”"),
    ]);

    const bad = await web.ana.post("/settings/notifications", { moderation: "1" });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("not a kind of notification you can turn off");
    expect((await web.ana.post("/settings/notifications", { reply: "yes" })).status).toBe(422);
    expect((await web.ana.post("/settings/notifications", { reply: "1", mention: "1" })).status).toBe(303);
    await readAll(web.ana);
  });

  it("a request to join a community that vets members tells its moderators", async () => {
    expect((await web.dan.post("/@vetted/join", {})).status).toBe(303);
    const page = await web.root.get("/notifications");
    const items = unreadItems(page.text);
    expect(items).toEqual([expect.stringContaining("dan asks to join Vetted")]);
    expect(page.text).toContain('href="/@vetted/moderation"');
    // Asking again is not a second request.
    expect((await web.dan.post("/@vetted/join", {})).status).toBe(303);
    expect(count((await web.root.get("/")).text)).toBe("1");
    expect(count((await web.dan.get("/")).text)).toBe("0");
  });
});
