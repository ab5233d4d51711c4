// What a new user hit (issue 12, item 8), each checked over real HTTP on a
// real instance: the reply pager's direction, field names in form errors,
// the page of an erased account, heading levels on lists, a browser's 404,
// which thread a reply on a profile belongs to, and avatars beside posts that
// never load another server's picture. (Widths at 390 px, button looks and
// input border contrast: test/browser/narrow-screens.test.ts; the
// moderation page's readable actions: test/http/communities.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { REPLIES_PAGE } from "../../src/posts/queries.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { startLoggedServer } from "../helpers/logged-server.ts";
import { fixture, Peer, snowflake, waitFor } from "../helpers/peer.ts";
import { loggedIn, nextLink, PASSWORD, seedCommunity, seedUser, tinyPng, unescapeHtml } from "../helpers/seed.ts";

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/** The levels of the headings in a page's <main>, in order. */
const headingLevels = (page: string) =>
  [...(/<main[^>]*>([\s\S]*)<\/main>/.exec(page)?.[1] ?? "").matchAll(/<h([1-6])\b/g)].map((m) => Number(m[1]));
/** Headings never skip a level going down (h1 → h3 leaves out h2). */
const skipsALevel = (levels: number[]) => levels.some((l, i) => i > 0 && l > levels[i - 1]! + 1);

