// Posts from microblogs read well (issue 12, item 5). A Mastodon user posts
// into a community by mentioning it: a `Note` with no `name`. It becomes a
// thread titled from its text, and the community page shows its opening
// words under the title. A `summary` is a content warning only on a `Note`
// or when `sensitive` says so: NodeBB sends an `Article`'s summary as an
// excerpt, which must not put every topic behind a false warning. The JSON
// is what Mastodon (test/fixtures/mastodon) and NodeBB
// (/work/shared/fixtures/real-world/nodebb) send, signed by a fake server.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { titleFromContent } from "../../federation/titles.ts";
import { sanitizeHtml } from "../../src/content/markdown.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, PUBLIC, snowflake, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser, unescapeHtml } from "../helpers/seed.ts";

const REAL_WORLD = "/work/shared/fixtures/real-world";
const realWorld = (path: string) => JSON.parse(readFileSync(`${REAL_WORLD}/${path}`, "utf8")) as Record<string, any>;

type Community = Awaited<ReturnType<typeof seedCommunity>>;

/** Mastodon's `Create(Note)` mentioning the community, with `text` after the mention and a #longcovid tag. */
function mastodonNote(peer: Peer, actor: PeerActor, community: Community, text: string, cw?: string) {
  const id = snowflake();
  const create = fixture("mastodon/create_note.json", {
    origin: peer.origin,
    host: peer.host,
    actor: actor.id,
    username: actor.username,
    id,
    published: new Date().toISOString(),
    inReplyTo: null,
    mentioned: community.iri,
    mentionedUrl: community.iri,
    mentionedName: "long-covid",
    mentionedHost: new URL(community.iri).host,
    text,
    hashtag: "longcovid",
  });
  // Mastodon's content warning: `summary` and `sensitive: true` on the Note.
  if (cw) Object.assign(create.object, { summary: cw, sensitive: true });
  return create;
}

