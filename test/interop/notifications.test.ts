// Notifications from a Mastodon-shaped server: a reply, a mention, a direct
// message, likes and a follow, each as Mastodon sends it (test/fixtures/mastodon/,
// signed), tell the local person; the header count follows; a muted person's
// reply and a kind turned off tell nothing. Both databases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import type { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, snowflake, uuid, waitFor } from "../helpers/peer.ts";
import { loggedIn, seedCommunity, seedThread, seedUser, unescapeHtml } from "../helpers/seed.ts";
import { idOf, postByIri, queueIdle } from "./support.ts";

const count = (html: string) =>
  /<a href="\/notifications"[^>]*>Notifications(?: \((\d+)\))?<\/a>/.exec(html)?.[1] ?? "0";
const unreadItems = (html: string) =>
  [...html.matchAll(/<li class="notification unread"[\s\S]*?<\/li>/g)].map((m) =>
    unescapeHtml(m[0].replace(/<[^>]+>/g, " ").replace(/\s+/g, " ")),
  );

/** A Mastodon `Create(Note)` naming `mentioned`; `direct` addresses it to them alone, as a Mastodon DM is. */
function mastodonNote(
  peer: Peer,
  actor: PeerActor,
  o: { text: string; mentioned: LocalUser & { iri: string }; inReplyTo?: string; direct?: boolean },
) {
  const create = fixture("mastodon/create_note.json", {
    origin: peer.origin,
    host: peer.host,
    actor: actor.id,
    username: actor.username,
    id: snowflake(),
    published: new Date().toISOString(),
    inReplyTo: o.inReplyTo ?? null,
    mentioned: o.mentioned.iri,
    mentionedUrl: o.mentioned.iri,
    mentionedName: o.mentioned.username,
    mentionedHost: new URL(o.mentioned.iri).host,
    text: o.text,
    hashtag: "pots",
  });
  if (o.direct) {
    for (const doc of [create, create.object]) {
      doc.to = [o.mentioned.iri];
      doc.cc = [];
    }
  }
  return create;
}

