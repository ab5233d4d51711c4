// RSS and Atom feeds over real HTTP, on both databases: each document is
// parsed by Chromium's strict XML parser (a feed reader rejects a document
// that is not well-formed), lists only public posts, and escapes what
// members write. The escaper itself is checked on every character class.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { getCommunity, updateCommunity } from "../../src/communities/service.ts";
import { escapeXml, renderAtom, renderRss } from "../../src/feeds/xml.ts";
import { removePost } from "../../src/moderation/posts.ts";
import { createReply, createThread, deletePost } from "../../src/posts/service.ts";
import { launchChromium } from "../helpers/browser.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
});

interface Parsed {
  ok: boolean;
  root: string;
  /** Title, link and text content (the post's HTML, unescaped once) of each item or entry. */
  items: { title: string; link: string; body: string; id: string }[];
}

/** Parses a feed with the browser's XML parser: any well-formedness error yields a `parsererror`. */
function parseFeed(text: string): Promise<Parsed> {
  return page.evaluate((xml) => {
    const doc = new DOMParser().parseFromString(xml, "application/xml");
    const ok = doc.getElementsByTagName("parsererror").length === 0;
    const root = doc.documentElement.localName;
    const child = (el: Element, name: string) => [...el.children].find((c) => c.localName === name);
    const entries = [...doc.documentElement.getElementsByTagName(root === "rss" ? "item" : "entry")];
    const items = entries.map((el) => ({
      title: child(el, "title")?.textContent ?? "",
      link: root === "rss" ? (child(el, "link")?.textContent ?? "") : (child(el, "link")?.getAttribute("href") ?? ""),
      body: child(el, root === "rss" ? "description" : "content")?.textContent ?? "",
      id: child(el, root === "rss" ? "guid" : "id")?.textContent ?? "",
    }));
    return { ok, root, items };
  }, text);
}

describe("the XML escaper", () => {
  it("escapes the five special characters and drops characters XML 1.0 forbids", () => {
    expect(escapeXml(`<b>&"'`)).toBe("&lt;b&gt;&amp;&quot;&apos;");
    expect(escapeXml("a\u0000b\u0008c\u000bd\u001fe\ufffef\uffff")).toBe("abcdef");
    expect(escapeXml("tab\tnl\ncr\r")).toBe("tab\tnl\ncr\r");
    // A lone surrogate goes; a real pair (an emoji) stays.
    expect(escapeXml("x\ud800y\udc00z 🙂")).toBe("xyz 🙂");
    expect(escapeXml("é中\u2028")).toBe("é中\u2028");
  });

  it("makes documents Chromium parses back to the exact strings, whatever they hold", async () => {
    const nasty = `]]> <![CDATA[ </title> & &amp; "q" 'a' \u0001 <script>x</script>`;
    const feed = {
      title: nasty,
      description: nasty,
      link: "http://example.test/@x?a=1&b=2",
      self: "http://example.test/@x.rss",
      items: [
        {
          id: "http://example.test/posts/1?x=<y>",
          link: "http://example.test/posts/1?a=1&b=2",
          title: nasty,
          html: `<p>${nasty}</p>`,
          author: nasty,
          published: "2026-01-02T03:04:05.000Z",
          updated: null,
        },
      ],
    };
    const clean = nasty.replace("\u0001", "");
    for (const text of [renderRss(feed), renderAtom(feed)]) {
      const parsed = await parseFeed(text);
      expect(parsed.ok, text).toBe(true);
      expect(parsed.items).toEqual([
        {
          title: clean,
          link: "http://example.test/posts/1?a=1&b=2",
          body: `<p>${clean}</p>`,
          id: "http://example.test/posts/1?x=<y>",
        },
      ]);
    }
    expect(renderRss(feed)).toContain("<pubDate>Fri, 02 Jan 2026 03:04:05 GMT</pubDate>");
    expect(renderAtom(feed)).toContain("<published>2026-01-02T03:04:05.000Z</published>");
  });

  it("fails on a broken document (the check can fail)", async () => {
    expect((await parseFeed("<rss><channel><title>a & b</title></channel></rss>")).ok).toBe(false);
    expect((await parseFeed("<rss><channel><title>a</channel></rss>")).ok).toBe(false);
  });
});