describe.each(dialects)("posts from microblogs and forums on %s", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;
  let community: Community;
  let alice: PeerActor;

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance({ dialect }), Peer.start("mastodon")]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    alice = await mastodon.addActor("alice", { name: "Alice" });
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  const db = () => instance.runtime.db;
  const postRow = (iri: string) =>
    db().selectFrom("posts").select(["id", "title", "summary", "sensitive"]).where("iri", "=", iri).executeTakeFirst();
  const stored = (iri: string) => waitFor(() => postRow(iri), { label: `post ${iri} stored` });
  const communityPage = async () => {
    const res = await fetch(`${instance.url}/@long-covid`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    return res.text();
  };
  /** The community page's entry for a thread: its <article class="thread-summary">. */
  const entryOf = (page: string, postId: string) =>
    /<article class="thread-summary[^"]*">[\s\S]*?<\/article>/g.exec(
      page.slice(page.lastIndexOf("<article", page.indexOf(`/posts/${postId}"`))),
    )?.[0] ?? "";

  it("titles a Mastodon Note from its first sentence and shows its text under the title", async () => {
    const text = "Pacing finally helped me. I rest before I crash, and my good days are longer now.";
    const create = mastodonNote(mastodon, alice, community, text);
    expect((await mastodon.send(alice, `${community.iri}/inbox`, create)).status).toBe(202);
    const row = await stored(create.object.id);
    // The first sentence, without the community's mention; its full stop dropped.
    expect(row).toMatchObject({ title: "Pacing finally helped me", summary: null, sensitive: 0 });

    const entry = entryOf(await communityPage(), row.id);
    expect(entry).toContain(`<a href="/posts/${row.id}">Pacing finally helped me</a>`);
    const excerpt = /<p class="excerpt">([\s\S]*?)<\/p>/.exec(entry)?.[1];
    // The text under the title, without the leading "@long-covid", hashtag kept.
    expect(unescapeHtml(excerpt ?? "")).toBe(`${text} #longcovid`);
    expect(entry).not.toContain("(untitled)");
    expect(entry).not.toContain("Content warning");
  });

  it("cuts a long first line at a word with an ellipsis, and keeps hashtags as words", async () => {
    const text =
      "Has anyone with #longcovid tried graded exercise therapy after the second year without relapsing badly";
    const create = mastodonNote(mastodon, alice, community, text);
    expect((await mastodon.send(alice, `${community.iri}/inbox`, create)).status).toBe(202);
    const row = await stored(create.object.id);
    expect(row.title).toBe("Has anyone with longcovid tried graded exercise therapy after the second year…");
    expect([...row.title!].length).toBeLessThanOrEqual(81);
    const excerpt = /<p class="excerpt">([\s\S]*?)<\/p>/.exec(entryOf(await communityPage(), row.id))?.[1] ?? "";
    expect(unescapeHtml(excerpt)).toContain("tried graded exercise therapy");
  });

  it("shows a Mastodon content warning instead of the text on the community page", async () => {
    const create = mastodonNote(mastodon, alice, community, "My worst crash so far, details inside.", "energy crash");
    expect((await mastodon.send(alice, `${community.iri}/inbox`, create)).status).toBe(202);
    const row = await stored(create.object.id);
    expect(row).toMatchObject({
      summary: "energy crash",
      sensitive: 1,
      title: "My worst crash so far, details inside",
    });
    const entry = entryOf(await communityPage(), row.id);
    expect(entry).toContain('<p class="cw-note">Content warning: energy crash</p>');
    expect(entry).not.toContain('class="excerpt"');
    expect(entry).not.toContain("details inside.");
  });

  it("takes a NodeBB Article's summary as an excerpt, not a content warning", async () => {
    const julian = await mastodon.addActor("julian", { name: "julian" });
    // NodeBB's own Article (bb.devnull.land), from our peer's origin, posted into our community.
    const article = realWorld("nodebb/objects/page.json");
    Object.assign(article, {
      id: `${mastodon.origin}/post/${snowflake()}`,
      url: undefined,
      attributedTo: julian.id,
      to: [PUBLIC, community.iri],
      cc: [`${julian.id}/followers`],
      audience: community.iri,
      context: `${mastodon.origin}/topic/1`,
      replies: undefined,
      published: new Date().toISOString(),
    });
    const create = {
      "@context": article["@context"],
      id: `${article.id}#create`,
      type: "Create",
      actor: julian.id,
      to: article.to,
      cc: article.cc,
      object: { ...article, "@context": undefined },
    };
    expect((await mastodon.send(julian, `${community.iri}/inbox`, create)).status).toBe(202);
    const row = await stored(article.id);
    expect(row).toMatchObject({ title: "Welcome to your NodeBB!", summary: null, sensitive: 0 });

    const entry = entryOf(await communityPage(), row.id);
    expect(entry).not.toContain("Content warning");
    expect(unescapeHtml(entry)).toContain("Welcome to your brand new NodeBB forum! This is what a topic");
    const thread = await (await fetch(`${instance.url}/posts/${row.id}`, { headers: { accept: "text/html" } })).text();
    expect(thread).toContain("<h1>Welcome to your NodeBB!</h1>");
    expect(thread, "the thread opens with its text, not behind a warning").not.toContain('<details class="cw">');
  });
});

describe("titles derived from real microblog posts", () => {
  const derived = (content: string) => titleFromContent(sanitizeHtml(content));

  it("skips a first paragraph holding only the mention (Mastodon posting to a Lemmy community)", () => {
    expect(derived(realWorld("mastodon/objects/note_2.json").content)).toBe(
      "We also need funding 💶 to keep the gears turning!",
    );
  });

  it("takes the first line when a Mastodon post opens with a title line", () => {
    expect(derived(realWorld("mastodon/objects/page.json").content)).toBe("Variable never resetting at refresh");
  });

  it("titles Pleroma's plain text and drops a mention written as text", () => {
    expect(derived(realWorld("pleroma/objects/note.json").content)).toBe("Have what?");
    expect(derived("@someone@example.org thanks! It worked")).toBe("thanks!");
  });

  it("has no title for a post with nothing but mentions and an image", () => {
    expect(derived('<p><a href="https://x.example/@a" class="u-url mention">@a</a></p>')).toBeNull();
  });
});
