// Autodiscovery over real HTTP, on both databases: community, profile and
// hashtag pages name their feeds in `<link rel="alternate">`; actor and post
// pages name their ActivityPub object there and in a `Link` header, as
// Mastodon does. Nothing members-only, removed or limited is pointed at.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { upsertRemoteActor } from "../../src/actors/remote.ts";
import { removePost } from "../../src/moderation/posts.ts";
import { receivePost } from "../../src/posts/remote.ts";
import { createReply } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";

/** The `<link rel="alternate">` elements of a page's head, as type → href. */
function alternates(html: string): Record<string, string> {
  const head = html.slice(0, html.indexOf("</head>"));
  const out: Record<string, string> = {};
  for (const m of head.matchAll(/<link rel="alternate" type="([^"]+)" href="([^"]+)"/g)) out[m[1]!] = m[2]!;
  return out;
}

const AP = "application/activity+json";
const RSS = "application/rss+xml";
const ATOM = "application/atom+xml";

describe.each(dialects)("discovery links (%s)", (dialect) => {
  let instance: TestInstance;
  let boss: LocalUser;
  let pat: LocalUser;
  let anonymous: WebClient;
  let origin: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    origin = instance.url;
    const db = instance.runtime.db;
    boss = await seedUser(instance, "disc_boss", { role: "admin" });
    pat = await seedUser(instance, "pat");
    const sunrise = await seedCommunity(instance, boss, { slug: "sunrise", name: "Sunrise" });
    const owls = await seedCommunity(instance, boss, { slug: "owls", name: "Owls", visibility: "members" });
    const quiet = await seedCommunity(instance, boss, { slug: "quiet", name: "Quiet", federation: "local" });
    ids.thread = (await seedThread(instance, sunrise, pat, "Morning", "Walks. #dawn")).id;
    ids.reply = (await createReply(db, origin, sunrise, boss.actorId, ids.thread, { body: "Hello" })).id;
    ids.secret = (await seedThread(instance, owls, boss, "Owl thread", "Members only.")).id;
    ids.removed = (await seedThread(instance, sunrise, pat, "Removed", "Gone.")).id;
    await removePost(db, origin, { role: "admin", actorId: boss.actorId }, ids.removed, { reason: "Spam" });
    ids.local = (await seedThread(instance, quiet, pat, "Quiet thread", "Local only.")).id;
    const remoteActor = {
      type: "Person" as const,
      name: "Rae",
      summaryHtml: null,
      url: null,
      inboxUrl: "https://far.example/users/rae/inbox",
      sharedInboxUrl: null,
      outboxUrl: null,
      followersUrl: null,
      followingUrl: null,
      featuredUrl: null,
      avatarUrl: null,
      manuallyApprovesFollowers: false,
      discoverable: true,
    };
    const rae = await upsertRemoteActor(db, {
      ...remoteActor,
      iri: "https://far.example/users/rae",
      username: "rae",
      host: "far.example",
    });
    const post = (iri: string, title: string, limited: boolean) =>
      receivePost(db, {
        iri,
        url: null,
        type: "Page",
        authorId: rae,
        communityId: sunrise.id,
        parentId: null,
        title,
        contentHtml: "<p>From afar.</p>",
        summary: null,
        sensitive: false,
        audience: "public",
        language: null,
        publishedAt: new Date().toISOString(),
        updatedAt: null,
        tags: ["dawn"],
        limited,
      });
    const remote = await post("https://far.example/posts/1", "From afar", false);
    const limited = await post("https://far.example/posts/2", "zqlimited", true);
    if (!remote.stored || !limited.stored) throw new Error("remote posts were not stored");
    ids.remote = remote.postId;
    ids.limited = limited.postId;
    anonymous = new WebClient(origin);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const linkHeader = (res: Response) => res.headers.get("link");
  const apLink = (iri: string) => `<${iri}>; rel="alternate"; type="${AP}"`;

  it("a community page names its RSS and Atom feeds and its Group", async () => {
    const res = await anonymous.get("/@sunrise");
    expect(res.status).toBe(200);
    expect(alternates(res.text)).toEqual({
      [RSS]: `${origin}/@sunrise.rss`,
      [ATOM]: `${origin}/@sunrise.atom`,
      [AP]: `${origin}/@sunrise`,
    });
    expect(res.text).toMatch(
      /<link rel="alternate" type="application\/rss\+xml" href="[^"]+" title="Sunrise \(RSS\)">/,
    );
    expect(linkHeader(res)).toBe(apLink(`${origin}/@sunrise`));
    // The advertised feed is there.
    expect((await anonymous.get("/@sunrise.rss")).status).toBe(200);
  });

  it("a member's profile names their feeds and their Person, whatever case the address has", async () => {
    for (const path of ["/@pat", "/@PAT"]) {
      const res = await anonymous.get(path);
      expect(res.status).toBe(200);
      expect(alternates(res.text)).toEqual({
        [RSS]: `${origin}/@pat.rss`,
        [ATOM]: `${origin}/@pat.atom`,
        [AP]: `${origin}/@pat`,
      });
      expect(linkHeader(res)).toBe(apLink(`${origin}/@pat`));
    }
  });

  it("a hashtag page names its feeds (and no ActivityPub object)", async () => {
    const res = await anonymous.get("/tags/Dawn");
    expect(res.status).toBe(200);
    expect(alternates(res.text)).toEqual({ [RSS]: `${origin}/tags/dawn.rss`, [ATOM]: `${origin}/tags/dawn.atom` });
    expect(linkHeader(res)).toBeNull();
    const feed = await anonymous.get("/tags/dawn.rss");
    expect(feed.text).toContain("From afar");
    // A limited server's post stays out of public listings, feeds included.
    expect(feed.text).not.toContain("zqlimited");
  });

  it("a public thread's page names its Page; a remote one names its origin's object", async () => {
    const own = await anonymous.get(`/posts/${ids.thread}`);
    expect(own.status).toBe(200);
    expect(alternates(own.text)).toEqual({ [AP]: `${origin}/posts/${ids.thread}` });
    expect(linkHeader(own)).toBe(apLink(`${origin}/posts/${ids.thread}`));
    // The IRI answers with the object to an ActivityPub client.
    const object = await anonymous.get(`/posts/${ids.thread}`, { accept: AP });
    expect(object.status).toBe(200);
    expect(JSON.parse(object.text).id).toBe(`${origin}/posts/${ids.thread}`);
    const remote = await anonymous.get(`/posts/${ids.remote}`);
    expect(remote.status).toBe(200);
    expect(linkHeader(remote)).toBe(apLink("https://far.example/posts/1"));
  });

  it("a remote actor's page names its IRI", async () => {
    const res = await anonymous.get("/@rae@far.example");
    expect(res.status).toBe(200);
    expect(alternates(res.text)).toEqual({ [AP]: "https://far.example/users/rae" });
    expect(linkHeader(res)).toBe(apLink("https://far.example/users/rae"));
  });

  it("members-only: the community page has no feed link, its threads no object link, even for members", async () => {
    const member = await loggedIn(instance, "disc_boss");
    const page = await member.get("/@owls");
    expect(page.status).toBe(200);
    // The Group itself is served to anyone (its name is public), its threads are not.
    expect(alternates(page.text)).toEqual({ [AP]: `${origin}/@owls` });
    const thread = await member.get(`/posts/${ids.secret}`);
    expect(thread.status).toBe(200);
    expect(alternates(thread.text)).toEqual({});
    expect(linkHeader(thread)).toBeNull();
    const visitor = await anonymous.get(`/posts/${ids.secret}`);
    expect(visitor.status).toBe(404);
    expect(alternates(visitor.text)).toEqual({});
    expect(linkHeader(visitor)).toBeNull();
  });

  it("removed, limited and local-only posts, and unknown pages, point nowhere", async () => {
    for (const path of [
      `/posts/${ids.removed}`,
      `/posts/${ids.limited}`,
      `/posts/${ids.local}`,
      "/posts/0190aaaa-0000-7000-8000-000000000000",
      "/@nobody",
      "/@nobody@far.example",
    ]) {
      const res = await anonymous.get(path);
      expect(alternates(res.text), path).toEqual({});
      expect(linkHeader(res), path).toBeNull();
    }
    // A reply's address redirects to its thread: only the page served as it is carries the header.
    const redirect = await anonymous.get(`/posts/${ids.reply}`);
    expect(redirect.status).toBe(302);
    expect(linkHeader(redirect)).toBeNull();
    // A local-only community: its page and feed are public, but it has no actor document to point at.
    const quiet = await anonymous.get("/@quiet");
    expect(alternates(quiet.text)).toEqual({ [RSS]: `${origin}/@quiet.rss`, [ATOM]: `${origin}/@quiet.atom` });
    expect(linkHeader(quiet)).toBeNull();
  });

  it("malformed addresses get a 4xx or a page, never a 500", async () => {
    for (const path of ["/@%ZZ", "/tags/%ZZ", "/tags/%ZZ.rss", "/@a%ZZ.rss", "/posts/%ZZ", "/tags/%E0%A4%A.atom"]) {
      const res = await anonymous.get(path);
      expect(res.status, path).toBeLessThan(500);
      expect(linkHeader(res), path).toBeNull();
    }
  });

  it("pages without a subject have no alternate links", async () => {
    for (const path of ["/", "/about", "/login"]) {
      const res = await anonymous.get(path);
      expect(alternates(res.text), path).toEqual({});
      expect(linkHeader(res), path).toBeNull();
    }
  });
});