describe.each(dialects)("notifications from a Mastodon-shaped server (%s)", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;
  let ana: LocalUser & { iri: string };
  let anaWeb: WebClient;
  let alice: PeerActor;
  let carol: PeerActor;
  let thread: { id: string; iri: string };
  let rootThread: { id: string; iri: string };
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let admin: LocalUser;

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance({ dialect }), Peer.start("mastodon")]);
    admin = await seedUser(instance, "root", { role: "admin" });
    ana = (await seedUser(instance, "ana")) as LocalUser & { iri: string };
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    anaWeb = await loggedIn(instance, "ana");
    expect((await anaWeb.post("/@pots/join", {})).status).toBe(303);
    thread = await seedThread(instance, community, ana, "Morning heart rate", "Mine is 120 standing.");
    rootThread = await seedThread(instance, community, admin, "Orthostatic tests");
    alice = await mastodon.addActor("alice", { name: "Alice" });
    carol = await mastodon.addActor("carol", { name: "Carol" });
    for (const actor of [alice, carol]) {
      const follow = fixture("mastodon/follow.json", {
        origin: mastodon.origin,
        uuid: uuid(),
        actor: actor.id,
        object: community.iri,
      });
      expect((await mastodon.send(actor, `${community.iri}/inbox`, follow)).status).toBe(202);
      await mastodon.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id, {
        label: `Accept of ${actor.username}'s Follow`,
      });
    }
  });
  afterAll(async () => {
    await Promise.all([instance?.stop(), mastodon?.stop()]);
  });

  const send = async (actor: PeerActor, activity: Record<string, any>) => {
    const res = await mastodon.send(actor, `${instance.url}/inbox`, activity);
    expect(res.status, res.text).toBe(202);
  };
  const stored = (iri: string) => waitFor(() => postByIri(instance, iri), { label: `${iri} to be stored` });
  const unread = async () => count((await anaWeb.get("/")).text);

  it("a reply, a mention and a direct message each tell her; marking read clears the count", async () => {
    expect(await unread()).toBe("0");
    const reply = mastodonNote(mastodon, alice, { text: "Mine too, zqreply.", mentioned: ana, inReplyTo: thread.iri });
    await send(alice, reply);
    const replyRow = await stored(reply.object.id);
    await waitFor(async () => (await unread()) === "1", { label: "the reply's notification" });

    const mention = mastodonNote(mastodon, alice, { text: "Ana knows about this, zqmention.", mentioned: ana });
    await send(alice, mention);
    const mentionRow = await stored(mention.object.id);
    const dm = mastodonNote(mastodon, carol, { text: "Can I ask you privately?", mentioned: ana, direct: true });
    await send(carol, dm);
    await stored(dm.object.id);
    await waitFor(async () => (await unread()) === "3", { label: "three unread notifications" });

    const page = await anaWeb.get("/notifications");
    expect(count(page.text)).toBe("3");
    const items = unreadItems(page.text);
    expect(items[0]).toContain("Carol sent you a direct message");
    expect(items[1]).toContain("Alice mentioned you");
    expect(items[2]).toContain("Alice replied to your thread “Morning heart rate”");
    expect(page.text).toContain(`href="/messages/carol@${mastodon.host}"`);
    expect(page.text).toContain(`href="/posts/${mentionRow.id}"`);
    expect(page.text).toContain(`href="/posts/${replyRow.id}"`);

    expect((await anaWeb.post("/notifications/read", {})).status).toBe(303);
    expect(await unread()).toBe("0");
    expect(unreadItems((await anaWeb.get("/notifications")).text)).toEqual([]);
  });

  it("a reply in someone else's thread that names her, addressed to the community, is a mention", async () => {
    const reply = mastodonNote(mastodon, alice, {
      text: "Ana wrote about this, zqnamed.",
      mentioned: ana,
      inReplyTo: rootThread.iri,
    });
    // Addressed as Lemmy-style community traffic: public and the community, not her.
    for (const doc of [reply, reply.object]) doc.cc = [`${alice.id}/followers`, community.iri];
    await send(alice, reply);
    const row = await stored(reply.object.id);
    await waitFor(async () => (await unread()) === "1", { label: "the mention in a community thread" });
    const items = unreadItems((await anaWeb.get("/notifications")).text);
    expect(items).toEqual([expect.stringContaining("Alice mentioned you in “Orthostatic tests”")]);
    const root = await instance.runtime.db
      .selectFrom("notifications")
      .innerJoin("actors", "actors.id", "notifications.user_id")
      .select(["actors.username", "notifications.kind"])
      .where("notifications.post_id", "=", row.id)
      .execute();
    expect(root).toEqual(
      expect.arrayContaining([
        { username: "ana", kind: "mention" },
        { username: "root", kind: "reply" },
      ]),
    );
    expect((await anaWeb.post("/notifications/read", {})).status).toBe(303);
  });

  it("likes from two people are one card; a follow tells her who followed", async () => {
    for (const actor of [alice, carol])
      await send(actor, fixture("mastodon/like.json", { actor: actor.id, id: snowflake(), object: thread.iri }));
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: alice.id,
      object: ana.iri,
    });
    await send(alice, follow);
    // Two likes of one post are one card, and one in the header count.
    await waitFor(async () => (await unread()) === "2", { label: "two likes and a follow" });
    const page = await anaWeb.get("/notifications");
    const items = unreadItems(page.text);
    expect(items).toHaveLength(2);
    expect(items[0]).toContain("Alice followed you");
    expect(items[1]).toContain("Carol and 1 other liked your thread “Morning heart rate”");
    expect(page.text).toContain(`href="/@alice@${mastodon.host}"`);
    expect((await anaWeb.post("/notifications/read", {})).status).toBe(303);
  });

  it("a Mastodon user's request to join a community that vets members tells its moderators", async () => {
    const vetted = await seedCommunity(instance, admin, { slug: "vetted", name: "Vetted", join: "approval" });
    const rootWeb = await loggedIn(instance, "root");
    const before = count((await rootWeb.get("/")).text);
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: carol.id,
      object: vetted.iri,
    });
    expect((await mastodon.send(carol, `${vetted.iri}/inbox`, follow)).status).toBe(202);
    await waitFor(async () => Number(count((await rootWeb.get("/")).text)) === Number(before) + 1, {
      label: "the join request's notification",
    });
    const page = await rootWeb.get("/notifications");
    expect(unreadItems(page.text)[0]).toContain("Carol asks to join Vetted");
    expect(page.text).toContain('href="/@vetted/moderation"');
    // Ana, a member but no moderator, is not told.
    expect(await unread()).toBe("0");
  });

  it("a muted person's reply and a kind turned off tell nothing", async () => {
    expect((await anaWeb.post(`/@carol@${mastodon.host}/mute`, {})).status).toBe(303);
    const muted = mastodonNote(mastodon, carol, {
      text: "Muted words, zqmuted.",
      mentioned: ana,
      inReplyTo: thread.iri,
    });
    await send(carol, muted);
    const mutedRow = await stored(muted.object.id);
    await queueIdle(instance);
    expect(await unread()).toBe("0");
    // Not written at all, rather than only hidden: unmuting does not bring it back.
    const rows = await instance.runtime.db
      .selectFrom("notifications")
      .select("id")
      .where("post_id", "=", mutedRow.id)
      .execute();
    expect(rows).toEqual([]);

    expect((await anaWeb.post("/settings/notifications", { reply: "1", message: "1", like: "1" })).status).toBe(303);
    const mention = mastodonNote(mastodon, alice, { text: "Unheard, zqoff.", mentioned: ana });
    await send(alice, mention);
    await stored(mention.object.id);
    await queueIdle(instance);
    expect(await unread()).toBe("0");
    // The same server's reply still tells her: only mentions were turned off.
    const reply = mastodonNote(mastodon, alice, { text: "Heard, zqon.", mentioned: ana, inReplyTo: thread.iri });
    await send(alice, reply);
    await waitFor(async () => (await unread()) === "1", { label: "the reply after mentions were turned off" });
  });
});
