// Where notifications stop short (issue 12): an edit that names someone new
// tells them (a local edit, or a Mastodon `Update`), but nobody is told twice
// of one post; a follow waiting for approval reads as a request, with the page
// to answer it; the header counts the likes of one post as the one card the
// notifications page shows. Both databases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { blockDomain } from "../../src/policy/service.ts";
import { editPost } from "../../src/posts/service.ts";
import type { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, snowflake, uuid, waitFor } from "../helpers/peer.ts";
import { loggedIn, seedCommunity, seedThread, seedUser, unescapeHtml } from "../helpers/seed.ts";
import { idOf, postByIri } from "../interop/support.ts";

type Member = LocalUser & { iri: string };

const count = (html: string) =>
  /<a href="\/notifications"[^>]*>Notifications(?: \((\d+)\))?<\/a>/.exec(html)?.[1] ?? "0";
const unreadItems = (html: string) =>
  [...html.matchAll(/<li class="notification unread"[\s\S]*?<\/li>/g)].map((m) =>
    unescapeHtml(m[0].replace(/<[^>]+>/g, " ").replace(/\s+/g, " ")),
  );

describe.each(dialects)("notification limits (%s)", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;
  let silenced: Peer;
  let alice: PeerActor;
  let ana: Member;
  let ben: Member;
  let cara: Member;
  let web: Record<"ana" | "ben" | "cara", WebClient>;
  let community: Awaited<ReturnType<typeof seedCommunity>>;

  beforeAll(async () => {
    [instance, mastodon, silenced] = await Promise.all([
      startTestInstance({ dialect }),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
    const admin = await seedUser(instance, "root", { role: "admin" });
    [ana, ben, cara] = (await Promise.all(["ana", "ben", "cara"].map((n) => seedUser(instance, n)))) as [
      Member,
      Member,
      Member,
    ];
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    const [a, b, c] = await Promise.all(["ana", "ben", "cara"].map((n) => loggedIn(instance, n)));
    web = { ana: a!, ben: b!, cara: c! };
    for (const w of Object.values(web)) expect((await w.post("/@pots/join", {})).status).toBe(303);
    alice = await mastodon.addActor("alice", { name: "Alice" });
    await blockDomain(instance.runtime.db, { domain: silenced.host, severity: "silence" });
    await instance.runtime.policy.refresh();
  });
  afterAll(async () => {
    await Promise.all([instance?.stop(), mastodon?.stop(), silenced?.stop()]);
  });

  const db = () => instance.runtime.db;
  const mentionsOf = (userId: string, postId: string) =>
    db()
      .selectFrom("notifications")
      .select("kind")
      .where("user_id", "=", userId)
      .where("post_id", "=", postId)
      .execute()
      .then((rows) => rows.map((r) => r.kind));
  const readAll = async () => {
    for (const w of Object.values(web)) expect((await w.post("/notifications/read", {})).status).toBe(303);
  };

  it("a local edit that names someone new tells them, and nobody twice", async () => {
    const thread = await seedThread(instance, community, ana, "Salt tablets", "Asking @ben about doses");
    expect(await mentionsOf(ben.actorId, thread.id)).toEqual(["mention"]);
    const edit = (body: string) =>
      editPost(db(), instance.url, thread.id, ana.actorId, { title: "Salt tablets", body });
    await edit("Asking @ben and @cara about doses");
    expect(await mentionsOf(cara.actorId, thread.id)).toEqual(["mention"]);
    expect(await mentionsOf(ben.actorId, thread.id), "ben was named before").toEqual(["mention"]);
    const unread = unreadItems((await web.cara.get("/notifications")).text);
    expect(unread).toEqual([expect.stringContaining("ana mentioned you in “Salt tablets”")]);
    // Dropped and named again: cara was told of this post already.
    await edit("Asking @ben about doses");
    await edit("Asking @ben and @cara again");
    expect(await mentionsOf(cara.actorId, thread.id)).toEqual(["mention"]);
    expect(await mentionsOf(ana.actorId, thread.id), "the author names herself: nothing").toEqual([]);
    await readAll();
  });

  it("a Mastodon Update that adds a mention of a member tells that member, once", async () => {
    const thread = await seedThread(instance, community, ana, "Morning heart rate", "Mine is 120 standing.");
    const id = snowflake();
    const vars = (mentioned: Member, text: string, seq: number) => ({
      origin: mastodon.origin,
      host: mastodon.host,
      actor: alice.id,
      username: alice.username,
      id,
      published: new Date().toISOString(),
      updated: new Date().toISOString(),
      updateSeq: seq,
      inReplyTo: thread.iri,
      mentioned: mentioned.iri,
      mentionedUrl: mentioned.iri,
      mentionedName: mentioned.username,
      mentionedHost: new URL(mentioned.iri).host,
      text,
      hashtag: "pots",
    });
    const iri = `${alice.id}/statuses/${id}`;
    /** Sends one activity and waits until its text is stored, so edits land in order. */
    const send = async (activity: Record<string, any>, text: string) => {
      expect((await mastodon.send(alice, `${instance.url}/inbox`, activity)).status).toBe(202);
      await waitFor(async () => (await postByIri(instance, iri))?.content_html.includes(text), { label: text });
    };
    await send(fixture("mastodon/create_note.json", vars(ana, "Mine too.", 0)), "Mine too.");
    const row = (await postByIri(instance, iri))!;
    expect(await mentionsOf(ana.actorId, row.id)).toEqual(["reply"]);

    await send(fixture("mastodon/update_note.json", vars(ben, "Ben measured it too.", 1)), "Ben measured it too.");
    expect(await mentionsOf(ben.actorId, row.id)).toEqual(["mention"]);
    // Ana is named again (she was told of the reply), then ben again: neither hears twice.
    await send(fixture("mastodon/update_note.json", vars(ana, "Ana, sorry.", 2)), "Ana, sorry.");
    await send(fixture("mastodon/update_note.json", vars(ben, "Ben measured it too!", 3)), "too!");
    expect(await mentionsOf(ben.actorId, row.id)).toEqual(["mention"]);
    expect(await mentionsOf(ana.actorId, row.id)).toEqual(["reply"]);
    await readAll();
  });

  it("a follow waiting for approval reads as a request, answered on the page it links to", async () => {
    const sam = await silenced.addActor("sam", { name: "Sam" });
    const tom = await silenced.addActor("tom", { name: "Tom" });
    const follows = [sam, tom].map((actor) =>
      fixture("mastodon/follow.json", { origin: silenced.origin, uuid: uuid(), actor: actor.id, object: ana.iri }),
    );
    for (const [i, actor] of [sam, tom].entries())
      expect((await silenced.send(actor, `${ana.iri}/inbox`, follows[i])).status).toBe(202);
    await waitFor(async () => (await web.ana.get("/")).text.includes("Notifications (2)"), { label: "two requests" });
    const page = await web.ana.get("/notifications");
    const items = unreadItems(page.text);
    expect(items).toEqual([
      expect.stringContaining("Tom requested to follow you"),
      expect.stringContaining("Sam requested to follow you"),
    ]);
    expect(items.join(" ")).not.toContain("followed you");
    expect(page.text).toContain('href="/follow-requests"');

    const requests = await web.ana.get("/follow-requests");
    expect(requests.status).toBe(200);
    const ids = [...requests.text.matchAll(/action="\/follow-requests\/([0-9a-f-]+)\/approve"/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    const [samFollow, tomFollow] = ids as [string, string];
    expect((await web.ben.post(`/follow-requests/${samFollow}/approve`, {})).status, "not ben's to answer").toBe(404);
    expect((await web.ana.post(`/follow-requests/${samFollow}/approve`, {})).status).toBe(303);
    expect((await web.ana.post(`/follow-requests/${tomFollow}/decline`, {})).status).toBe(303);
    await silenced.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follows[0]!.id, {
      label: "the Accept of sam's follow",
    });
    await silenced.waitForDelivery((b) => b.type === "Reject" && idOf(b.object) === follows[1]!.id, {
      label: "the Reject of tom's follow",
    });
    const rows = await db()
      .selectFrom("follows")
      .select(["id", "status"])
      .where("followee_id", "=", ana.actorId)
      .execute();
    expect(rows).toEqual([{ id: samFollow, status: "accepted" }]);
    expect((await web.ana.get("/follow-requests")).text).toContain("No pending requests.");
    await readAll();
  });

  it("the header counts the likes of one post as one, as the page shows them", async () => {
    const thread = await seedThread(instance, community, ana, "Compression socks");
    const other = await seedThread(instance, community, ana, "Electrolytes");
    for (const w of [web.ben, web.cara]) expect((await w.post(`/posts/${thread.id}/like`, {})).status).toBe(303);
    expect((await web.ben.post(`/posts/${other.id}/like`, {})).status).toBe(303);
    const page = await web.ana.get("/notifications");
    expect(unreadItems(page.text)).toHaveLength(2);
    expect(count(page.text)).toBe("2");
    // One of the two likes read: its card is still unread, once.
    const one = await db()
      .selectFrom("notifications")
      .select("id")
      .where("user_id", "=", ana.actorId)
      .where("post_id", "=", thread.id)
      .executeTakeFirstOrThrow();
    expect((await web.ana.post("/notifications/read", { ids: one.id })).status).toBe(303);
    expect(count((await web.ana.get("/")).text)).toBe("2");
    expect((await web.ana.post("/notifications/read", {})).status).toBe(303);
    expect(count((await web.ana.get("/")).text)).toBe("0");
  });
});