describe.each(dialects)("feeds over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let boss: LocalUser;
  let pat: LocalUser;
  let anonymous: WebClient;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    const db = instance.runtime.db;
    boss = await seedUser(instance, "feed_boss", { role: "admin" });
    pat = await seedUser(instance, "pat");
    const sunrise = await seedCommunity(instance, boss, { slug: "sunrise", name: "Sunrise & <Dawn>" });
    const owls = await seedCommunity(instance, boss, { slug: "owls", name: "Owls", visibility: "members" });
    const quiet = await seedCommunity(instance, boss, { slug: "quiet", name: "Quiet", federation: "local" });
    ids.escaped = (await seedThread(instance, sunrise, pat, "Tips <b>& tricks</b>", "Walk slowly. #pacing")).id;
    ids.warned = (
      await createThread(db, instance.url, sunrise, pat.actorId, {
        title: "Bad day",
        body: "It was hard.",
        cw: "low mood <3",
      })
    ).id;
    ids.secret = (await seedThread(instance, owls, boss, "zqsecret owl thread", "Members only. #pacing")).id;
    ids.removed = (await seedThread(instance, sunrise, pat, "zqremoved thread", "Gone soon. #pacing")).id;
    await removePost(db, instance.url, { role: "admin", actorId: boss.actorId }, ids.removed, { reason: "Spam" });
    ids.deleted = (await seedThread(instance, sunrise, pat, "zqdeleted thread", "Deleted. #pacing")).id;
    await deletePost(db, ids.deleted, pat.actorId);
    ids.reply = (await createReply(db, instance.url, sunrise, pat.actorId, ids.escaped, { body: "Me too #pacing" })).id;
    ids.removedReply = (
      await createReply(db, instance.url, sunrise, pat.actorId, ids.escaped, { body: "zqremovedreply #pacing" })
    ).id;
    await removePost(db, instance.url, { role: "admin", actorId: boss.actorId }, ids.removedReply, { reason: "Spam" });
    ids.local = (await seedThread(instance, quiet, pat, "Quiet thread", "Local only.")).id;
    anonymous = new WebClient(instance.url);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  async function feed(path: string, type: string) {
    const res = await anonymous.get(path);
    expect(res.status, `${path}: ${res.text.slice(0, 200)}`).toBe(200);
    expect(res.headers.get("content-type")).toBe(`${type}; charset=utf-8`);
    const parsed = await parseFeed(res.text);
    expect(parsed.ok, res.text).toBe(true);
    return { ...parsed, text: res.text, res };
  }

  it("a community's RSS and Atom list its public threads only, titles escaped", async () => {
    const rss = await feed("/@sunrise.rss", "application/rss+xml");
    const atom = await feed("/@sunrise.atom", "application/atom+xml");
    expect(rss.root).toBe("rss");
    expect(atom.root).toBe("feed");
    for (const f of [rss, atom]) {
      expect(f.items.map((i) => i.title)).toEqual(["Bad day", "Tips <b>& tricks</b>"]);
      expect(f.items[1]!.link).toBe(`${instance.url}/posts/${ids.escaped}`);
      expect(f.items[1]!.id).toBe(`${instance.url}/posts/${ids.escaped}`);
      expect(f.items[1]!.body).toContain("Walk slowly.");
      // The content warning comes first, as HTML text.
      expect(f.items[0]!.body).toMatch(/^<p><strong>Content warning:<\/strong> low mood &lt;3<\/p>/);
      expect(f.text).not.toMatch(/zqremoved|zqdeleted|zqsecret/);
      expect(f.text).toContain("Sunrise &amp; &lt;Dawn&gt;");
    }
    expect(rss.text).toContain("<title>Tips &lt;b&gt;&amp; tricks&lt;/b&gt;</title>");
    expect(rss.text).toMatch(/<pubDate>\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT<\/pubDate>/);
    expect(atom.text).toMatch(/<updated>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z<\/updated>/);
  });

  it("a member's feed lists their public posts (a reply names its thread), nothing members-only", async () => {
    const rss = await feed("/@pat.rss", "application/rss+xml");
    expect(rss.items.map((i) => i.title)).toEqual([
      "Quiet thread",
      "Re: Tips <b>& tricks</b>",
      "Bad day",
      "Tips <b>& tricks</b>",
    ]);
    expect(rss.items[1]!.link).toBe(`${instance.url}/posts/${ids.escaped}#post-${ids.reply}`);
    expect((await feed("/@PAT.atom", "application/atom+xml")).items).toHaveLength(4);
    // The boss wrote only in the members-only community.
    expect((await feed("/@feed_boss.rss", "application/rss+xml")).items).toEqual([]);
  });

  it("a hashtag's feed lists public posts with it, never members-only, removed or deleted ones", async () => {
    for (const path of ["/tags/pacing.rss", "/tags/PACING.atom"]) {
      const f = await feed(path, path.endsWith("rss") ? "application/rss+xml" : "application/atom+xml");
      expect(f.items.map((i) => i.title)).toEqual(["Re: Tips <b>& tricks</b>", "Tips <b>& tricks</b>"]);
      expect(f.text).not.toMatch(/zqremoved|zqdeleted|zqsecret/);
    }
  });

  it("a removed thread or reply is in no feed", async () => {
    for (const path of ["/@sunrise.rss", "/@pat.atom", "/tags/pacing.rss", "/tags/pacing.atom"]) {
      const res = await anonymous.get(path);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(ids.removed);
      expect(res.text).not.toContain(ids.removedReply);
      expect(res.text).not.toContain("zqremovedreply");
    }
  });

  it("a members-only community has no feed, for visitors and members alike; unknown names have none", async () => {
    const member = await loggedIn(instance, "feed_boss");
    for (const client of [anonymous, member]) {
      for (const path of ["/@owls.rss", "/@owls.atom"]) expect((await client.get(path)).status).toBe(404);
    }
    for (const path of ["/@nobody.rss", "/@instance.rss", "/@pat@example.org.rss", "/@pat.json"]) {
      expect((await anonymous.get(path)).status, path).toBe(404);
    }
  });

  it("a local-only community's public page has a feed", async () => {
    const f = await feed("/@quiet.rss", "application/rss+xml");
    expect(f.items.map((i) => i.title)).toEqual(["Quiet thread"]);
  });

  it("a community made members-only later takes its older public threads out of every feed", async () => {
    const db = instance.runtime.db;
    const turned = await seedCommunity(instance, boss, { slug: "turned", name: "Turned" });
    const t = await seedThread(instance, turned, pat, "zqturned thread", "Was public. #pacing");
    expect((await anonymous.get("/tags/pacing.rss")).text).toContain("zqturned");
    await updateCommunity(db, instance.url, turned.id, { name: "Turned", visibility: "members" });
    expect((await anonymous.get("/@turned.rss")).status).toBe(404);
    for (const path of ["/tags/pacing.rss", "/@pat.atom"]) {
      const res = await anonymous.get(path);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(t.id);
      expect(res.text).not.toContain("zqturned");
    }
  });

  it("a hashtag with letters beyond ASCII has its feed, and post links in a feed are absolute", async () => {
    const sunrise = await getCommunity(instance.runtime.db, "sunrise");
    await seedThread(instance, sunrise, pat, "Café talk", "Coffee and POTS. #Café");
    const f = await feed(`/tags/${encodeURIComponent("café")}.rss`, "application/rss+xml");
    expect(f.items.map((i) => i.title)).toEqual(["Café talk"]);
    expect(f.items[0]!.body).toContain(`href="${instance.url}/tags/caf`);
    expect(f.text).toContain(`<link>${instance.url}/tags/caf%C3%A9</link>`);
  });

  it("an unchanged feed answers 304 to its ETag, and a new post changes it", async () => {
    const first = await anonymous.get("/@sunrise.atom");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get("last-modified")).toMatch(/GMT$/);
    expect((await anonymous.get("/@sunrise.atom", { "if-none-match": etag! })).status).toBe(304);
    const sunrise = await getCommunity(instance.runtime.db, "sunrise");
    await seedThread(instance, sunrise, pat, "A newer thread");
    const after = await anonymous.get("/@sunrise.atom", { "if-none-match": etag! });
    expect(after.status).toBe(200);
    expect(after.text).toContain("A newer thread");
  });
});
