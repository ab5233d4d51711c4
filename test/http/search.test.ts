import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { decideMembership, join } from "../../src/communities/membership.ts";
import { updateCommunity } from "../../src/communities/service.ts";
import { filterPerson } from "../../src/filters/service.ts";
import { sendMessage } from "../../src/messages/service.ts";
import { removePost } from "../../src/moderation/posts.ts";
import { createReply, deletePost, editPost } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, nextLink, seedCommunity, seedThread, seedUser, unescapeHtml } from "../helpers/seed.ts";

/** The found posts' links and titles, in the order shown. */
const hits = (page: string) =>
  [...page.matchAll(/<li><a href="(\/(?:posts|replies)\/[^"]+)">([^<]*)<\/a>/g)].map((m) => ({
    href: m[1] ?? "",
    title: unescapeHtml(m[2] ?? ""),
  }));
const hitTitles = (page: string) => hits(page).map((h) => h.title);
const section = (page: string, heading: string) =>
  new RegExp(`<h2 id="search-${heading}">[\\s\\S]*?</section>`).exec(page)?.[0] ?? "";
const search = (client: WebClient, q: string) => client.get(`/search?q=${encodeURIComponent(q)}`);

describe.each(dialects)("search (%s)", (dialect) => {
  let instance: TestInstance;
  let admin: LocalUser;
  let bob: LocalUser;
  let carol: LocalUser;
  let visitor: WebClient;
  let alice: WebClient;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  const db = () => instance.runtime.db;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    admin = await seedUser(instance, "admin", { role: "admin" });
    bob = await seedUser(instance, "bob");
    carol = await seedUser(instance, "carol");
    await seedUser(instance, "alice");
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    alice = await loggedIn(instance, "alice");
    visitor = new WebClient(instance.url);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("finds a thread by a word of its body and a reply by a word of its own", async () => {
    const thread = await seedThread(instance, community, bob, "Morning routine", "Compression stockings help a lot.");
    await createReply(db(), instance.url, community, carol.actorId, thread.id, {
      body: "Electrolytes before standing.",
    });
    const byBody = await search(visitor, "stockings");
    expect(byBody.status).toBe(200);
    expect(hits(byBody.text)).toEqual([{ href: `/posts/${thread.id}`, title: "Morning routine" }]);
    const byReply = await search(visitor, "electrolytes");
    expect(hitTitles(byReply.text)).toEqual(["Reply in “Morning routine”"]);
    expect(hits(byReply.text)[0]?.href).toMatch(/^\/replies\//);
    // Stemmed on both engines: the plural finds the singular.
    expect(hitTitles((await search(visitor, "electrolyte")).text)).toEqual(["Reply in “Morning routine”"]);
  });

  it("ranks a title match above a body match", async () => {
    await seedThread(instance, community, bob, "Tilt table results", "Nothing about the other word.");
    await seedThread(instance, community, bob, "A long day", "My cardiologist mentioned beta blockers and salt.");
    await seedThread(instance, community, bob, "Beta blockers", "Started last week.");
    expect(hitTitles((await search(visitor, "blockers")).text)).toEqual(["Beta blockers", "A long day"]);
  });

  it("marks the matched word in a snippet and escapes the post's HTML", async () => {
    await seedThread(instance, community, bob, "Odd paste", 'Pasted <script>alert("x")</script> near flowerpot here');
    const page = await search(visitor, "flowerpot");
    expect(hitTitles(page.text)).toEqual(["Odd paste"]);
    const snippet = /<p class="snippet">([\s\S]*?)<\/p>/.exec(page.text)?.[1] ?? "";
    expect(snippet).toContain("<mark>flowerpot</mark>");
    expect(snippet).toContain("&lt;script&gt;");
    expect(page.text).not.toContain("<script>alert");
  });

  it("never shows a members-only thread to a non-member or a visitor, and shows it to a member", async () => {
    const hidden = await seedCommunity(instance, admin, { slug: "private", name: "Private", visibility: "members" });
    await join(db(), instance.url, hidden, bob.actorId);
    await decideMembership(db(), hidden.id, admin.actorId, bob.actorId, true);
    await seedThread(instance, hidden, bob, "Quiet worries", "Secret word zanzibarish inside.");
    expect(hitTitles((await search(visitor, "zanzibarish")).text)).toEqual([]);
    expect(hitTitles((await search(alice, "zanzibarish")).text)).toEqual([]);
    expect(hitTitles((await search(alice, "worries")).text)).toEqual([]);
    const member = await loggedIn(instance, "bob");
    expect(hitTitles((await search(member, "zanzibarish")).text)).toEqual(["Quiet worries"]);
  });

  it("hides a public thread of a community that became members-only from non-members", async () => {
    const closing = await seedCommunity(instance, admin, { slug: "closing", name: "Closing" });
    await seedThread(instance, closing, admin, "Before closing", "Written while public: wombatine.");
    expect(hitTitles((await search(visitor, "wombatine")).text)).toEqual(["Before closing"]);
    await updateCommunity(db(), instance.url, closing.id, { name: "Closing", visibility: "members" });
    expect(hitTitles((await search(visitor, "wombatine")).text)).toEqual([]);
    expect(hitTitles((await search(alice, "wombatine")).text)).toEqual([]);
    expect(hitTitles((await search(await loggedIn(instance, "admin"), "wombatine")).text)).toEqual(["Before closing"]);
    // The community's visibility is checked on its own too, as readablePost does: a post
    // left addressed to Public (written before the audience rule, say) stays hidden.
    await db().updateTable("posts").set({ audience: "public" }).where("community_id", "=", closing.id).execute();
    expect(hitTitles((await search(visitor, "wombatine")).text)).toEqual([]);
    expect(hitTitles((await search(alice, "wombatine")).text)).toEqual([]);
  });

  it("never indexes direct messages", async () => {
    await sendMessage(db(), instance.url, bob.actorId, carol.actorId, { body: "Private note about quokkaland" });
    expect(hitTitles((await search(alice, "quokkaland")).text)).toEqual([]);
    expect(hitTitles((await search(await loggedIn(instance, "carol"), "quokkaland")).text)).toEqual([]);
  });

  it("leaves out removed posts and muted authors", async () => {
    const removed = await seedThread(instance, community, bob, "Miracle cure", "Buy my marmalizer today");
    expect(hitTitles((await search(visitor, "marmalizer")).text)).toEqual(["Miracle cure"]);
    await removePost(db(), instance.url, { role: "moderator", actorId: admin.actorId }, removed.id);
    expect(hitTitles((await search(visitor, "marmalizer")).text)).toEqual([]);

    await seedThread(instance, community, carol, "Carol's garden", "Growing quinceberry");
    expect(hitTitles((await search(alice, "quinceberry")).text)).toEqual(["Carol's garden"]);
    const aliceId = (
      await db().selectFrom("actors").select("id").where("username_key", "=", "alice").executeTakeFirstOrThrow()
    ).id;
    await filterPerson(db(), aliceId, carol.actorId, "mute");
    expect(hitTitles((await search(alice, "quinceberry")).text)).toEqual([]);
    expect(hitTitles((await search(visitor, "quinceberry")).text)).toEqual(["Carol's garden"]);
  });

  it("finds an edited post by its new words, and a deleted one no more", async () => {
    const post = await seedThread(instance, community, bob, "Fluids", "Drinking lemonade daily");
    expect(hitTitles((await search(visitor, "lemonade")).text)).toEqual(["Fluids"]);
    await editPost(db(), instance.url, post.id, bob.actorId, { title: "Fluids", body: "Drinking buttermilk daily" });
    expect(hitTitles((await search(visitor, "lemonade")).text)).toEqual([]);
    expect(hitTitles((await search(visitor, "buttermilk")).text)).toEqual(["Fluids"]);
    await deletePost(db(), post.id, bob.actorId);
    expect(hitTitles((await search(visitor, "buttermilk")).text)).toEqual([]);
    expect(hitTitles((await search(visitor, "fluids")).text)).toEqual([]);
  });

  it("finds people by name and handle, communities and hashtags", async () => {
    await seedThread(instance, community, bob, "Tagged", "Salt tips #saltloading");
    const page = await search(alice, "bo");
    expect(section(page.text, "people")).toContain('href="/@bob"');
    expect(section(page.text, "people")).not.toContain('href="/@carol"');
    expect(section(await search(alice, "POTS").then((r) => r.text), "communities")).toContain('href="/@pots"');
    // Wildcards alone match nothing, rather than list everyone.
    const wild = await search(alice, "%%");
    expect(section(wild.text, "people")).not.toContain("href=");
    expect(wild.text).toContain("Nothing found");
    const tags = section((await search(visitor, "#saltload")).text, "hashtags");
    expect(tags).toContain('href="/tags/saltloading"');
    expect(tags).toContain("1 post");
  });

  it("pages through posts, and refuses a malformed page", async () => {
    for (let i = 0; i < 22; i++) await seedThread(instance, community, bob, `Pager ${i}`, "pagination probe");
    const first = await search(visitor, "probe");
    expect(hits(first.text)).toHaveLength(20);
    const next = nextLink(first.text);
    expect(next).toBeDefined();
    const second = await visitor.get(next ?? "");
    expect(hits(second.text)).toHaveLength(2);
    const all = new Set([...hitTitles(first.text), ...hitTitles(second.text)]);
    expect(all.size).toBe(22);
    expect(section(second.text, "people")).toBe("");
    expect((await visitor.get("/search?q=probe&cursor=abc")).status).toBe(400);
  });

  it("keeps asking visitors to log in before looking up remote handles", async () => {
    const res = await search(visitor, "@someone@remote.example");
    expect(res.status).toBe(401);
  });
});
