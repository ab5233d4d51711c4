// Threads and replies through the real app over real HTTP: posting, content
// warnings, hashtags, nesting, editing, deleting, likes, locks, bad input and
// CSRF, and content negotiation between the HTML page and ActivityPub JSON.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import {
  alertText,
  countRows,
  element,
  loggedIn,
  postOnOwnConnection,
  seedCommunity,
  seedThread,
  seedUser,
  threadTitles,
} from "../helpers/seed.ts";

const POST_ID = /^\/posts\/([0-9a-f-]{36})(?:#post-([0-9a-f-]{36}))?$/;

describe.each(dialects)("posts over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let mod: LocalUser;
  let writer: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let modWeb: WebClient;
  let writerWeb: WebClient;
  let readerWeb: WebClient;
  let thirdWeb: WebClient;
  let anonymous: WebClient;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    mod = await seedUser(instance, "mod_boss", { role: "admin" });
    writer = await seedUser(instance, "writer");
    await seedUser(instance, "reader");
    await seedUser(instance, "third");
    community = await seedCommunity(instance, mod, {
      slug: "sleep",
      name: "Sleep trouble",
      description: "Talk about sleep.",
    });
    [modWeb, writerWeb, readerWeb, thirdWeb] = await Promise.all([
      loggedIn(instance, "mod_boss"),
      loggedIn(instance, "writer"),
      loggedIn(instance, "reader"),
      loggedIn(instance, "third"),
    ]);
    anonymous = new WebClient(instance.url);
    for (const web of [writerWeb, readerWeb, thirdWeb]) expect((await web.post("/@sleep/join", {})).status).toBe(303);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const db = () => instance.runtime.db;
  const page = (web: WebClient, path: string) => web.get(path, { accept: "text/html" });
  const postRow = (id: string) => db().selectFrom("posts").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  /** Posts a thread through the compose form; returns its id. */
  async function postThread(web: WebClient, fields: { title: string; body?: string; cw?: string }): Promise<string> {
    expect((await page(web, "/@sleep/submit")).status).toBe(200);
    const res = await web.post("/@sleep/submit", { body: "", cw: "", ...fields });
    expect(res.status, res.text.slice(0, 500)).toBe(303);
    const m = POST_ID.exec(res.headers.get("location") ?? "");
    expect(m, `location ${res.headers.get("location")}`).not.toBeNull();
    return m![1]!;
  }

  /** Replies to a post through the reply form; returns the reply's id. */
  async function reply(web: WebClient, parentId: string, body: string): Promise<{ id: string; threadId: string }> {
    const res = await web.post(`/posts/${parentId}/replies`, { body, cw: "" });
    expect(res.status, res.text.slice(0, 500)).toBe(303);
    const m = POST_ID.exec(res.headers.get("location") ?? "");
    expect(m?.[2], `location ${res.headers.get("location")}`).toBeDefined();
    return { id: m![2]!, threadId: m![1]! };
  }

  describe("threads and replies", () => {
    let threadId: string;
    let first: string;
    let second: string;

    it("posts a thread with title, body, content warning and hashtag", async () => {
      threadId = await postThread(writerWeb, {
        title: "Night shifts & melatonin",
        body: "Has anyone tried **melatonin**? #Insomnia",
        cw: "medication talk",
      });
      const row = await postRow(threadId);
      expect(row).toMatchObject({
        type: "Page",
        title: "Night shifts & melatonin",
        source: "Has anyone tried **melatonin**? #Insomnia",
        summary: "medication talk",
        sensitive: 1,
        audience: "public",
        author_id: writer.actorId,
        community_id: community.id,
        thread_id: threadId,
        parent_id: null,
        iri: `${instance.url}/posts/${threadId}`,
      });
      const tags = await db().selectFrom("post_tags").select("tag").where("post_id", "=", threadId).execute();
      expect(tags).toEqual([{ tag: "insomnia" }]);
    });

    it("shows the thread with the content warning collapsed in <details>", async () => {
      const res = await page(anonymous, `/posts/${threadId}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain("<h1>Night shifts &amp; melatonin</h1>");
      const cw = element(res.text, '<details class="cw">');
      expect(cw, 'a <details class="cw"> without `open`').toBeDefined();
      expect(cw).toContain("<summary>Content warning: medication talk</summary>");
      expect(cw).toContain("Has anyone tried <strong>melatonin</strong>?");
      expect(cw).toContain(
        `<a href="${instance.url}/tags/insomnia" class="hashtag" rel="tag nofollow noopener noreferrer">#Insomnia</a>`,
      );
      // The body appears only inside the collapsed block.
      expect(res.text.split("<strong>melatonin</strong>").length).toBe(2);
    });

    it("lists the thread on its tag page, whatever the case of the tag", async () => {
      for (const path of ["/tags/insomnia", "/tags/INSOMNIA"]) {
        const res = await page(anonymous, path);
        expect(res.status).toBe(200);
        expect(res.text).toContain("<h1>#insomnia</h1>");
        expect(threadTitles(res.text)).toEqual(["Night shifts &amp; melatonin"]);
        expect(res.text).toContain(`<a href="/posts/${threadId}">`);
      }
      const other = await page(anonymous, "/tags/sleepless");
      expect(threadTitles(other.text)).toEqual([]);
      expect(other.text).toContain("No public posts with this tag.");
    });

    it("nests a reply to a reply (depth 2) under its parent", async () => {
      const r1 = await reply(readerWeb, threadId, "First-level reply");
      expect(r1.threadId).toBe(threadId);
      first = r1.id;
      const r2 = await reply(writerWeb, first, "Second-level reply");
      expect(r2.threadId).toBe(threadId);
      second = r2.id;
      expect(await postRow(first)).toMatchObject({
        type: "Note",
        parent_id: threadId,
        thread_id: threadId,
        iri: `${instance.url}/replies/${first}`,
      });
      expect(await postRow(second)).toMatchObject({ type: "Note", parent_id: first, thread_id: threadId });

      const res = await page(anonymous, `/posts/${threadId}`);
      expect(res.text).toContain('<h2 id="replies-h">2 replies</h2>');
      const discussion = element(res.text, '<section class="discussion"')!;
      const topLevel = element(discussion, '<ol class="replies">')!;
      const firstItem = element(topLevel, `<li id="post-${first}">`);
      expect(firstItem).toBeDefined();
      expect(firstItem).toContain("First-level reply");
      const nested = element(firstItem!.slice(1), '<ol class="replies">');
      expect(nested, "the second reply sits in a list inside the first").toBeDefined();
      const secondItem = element(nested!, `<li id="post-${second}">`);
      expect(secondItem).toContain("Second-level reply");
      // ...and nowhere else: not as a sibling of the first reply.
      expect(res.text.split(`id="post-${second}"`).length).toBe(2);
    });

    it("lets the author edit: new text, and the post says edited", async () => {
      const form = await page(writerWeb, `/posts/${threadId}/edit`);
      expect(form.status).toBe(200);
      expect(form.text).toContain('value="Night shifts &amp; melatonin"');
      const res = await writerWeb.post(`/posts/${threadId}/edit`, {
        title: "Night shifts and melatonin (update)",
        body: "It helped after two weeks. #insomnia",
        cw: "",
      });
      expect(res.status).toBe(303);
      const row = await postRow(threadId);
      expect(row.title).toBe("Night shifts and melatonin (update)");
      expect(row.summary).toBeNull();
      expect(row.updated_at).not.toBeNull();

      const view = await page(anonymous, `/posts/${threadId}`);
      expect(view.text).toContain("<h1>Night shifts and melatonin (update)</h1>");
      expect(view.text).toContain("It helped after two weeks.");
      expect(view.text).not.toContain("melatonin</strong>");
      expect(element(view.text, `<article class="thread"`)).toContain('<span class="edited">edited <time');
      expect(view.text).not.toContain('<details class="cw">');
    });

    it("refuses an edit by someone else with 403 and changes nothing", async () => {
      const before = await postRow(threadId);
      expect((await page(readerWeb, `/posts/${threadId}/edit`)).status).toBe(403);
      const res = await readerWeb.post(`/posts/${threadId}/edit`, { title: "Hijacked", body: "Hijacked", cw: "" });
      expect(res.status).toBe(403);
      // Not even a moderator edits another member's words.
      expect((await modWeb.post(`/posts/${first}/edit`, { body: "Rewritten by mod", cw: "" })).status).toBe(403);
      expect(await postRow(threadId)).toEqual(before);
      expect((await postRow(first)).source).toBe("First-level reply");
    });

    it("edits a reply by its author and shows it edited", async () => {
      const res = await readerWeb.post(`/posts/${first}/edit`, { body: "First-level reply, corrected", cw: "" });
      expect(res.status).toBe(303);
      const view = await page(anonymous, `/posts/${threadId}`);
      const item = element(view.text, `<li id="post-${first}">`)!;
      expect(item).toContain("First-level reply, corrected");
      expect(element(item, '<article class="reply">')).toContain('<span class="edited">edited');
    });

    it("counts likes up and down, idempotently", async () => {
      const likes = () => countRows(instance, "likes", ["post_id", threadId]);
      const shown = async (web: WebClient) =>
        /<span class="likes">(\d+)<\/span>/.exec(
          element((await page(web, `/posts/${threadId}`)).text, `<article class="thread"`)!,
        )?.[1];

      expect((await thirdWeb.post(`/posts/${threadId}/like`, {})).status).toBe(303);
      expect(await likes()).toBe(1);
      expect((await thirdWeb.post(`/posts/${threadId}/like`, {})).status).toBe(303);
      expect(await likes()).toBe(1);
      expect((await readerWeb.post(`/posts/${threadId}/like`, {})).status).toBe(303);
      expect(await likes()).toBe(2);
      expect(await shown(thirdWeb)).toBe("2");
      expect((await page(thirdWeb, `/posts/${threadId}`)).text).toContain(`action="/posts/${threadId}/unlike"`);

      expect((await thirdWeb.post(`/posts/${threadId}/unlike`, {})).status).toBe(303);
      expect(await likes()).toBe(1);
      expect((await thirdWeb.post(`/posts/${threadId}/unlike`, {})).status).toBe(303);
      expect(await likes()).toBe(1);
      expect(await shown(thirdWeb)).toBe("1");
      expect((await page(thirdWeb, `/posts/${threadId}`)).text).toContain(`action="/posts/${threadId}/like"`);
      // Anonymous readers see the count and no button.
      expect((await page(anonymous, `/posts/${threadId}`)).text).toContain('<span class="likes">1 like</span>');
    });

    it("lets a moderator remove (not delete) another member's reply, and logs it; other members may not", async () => {
      const target = await reply(thirdWeb, threadId, "A reply the moderator removes");
      expect((await readerWeb.post(`/posts/${target.id}/delete`, {})).status).toBe(403);
      expect((await readerWeb.post(`/posts/${target.id}/remove`, { reason: "" })).status).toBe(403);
      expect((await postRow(target.id)).deleted_at).toBeNull();
      // Deleting is the author's: a moderator removes, which can be undone.
      expect((await modWeb.post(`/posts/${target.id}/delete`, {})).status).toBe(403);
      expect((await postRow(target.id)).deleted_at).toBeNull();

      const res = await modWeb.post(`/posts/${target.id}/remove`, { reason: "Off topic" });
      expect(res.status).toBe(303);
      const row = await postRow(target.id);
      expect(row.deleted_at).toBeNull();
      expect(row.removed_at).not.toBeNull();
      const view = await page(anonymous, `/posts/${threadId}`);
      expect(view.text).not.toContain("A reply the moderator removes");
      expect(element(view.text, `<li id="post-${target.id}">`)).toContain("[removed by a moderator]");
      const actions = await db()
        .selectFrom("moderation_actions")
        .select(["action", "moderator_id", "target_post_id", "target_actor_id", "reason"])
        .where("target_post_id", "=", target.id)
        .execute();
      expect(actions).toEqual([
        {
          action: "remove_post",
          moderator_id: mod.actorId,
          target_post_id: target.id,
          target_actor_id: row.author_id,
          reason: "Off topic",
        },
      ]);
    });

    it("refuses a reply to a locked thread with 403", async () => {
      await db().updateTable("posts").set({ locked: 1 }).where("id", "=", threadId).execute();
      const before = await countRows(instance, "posts", ["thread_id", threadId]);
      const res = await readerWeb.post(`/posts/${threadId}/replies`, { body: "Too late", cw: "" });
      expect(res.status).toBe(403);
      expect(res.text).toContain("this thread is locked");
      // Also deeper in the thread.
      expect((await readerWeb.post(`/posts/${second}/replies`, { body: "Too late", cw: "" })).status).toBe(403);
      expect(await countRows(instance, "posts", ["thread_id", threadId])).toBe(before);
      const view = await page(readerWeb, `/posts/${threadId}`);
      expect(view.text).toContain('<p class="notice">This thread is locked.</p>');
      expect(view.text).not.toContain(`action="/posts/${threadId}/replies"`);
    });
  });

  describe("deleting", () => {
    it("by the author leaves a [deleted] placeholder while the replies stay visible", async () => {
      const threadId = await postThread(writerWeb, { title: "A thread I will delete", body: "Original words" });
      const r = await reply(readerWeb, threadId, "A reply that must survive");
      const res = await writerWeb.post(`/posts/${threadId}/delete`, {});
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/@sleep");

      const row = await postRow(threadId);
      expect(row).toMatchObject({ title: null, source: null, content_html: "" });
      expect(row.deleted_at).not.toBeNull();
      expect(await countRows(instance, "moderation_actions", ["target_post_id", threadId])).toBe(0);

      const view = await page(anonymous, `/posts/${threadId}`);
      expect(view.status).toBe(200);
      expect(view.text).toContain("<h1>[deleted]</h1>");
      expect(element(view.text, `<article class="thread"`)).toContain('<p class="placeholder">[deleted]</p>');
      expect(view.text).not.toContain("A thread I will delete");
      expect(view.text).not.toContain("Original words");
      expect(element(view.text, `<li id="post-${r.id}">`)).toContain("A reply that must survive");
      expect(threadTitles((await page(anonymous, "/@sleep")).text)).not.toContain("A thread I will delete");
    });

    it("refuses new replies to a deleted thread or a deleted reply, writing nothing", async () => {
      const threadId = await postThread(writerWeb, { title: "Deleted before anyone answered" });
      const doomed = await reply(readerWeb, threadId, "This reply will be deleted");
      expect((await readerWeb.post(`/posts/${doomed.id}/delete`, {})).status).toBe(303);
      expect((await writerWeb.post(`/posts/${threadId}/delete`, {})).status).toBe(303);
      // The page offers no reply form any more...
      const view = await page(thirdWeb, `/posts/${threadId}`);
      expect(view.text).not.toContain(`action="/posts/${threadId}/replies"`);
      expect(view.text).not.toContain(`action="/posts/${doomed.id}/replies"`);
      // ...and a hand-made POST is refused too.
      const posts = await countRows(instance, "posts");
      const statuses = {
        deletedThread: (await thirdWeb.post(`/posts/${threadId}/replies`, { body: "Talking to a tombstone", cw: "" }))
          .status,
        deletedReply: (await thirdWeb.post(`/posts/${doomed.id}/replies`, { body: "Talking to a tombstone", cw: "" }))
          .status,
      };
      const refused = Object.values(statuses).every((status) => [403, 404, 410].includes(status));
      expect(refused, `statuses of replies to deleted posts: ${JSON.stringify(statuses)}`).toBe(true);
      expect(await countRows(instance, "posts")).toBe(posts);
    });

    it("a deleted reply keeps its place: its own replies stay visible", async () => {
      const threadId = await postThread(writerWeb, { title: "Thread with a deleted middle" });
      const middle = await reply(readerWeb, threadId, "Middle reply, soon gone");
      const child = await reply(thirdWeb, middle.id, "Child of the deleted reply");
      expect((await readerWeb.post(`/posts/${middle.id}/delete`, {})).status).toBe(303);
      const view = await page(anonymous, `/posts/${threadId}`);
      const item = element(view.text, `<li id="post-${middle.id}">`)!;
      expect(item).toContain('<p class="placeholder">[deleted]</p>');
      expect(item).not.toContain("Middle reply, soon gone");
      expect(element(item, `<li id="post-${child.id}">`)).toContain("Child of the deleted reply");
    });
  });

  describe("bad input", () => {
    it("empty title → 422 and no row", async () => {
      const posts = await countRows(instance, "posts");
      await page(writerWeb, "/@sleep/submit");
      for (const title of ["", "   "]) {
        const res = await writerWeb.post("/@sleep/submit", { title, body: "Body without a title", cw: "" });
        expect(res.status).toBe(422);
        expect(alertText(res.text)).toBe("title: is required");
        expect(res.text).toContain('<p class="error" id="title-error" role="alert">is required</p>');
        // The form comes back filled in.
        expect(res.text).toContain(">Body without a title</textarea>");
      }
      expect(await countRows(instance, "posts")).toBe(posts);
    });

    it("a body of 50,001 characters → 422 and no row; 50,000 is accepted", async () => {
      const posts = await countRows(instance, "posts");
      await page(writerWeb, "/@sleep/submit");
      const res = await writerWeb.post("/@sleep/submit", { title: "Too long", body: "x".repeat(50_001), cw: "" });
      expect(res.status).toBe(422);
      expect(alertText(res.text)).toBe("body: must be at most 50000 characters");
      expect(await countRows(instance, "posts")).toBe(posts);

      const id = await postThread(writerWeb, { title: "Exactly at the limit", body: "y".repeat(50_000) });
      expect((await postRow(id)).source).toHaveLength(50_000);
    });

    it("a request body over 1 MiB → 413 and no row", async () => {
      const posts = await countRows(instance, "posts");
      await page(writerWeb, "/@sleep/submit");
      const body = new URLSearchParams({
        _csrf: writerWeb.csrf,
        title: "Huge",
        body: "z".repeat(1024 * 1024 + 1),
        cw: "",
      }).toString();
      const res = await postOnOwnConnection(
        `${instance.url}/@sleep/submit`,
        {
          "content-type": "application/x-www-form-urlencoded",
          cookie: `kindred_csrf=${writerWeb.cookie("kindred_csrf")}; kindred_session=${writerWeb.cookie("kindred_session")}`,
        },
        body,
      );
      expect(res.status).toBe(413);
      expect(res.text).toContain("the request body is larger than 1024 KiB");
      expect(await countRows(instance, "posts")).toBe(posts);
    });

    it("a missing CSRF token → 403 naming CSRF, and no row", async () => {
      const posts = await countRows(instance, "posts");
      await page(writerWeb, "/@sleep/submit");
      const res = await writerWeb.post("/@sleep/submit", { title: "Forged", body: "Forged", cw: "" }, { csrf: false });
      expect(res.status).toBe(403);
      expect(res.text).toContain("CSRF");
      expect(await countRows(instance, "posts")).toBe(posts);
    });

    it("a wrong CSRF token → 403, and no row", async () => {
      const posts = await countRows(instance, "posts");
      await page(writerWeb, "/@sleep/submit");
      const res = await writerWeb.post(
        "/@sleep/submit",
        { title: "Forged", body: "Forged", cw: "" },
        { csrf: "A".repeat(43) },
      );
      expect(res.status).toBe(403);
      expect(res.text).toContain("CSRF");
      // Another browser's valid token does not fit this browser's cookie either.
      const other = new WebClient(instance.url);
      await other.get("/login");
      const crossed = await writerWeb.post(
        "/@sleep/submit",
        { title: "Forged", body: "Forged", cw: "" },
        { csrf: other.csrf },
      );
      expect(crossed.status).toBe(403);
      expect(await countRows(instance, "posts")).toBe(posts);
    });

    it("a reply with an empty body → 422 and no row", async () => {
      const threadId = await postThread(writerWeb, { title: "Reply target" });
      const posts = await countRows(instance, "posts");
      for (const body of ["", "  \n  "]) {
        const res = await readerWeb.post(`/posts/${threadId}/replies`, { body, cw: "" });
        expect(res.status).toBe(422);
        expect(res.text).toContain('<p class="error" id="body-error" role="alert">is required</p>');
      }
      expect(await countRows(instance, "posts")).toBe(posts);
    });

    it("posting while logged out → 401 and no row", async () => {
      const posts = await countRows(instance, "posts");
      await anonymous.get("/login");
      const res = await anonymous.post("/@sleep/submit", { title: "Anonymous", body: "", cw: "" });
      expect(res.status).toBe(401);
      expect(await countRows(instance, "posts")).toBe(posts);
    });
  });

  describe("content negotiation", () => {
    let threadId: string;
    let replyId: string;
    let nestedId: string;

    beforeAll(async () => {
      threadId = await postThread(writerWeb, { title: "Federated thread", body: "Hello fediverse #sleep" });
      replyId = (await reply(readerWeb, threadId, "Federated reply")).id;
      nestedId = (await reply(writerWeb, replyId, "Federated nested reply")).id;
    });

    const json = async (path: string) => {
      const res = await fetch(new URL(path, instance.url), {
        headers: { accept: "application/activity+json" },
        redirect: "manual",
      });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/activity\+json/);
      return (await res.json()) as Record<string, unknown>;
    };

    it("serves a thread IRI as an ActivityPub Page with its name and the community as audience", async () => {
      const page = await json(`/posts/${threadId}`);
      expect(page).toMatchObject({
        type: "Page",
        id: `${instance.url}/posts/${threadId}`,
        url: `${instance.url}/posts/${threadId}`,
        name: "Federated thread",
        audience: `${instance.url}/@sleep`,
        // The full IRI: servers that do no JSON-LD processing only recognise it (FEDERATION.md).
        to: "https://www.w3.org/ns/activitystreams#Public",
      });
      expect(page.content).toContain("Hello fediverse");
      expect(page.inReplyTo).toBeUndefined();
      // The hashtag travels too (compacted as `Hashtag` or `as:Hashtag`, both the same JSON-LD term).
      const tag = page.tag as Record<string, unknown>;
      expect(["Hashtag", "as:Hashtag"]).toContain(tag.type);
      expect(tag).toMatchObject({ name: "#sleep", href: `${instance.url}/tags/sleep` });
    });

    it("attributes the Page to its author (attributedTo)", async () => {
      const page = await json(`/posts/${threadId}`);
      expect(page.attributedTo).toBe(`${instance.url}/@writer`);
    });

    it("serves the same URL as the HTML page to browsers", async () => {
      const res = await fetch(new URL(`/posts/${threadId}`, instance.url), {
        headers: { accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8" },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      const text = await res.text();
      expect(text).toContain("<h1>Federated thread</h1>");
    });

    it("serves a reply IRI as a Note in the community", async () => {
      const note = await json(`/replies/${replyId}`);
      expect(note).toMatchObject({
        type: "Note",
        id: `${instance.url}/replies/${replyId}`,
        audience: `${instance.url}/@sleep`,
      });
      expect(note.content).toContain("Federated reply");
      expect(note.name).toBeUndefined();
    });

    it("serves a reply's inReplyTo (the thread, or the reply it answers) and its attributedTo", async () => {
      const note = await json(`/replies/${replyId}`);
      expect(note.inReplyTo).toBe(`${instance.url}/posts/${threadId}`);
      expect(note.attributedTo).toBe(`${instance.url}/@reader`);
      const nested = await json(`/replies/${nestedId}`);
      expect(nested.inReplyTo).toBe(`${instance.url}/replies/${replyId}`);
    });

    it("sends browsers from a reply IRI to its place in the thread", async () => {
      const res = await page(anonymous, `/replies/${replyId}`);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(`/posts/${threadId}#post-${replyId}`);
    });

    it("does not serve a deleted post as ActivityPub", async () => {
      const id = await postThread(writerWeb, { title: "Gone soon" });
      expect((await writerWeb.post(`/posts/${id}/delete`, {})).status).toBe(303);
      const res = await fetch(new URL(`/posts/${id}`, instance.url), {
        headers: { accept: "application/activity+json" },
      });
      const body = await res.text();
      // 410 Gone, as Mastodon answers for deleted statuses, so peers drop their copies.
      expect(res.status).toBe(410);
      expect(body).not.toContain('"type":"Page"');
      expect(body).not.toContain("Gone soon");
    });
  });

  it("seeded threads show up on the community page too", async () => {
    const seeded = await seedThread(instance, community, writer, "Seeded straight into the database");
    const view = await page(anonymous, "/@sleep");
    expect(threadTitles(view.text)[0]).toBe("Seeded straight into the database");
    expect(view.text).toContain(`<a href="/posts/${seeded.id}">`);
  });
});