describe("fixes a new user hit", () => {
  let instance: TestInstance;
  let mastodon: Peer;
  let admin: LocalUser;
  let ann: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let thread: { id: string };

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance(), Peer.start("mastodon")]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    ann = await seedUser(instance, "ann");
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    await join(instance.runtime.db, instance.url, community, ann.actorId);
    thread = await createThread(instance.runtime.db, instance.url, community, admin.actorId, {
      title: "Pacing that works",
      body: "Rest before you crash. #pacing",
    });
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  const browse = (path: string, client = new WebClient(instance.url)) => client.get(path, { accept: browserAccept });

  it("labels the reply pager by where it leads: later replies, in order", { timeout: 60_000 }, async () => {
    const long = await createThread(instance.runtime.db, instance.url, community, admin.actorId, {
      title: "A long conversation",
      body: "Say hello.",
    });
    for (let i = 1; i <= REPLIES_PAGE + 2; i++)
      await createReply(instance.runtime.db, instance.url, community, ann.actorId, long.id, {
        body: `Reply number ${i}`,
      });
    const first = await browse(`/posts/${long.id}`);
    expect(first.text).toContain("Reply number 1<");
    expect(first.text).not.toContain(`Reply number ${REPLIES_PAGE + 1}<`);
    expect(first.text).not.toContain("Older →");
    expect(first.text).toMatch(/<a href="[^"]+" rel="next">Later replies →<\/a>/);
    const second = await browse(nextLink(first.text)!);
    // What the link promised: the replies after those on the first page.
    expect(second.text).toContain(`Reply number ${REPLIES_PAGE + 1}<`);
    expect(second.text).toContain(`Reply number ${REPLIES_PAGE + 2}<`);
    expect(second.text).not.toContain("Reply number 1<");
  });

  it("names the field as the form does: Handle, not slug", async () => {
    const web = await loggedIn(instance, "admin");
    await web.get("/communities/new");
    const res = await web.post("/communities", { slug: "no spaces allowed", name: "Spaces" });
    expect(res.status).toBe(422);
    const alert = unescapeHtml(/<div class="alert" role="alert">([\s\S]*?)<\/div>/.exec(res.text)?.[1] ?? "");
    expect(alert).toMatch(/^Handle: may contain only letters/);
    expect(res.text).not.toMatch(/\bslug:/);
  });

  it("titles an erased account's page: This account was deleted", async () => {
    await seedUser(instance, "leaver");
    const web = await loggedIn(instance, "leaver");
    await web.get("/settings/erase");
    expect((await web.post("/settings/erase", { password: PASSWORD, confirm: "yes" })).status).toBe(303);
    const page = await browse("/@leaver");
    expect(page.status).toBe(410);
    expect(page.text).toMatch(/<title>This account was deleted[^<]*<\/title>/);
    expect(page.text).toContain("<h1>This account was deleted</h1>");
    expect(page.text).not.toContain("Something went wrong");
  });

  it("keeps heading levels in order on the tag page and the feed", async () => {
    const tag = await browse("/tags/pacing");
    expect(tag.text).toContain("Pacing that works");
    expect(headingLevels(tag.text)).toEqual([1, 2, 3]);
    const feed = await browse("/feed", await loggedIn(instance, "ann"));
    expect(feed.text).toContain("Pacing that works");
    expect(headingLevels(feed.text)[0]).toBe(1);
    expect(skipsALevel(headingLevels(feed.text)), headingLevels(feed.text).join(",")).toBe(false);
  });

  it("answers a browser's unknown addresses with the 404 page", async () => {
    for (const path of [
      "/no/such/page",
      `/posts/${crypto.randomUUID()}`,
      `/replies/${crypto.randomUUID()}`,
      "/@nobody",
    ]) {
      const res = await browse(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toMatch(/^text\/html/);
    }
  });

  it("logs a browser's 404 as 404, not 406", { timeout: 60_000 }, async () => {
    const server = await startLoggedServer("debug");
    try {
      // Addresses Fedify routes (objects, actors), where it hands a browser on to our pages.
      for (const path of [`/posts/${crypto.randomUUID()}`, "/@nobody", "/@nobody/outbox"]) {
        const res = await fetch(`${server.origin}${path}`, { headers: { accept: browserAccept } });
        expect(res.status, path).toBe(404);
        // Fedify's request log ("fedify·federation·http 'GET' '/@nobody': 404") and ours ("… 404 12ms").
        const lines = () =>
          server
            .output()
            .split("\n")
            .filter((l) => l.includes(`'${path}'`));
        const both = await waitFor(() => (lines().length >= 2 ? lines() : undefined), {
          label: `the log lines of ${path}`,
          describe: () => server.output().split("\n").slice(-5),
        });
        expect(both.find((l) => l.includes("fedify·federation·http"))).toMatch(/: 404$/);
        expect(both.find((l) => l.includes("kindred·http"))).toMatch(/ 404 \d+ms$/);
      }
      expect(server.output()).not.toMatch(/: 406$/m);
    } finally {
      await server.stop();
    }
  });

  it("says on a profile which thread each reply belongs to", async () => {
    await createReply(instance.runtime.db, instance.url, community, ann.actorId, thread.id, { body: "Same here." });
    const profile = await browse("/@ann");
    expect(profile.text).toContain(`Reply in <a href="/posts/${thread.id}">Pacing that works</a>`);
  });

  it("shows a local author's avatar beside posts, and only an initial for a remote one", async () => {
    const web = await loggedIn(instance, "admin");
    await web.get("/settings");
    const form = new FormData();
    for (const [k, v] of Object.entries({ displayName: "Admin", bio: "", email: "" })) form.set(k, v);
    form.set("avatar", new File([tinyPng()], "me.png", { type: "image/png" }));
    expect((await web.postMultipart("/settings/profile", form)).status).toBe(303);
    const avatar = (
      await instance.runtime.db
        .selectFrom("actors")
        .select("avatar_url")
        .where("id", "=", admin.actorId)
        .executeTakeFirst()
    )?.avatar_url;
    expect(avatar).toMatch(new RegExp(`^${instance.url}/media/avatars/`));

    // A Mastodon user with a picture on her own server replies in the thread.
    const alice = await mastodon.addActor("alice", { name: "Alice" });
    alice.document.icon = { type: "Image", mediaType: "image/png", url: `${mastodon.origin}/avatars/alice.png` };
    const reply = fixture("mastodon/create_note.json", {
      origin: mastodon.origin,
      host: mastodon.host,
      actor: alice.id,
      username: "alice",
      id: snowflake(),
      published: new Date().toISOString(),
      inReplyTo: `${instance.url}/posts/${thread.id}`,
      mentioned: `${instance.url}/@admin`,
      mentionedUrl: `${instance.url}/@admin`,
      mentionedName: "admin",
      mentionedHost: new URL(instance.url).host,
      text: "Pacing saved my year.",
      hashtag: "pacing",
    });
    expect((await mastodon.send(alice, `${community.iri}/inbox`, reply)).status).toBe(202);
    const page = await waitFor(
      async () => {
        const p = await browse(`/posts/${thread.id}`);
        return p.text.includes("Pacing saved my year.") ? p.text : undefined;
      },
      { label: "Alice's reply on the thread page" },
    );
    const stored = await instance.runtime.db
      .selectFrom("actors")
      .select("avatar_url")
      .where("iri", "=", alice.id)
      .executeTakeFirst();
    expect(stored?.avatar_url, "we know her picture's address").toBe(`${mastodon.origin}/avatars/alice.png`);
    expect(page).toContain(`<img class="avatar small" src="${avatar}"`);
    expect(page).toContain('<span class="avatar small initial" aria-hidden="true">A</span>');
    expect(page, "no picture from another server").not.toMatch(new RegExp(`<img[^>]+src="${mastodon.origin}`));
  });
});
