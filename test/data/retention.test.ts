// Community retention (src/communities/retention.ts): a community may keep
// threads for a set number of days. The setting goes through the real
// settings form; `applyRetention` (what the hourly job in src/jobs.ts runs) is
// called directly so the test decides when. Expired threads become tombstones
// with every reply, on this instance and, through the federated Deletes, on a
// second real Kindred whose member joined the community and at a fake
// Mastodon that follows it (it checks every signature with Kindred's keys).
//
// A hosts three communities: "fatigue" (retention set through the form to 30
// days), "yearly" (365 days) and "archive" (no retention). B's member bob
// joined fatigue; tina on the fake Mastodon follows it and replies there.
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/schema.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { applyRetention } from "../../src/communities/retention.ts";
import { followRemote } from "../../src/follows/service.ts";
import { createReply, createThread, deletePost, like } from "../../src/posts/service.ts";
import type { WebClient } from "../helpers/client.ts";
import { eventually, Peer, quiesce, until } from "../helpers/federation.ts";
import { Peer as FakeServer, fixture, type PeerActor, snowflake, uuid } from "../helpers/peer.ts";
import { alertText, element, loggedIn, seedCommunity, seedUser, threadTitles, unescapeHtml } from "../helpers/seed.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;
type Post = { id: string; iri: string };

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

const postByIri = (db: Kysely<Database>, iri: string) =>
  db.selectFrom("posts").selectAll().where("iri", "=", iri).executeTakeFirst();
const settingsRow = (db: Kysely<Database>, id: string) =>
  db
    .selectFrom("communities")
    .select(["retention_days", "allow_anonymize"])
    .where("actor_id", "=", id)
    .executeTakeFirstOrThrow();
/** The text a post row still holds (title, Markdown source, HTML, content warning). */
const textOf = (p: { title: string | null; source: string | null; content_html: string; summary: string | null }) => ({
  title: p.title,
  source: p.source,
  content_html: p.content_html,
  summary: p.summary,
});
const EMPTY = { title: null, source: null, content_html: "", summary: null };

/** The retention field and the anonymize checkbox as the settings form renders them. */
function retentionControls(html: string) {
  const input = /<input id="retentionDays"[^>]*>/.exec(html)?.[0];
  const checkbox = /<input type="checkbox" name="allowAnonymize"[^>]*>/.exec(html)?.[0];
  expect(input, "the form has the retentionDays field").toBeDefined();
  expect(checkbox, "the form has the allowAnonymize checkbox").toBeDefined();
  return {
    value: unescapeHtml(/ value="([^"]*)"/.exec(input!)?.[1] ?? ""),
    input: input!,
    checked: / checked(?=[\s>])/.test(checkbox!),
  };
}

describe("community retention", () => {
  let A: Peer;
  let B: Peer;
  let mastodon: FakeServer;
  let mod: LocalUser;
  let alice: LocalUser;
  let bob: LocalUser;
  let fatigue: Community;
  let yearly: Community;
  let archive: Community;
  let tina: PeerActor;
  /** fatigue's Group row on B. */
  let groupOnB: string;
  let modWeb: WebClient;

  beforeAll(async () => {
    [A, B, mastodon] = await Promise.all([Peer.start(), Peer.start(), FakeServer.start("mastodon")]);
    [mod, alice, bob] = await Promise.all([
      seedUser(A, "mod", { role: "admin" }),
      seedUser(A, "alice"),
      seedUser(B, "bob"),
    ]);
    fatigue = await seedCommunity(A, mod, { slug: "fatigue", name: "Fatigue" });
    yearly = await seedCommunity(A, mod, { slug: "yearly", name: "Yearly" });
    archive = await seedCommunity(A, mod, { slug: "archive", name: "Archive" });
    expect(await join(A.db, A.url, fatigue, alice.actorId)).toBe("accepted");

    // bob on B joins fatigue (a Follow of its Group, accepted by A).
    groupOnB = (await B.runtime.remote!.resolveActor(fatigue.iri))!;
    expect(groupOnB, "B resolves the community").toBeTruthy();
    await followRemote(B.db, B.url, bob.actorId, groupOnB);
    await until(
      "bob's membership accepted on B",
      () =>
        B.db
          .selectFrom("follows")
          .select("status")
          .where("follower_id", "=", bob.actorId)
          .where("followee_id", "=", groupOnB)
          .executeTakeFirst(),
      (r) => r?.status === "accepted",
    );

    // tina on Mastodon follows fatigue.
    tina = await mastodon.addActor("tina", { name: "Tina" });
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: tina.id,
      object: fatigue.iri,
    });
    expect((await mastodon.send(tina, `${fatigue.iri}/inbox`, follow)).status).toBe(202);
    await mastodon.waitForDelivery((b) => b.type === "Accept" && (b.object?.id ?? b.object) === follow.id, {
      label: "the Accept of tina's Follow",
    });

    modWeb = await loggedIn(A, "mod");
  });
  afterAll(async () => {
    await mastodon?.stop();
    await Promise.all([A?.destroy(), B?.destroy()]);
  });

  describe("the settings form", () => {
    const base = {
      name: "Fatigue",
      description: "",
      rules: "",
      visibility: "public",
      join: "open",
      federation: "federated",
      allowedServers: "",
    };

    it("is for the community's moderators only", async () => {
      const aliceWeb = await loggedIn(A, "alice");
      expect((await aliceWeb.get("/@fatigue/settings", { accept: "text/html" })).status).toBe(403);
      const res = await aliceWeb.post("/@fatigue/settings", { ...base, retentionDays: "1" });
      expect(res.status).toBe(403);
      expect(await settingsRow(A.db, fatigue.id)).toEqual({ retention_days: null, allow_anonymize: 0 });
    });

    it("shows an empty retention field and an unticked anonymize box for a new community", async () => {
      const form = await modWeb.get("/@fatigue/settings", { accept: "text/html" });
      expect(form.status).toBe(200);
      expect(retentionControls(form.text)).toMatchObject({ value: "", checked: false });
    });

    it("refuses a retention that is not a whole number of days from 1 to 36500 with 422 naming the field, shows the value again and saves nothing", async () => {
      for (const bad of ["0", "-3", "36501", "1.5", "abc", "12 days", `9"><b>x`]) {
        await modWeb.get("/@fatigue/settings", { accept: "text/html" });
        const res = await modWeb.post("/@fatigue/settings", { ...base, retentionDays: bad, allowAnonymize: "1" });
        expect(res.status, `retentionDays=${JSON.stringify(bad)}`).toBe(422);
        expect(alertText(res.text), `the alert for ${JSON.stringify(bad)}`).toMatch(/^retentionDays: /);
        expect(
          element(res.text, '<p class="error" id="retentionDays-error"'),
          `the field error for ${JSON.stringify(bad)}`,
        ).toBeDefined();
        const shown = retentionControls(res.text);
        expect(shown.value, "the value typed is shown again").toBe(bad);
        expect(shown.input).toContain('aria-describedby="retentionDays-error"');
        expect(shown.checked, "the ticked box stays ticked").toBe(true);
        expect(res.text, "the value is escaped").not.toContain("<b>x");
        expect(await settingsRow(A.db, fatigue.id)).toEqual({ retention_days: null, allow_anonymize: 0 });
      }
      const msg = alertText((await modWeb.post("/@fatigue/settings", { ...base, retentionDays: "0" })).text);
      expect(msg).toBe("retentionDays: must be from 1 to 36500 days");
      expect(alertText((await modWeb.post("/@fatigue/settings", { ...base, retentionDays: "36501" })).text)).toBe(
        "retentionDays: must be from 1 to 36500 days",
      );
      // Not a count of days: said so, whatever JavaScript would make of it.
      for (const bad of ["1.5", "abc", "0x10", "1e3", "Infinity"]) {
        expect(alertText((await modWeb.post("/@fatigue/settings", { ...base, retentionDays: bad })).text), bad).toBe(
          "retentionDays: must be a whole number of days",
        );
      }
    });

    it("saves a retention period and the anonymize choice, and shows both on the form again", async () => {
      const save = async (fields: Record<string, string>) => {
        await modWeb.get("/@fatigue/settings", { accept: "text/html" });
        const res = await modWeb.post("/@fatigue/settings", { ...base, ...fields });
        expect(res.status, res.text.slice(0, 500)).toBe(303);
        expect(res.headers.get("location")).toBe("/@fatigue");
        return retentionControls((await modWeb.get("/@fatigue/settings", { accept: "text/html" })).text);
      };
      expect(await save({ retentionDays: "30", allowAnonymize: "1" })).toMatchObject({ value: "30", checked: true });
      expect(await settingsRow(A.db, fatigue.id)).toEqual({ retention_days: 30, allow_anonymize: 1 });
      // The bounds are allowed.
      expect(await save({ retentionDays: "36500", allowAnonymize: "1" })).toMatchObject({
        value: "36500",
        checked: true,
      });
      expect(await save({ retentionDays: "1" })).toMatchObject({ value: "1", checked: false });
      expect(await settingsRow(A.db, fatigue.id)).toEqual({ retention_days: 1, allow_anonymize: 0 });
      // Empty keeps threads for ever.
      expect(await save({ retentionDays: "" })).toMatchObject({ value: "", checked: false });
      expect(await settingsRow(A.db, fatigue.id)).toEqual({ retention_days: null, allow_anonymize: 0 });
      // What the rest of this suite uses.
      expect(await save({ retentionDays: "30" })).toMatchObject({ value: "30", checked: false });
      expect(await settingsRow(A.db, fatigue.id)).toEqual({ retention_days: 30, allow_anonymize: 0 });
      await modWeb.get("/@yearly/settings", { accept: "text/html" });
      expect((await modWeb.post("/@yearly/settings", { ...base, name: "Yearly", retentionDays: "365" })).status).toBe(
        303,
      );
      expect(await settingsRow(A.db, yearly.id)).toEqual({ retention_days: 365, allow_anonymize: 0 });
      expect(await settingsRow(A.db, archive.id)).toEqual({ retention_days: null, allow_anonymize: 0 });
    });
  });

  describe("expiry", () => {
    /** Threads and replies by name, as rows of A. */
    const posts = {} as Record<
      "t1" | "r1" | "r2" | "r3" | "t2" | "t2Reply" | "t3" | "t4" | "t4Reply" | "y1" | "y2" | "o1",
      Post
    >;
    /** The IRIs of what must go (fatigue's old threads with their replies, yearly's very old one) and of what must stay. */
    let expiring: string[];
    let keeping: string[];
    const TEXT = {
      t1: "Old thread about crashes",
      t1Body: "Body of the old thread #pacing",
      r1: "Alice's reply in the old thread",
      r2: "Bob's reply from B",
      r3: "Tina's reply from Mastodon",
      t3: "Bob's own old thread",
      t4Reply: "A reply that outlived its deleted root",
      t2: "Fresh thread",
      y1: "Yearly thread, 100 days old",
      y2: "Yearly thread, 400 days old",
      o1: "Archive thread, 400 days old",
    };
    let deliveriesBefore: number;
    let expired: number;

    beforeAll(async () => {
      const onB = { id: groupOnB, visibility: "public" as const, joinPolicy: "open" as const };
      // fatigue: T1 (alice) with replies from A, B and Mastodon and a like; T3 by bob from B; T4 whose root its author already deleted; T2 fresh.
      posts.t1 = await createThread(A.db, A.url, fatigue, alice.actorId, {
        title: TEXT.t1,
        body: TEXT.t1Body,
        cw: "energy",
      });
      posts.r1 = await createReply(A.db, A.url, fatigue, alice.actorId, posts.t1.id, { body: TEXT.r1 });
      const t1OnB = await eventually("T1 on B", () => postByIri(B.db, posts.t1.iri));
      const r2 = await createReply(B.db, B.url, onB, bob.actorId, t1OnB.id, { body: TEXT.r2 });
      const t3 = await createThread(B.db, B.url, onB, bob.actorId, { title: TEXT.t3, body: "From B." });
      const noteId = snowflake();
      const note = fixture("mastodon/create_note.json", {
        origin: mastodon.origin,
        host: mastodon.host,
        actor: tina.id,
        username: "tina",
        id: noteId,
        published: new Date().toISOString(),
        inReplyTo: posts.t1.iri,
        mentioned: alice.iri,
        mentionedUrl: alice.iri,
        mentionedName: "alice",
        mentionedHost: new URL(A.url).host,
        text: TEXT.r3,
        hashtag: "pacing",
      });
      // B hears of tina's reply through A's Announce and fetches it from its source.
      mastodon.publish({ "@context": note["@context"], ...note.object });
      expect((await mastodon.send(tina, `${A.url}/inbox`, note)).status).toBe(202);
      for (const [name, iri] of [
        ["r2", r2.iri],
        ["t3", t3.iri],
        ["r3", note.object.id],
      ] as const) {
        const row = await eventually(`${name} on A`, () => postByIri(A.db, iri));
        posts[name] = { id: row.id, iri };
      }
      await like(A.db, A.url, posts.t1.id, mod.actorId);
      posts.t4 = await createThread(A.db, A.url, fatigue, alice.actorId, {
        title: "Deleted root",
        body: "Gone already.",
      });
      posts.t4Reply = await createReply(A.db, A.url, fatigue, mod.actorId, posts.t4.id, { body: TEXT.t4Reply });
      await deletePost(A.db, posts.t4.id, alice.actorId);
      posts.t2 = await createThread(A.db, A.url, fatigue, alice.actorId, { title: TEXT.t2, body: "Posted today." });
      posts.t2Reply = await createReply(A.db, A.url, fatigue, alice.actorId, posts.t2.id, {
        body: "A reply to the fresh thread.",
      });
      posts.y1 = await createThread(A.db, A.url, yearly, alice.actorId, { title: TEXT.y1, body: "Keep me." });
      posts.y2 = await createThread(A.db, A.url, yearly, alice.actorId, { title: TEXT.y2, body: "Expire me." });
      posts.o1 = await createThread(A.db, A.url, archive, alice.actorId, {
        title: TEXT.o1,
        body: "No retention here.",
      });

      // Opening posts' ages (replies keep today's date: a thread expires by its opening post).
      const age: [Post, number][] = [
        [posts.t1, 31],
        [posts.t3, 45],
        [posts.t4, 60],
        [posts.y1, 100],
        [posts.y2, 400],
        [posts.o1, 400],
        [posts.t2, 29],
      ];
      for (const [p, days] of age)
        await A.db
          .updateTable("posts")
          .set({ published_at: daysAgo(days) })
          .where("id", "=", p.id)
          .execute();

      expiring = (["t1", "r1", "r2", "r3", "t3", "t4Reply", "y2"] as const).map((k) => posts[k].iri);
      keeping = (["t2", "t2Reply", "y1", "o1"] as const).map((k) => posts[k].iri);
      for (const name of ["t1", "r1", "r2", "r3", "t3", "t2"] as const)
        await eventually(`${name} on B`, () => postByIri(B.db, posts[name].iri));
      await quiesce(A, B);
      // Everything that is about to go is still there, with its text.
      for (const iri of [...expiring, ...keeping]) expect((await postByIri(A.db, iri))!.deleted_at, iri).toBeNull();
      expect((await postByIri(A.db, posts.t4.iri))!.deleted_at).not.toBeNull();
      expect(
        (await A.db.selectFrom("likes").select("id").where("post_id", "=", posts.t1.id).execute()).length,
        "the like on T1",
      ).toBe(1);
      const tagged = await A.db
        .selectFrom("post_tags")
        .innerJoin("posts", "posts.id", "post_tags.post_id")
        .select("posts.iri")
        .where("posts.iri", "in", expiring)
        .execute();
      expect(tagged.map((t) => t.iri).sort(), "hashtags on T1 and tina's reply").toEqual(
        [posts.t1.iri, posts.r3.iri].sort(),
      );
      deliveriesBefore = mastodon.deliveries.length;

      expired = await applyRetention(A.db);
    });

    it("counts the expired threads: fatigue's three older than 30 days and yearly's one older than 365", () => {
      expect(expired).toBe(4);
    });

    it("tombstones every post of the expired threads, replies included, and drops their likes and tags", async () => {
      for (const iri of expiring) {
        const row = (await postByIri(A.db, iri))!;
        expect(textOf(row), iri).toEqual(EMPTY);
        expect(row.deleted_at, iri).not.toBeNull();
        expect(row.sensitive).toBe(0);
      }
      expect(await A.db.selectFrom("likes").select("id").where("post_id", "=", posts.t1.id).execute()).toEqual([]);
      const tags = await A.db
        .selectFrom("post_tags")
        .innerJoin("posts", "posts.id", "post_tags.post_id")
        .select("posts.iri")
        .where("posts.iri", "in", expiring)
        .execute();
      expect(tags, "no hashtags left on expired posts").toEqual([]);
    });

    it("keeps newer threads, threads of communities without retention, and threads within a longer period", async () => {
      for (const [name, title] of [
        ["t2", TEXT.t2],
        ["y1", TEXT.y1],
        ["o1", TEXT.o1],
      ] as const) {
        const row = (await postByIri(A.db, posts[name].iri))!;
        expect(row, name).toMatchObject({ title, deleted_at: null });
        expect(row.content_html, name).not.toBe("");
      }
      const reply = (await postByIri(A.db, posts.t2Reply.iri))!;
      expect(reply).toMatchObject({ deleted_at: null, source: "A reply to the fresh thread." });
    });

    it("shows the expired thread and its replies as deleted on its page, and lists only live threads", async () => {
      const aliceWeb = await loggedIn(A, "alice");
      const page = await aliceWeb.get(`/posts/${posts.t1.id}`, { accept: "text/html" });
      expect(page.status).toBe(200);
      const thread = element(page.text, '<article class="thread"')!;
      expect(thread).toContain("<h1>[deleted]</h1>");
      expect(thread).toContain('<p class="placeholder">[deleted]</p>');
      for (const name of ["r1", "r2", "r3"] as const) {
        const li = element(page.text, `<li id="post-${posts[name].id}"`);
        expect(li, `${name} is still in the tree`).toBeDefined();
        expect(li).toContain('<p class="placeholder">[deleted]</p>');
      }
      for (const text of [TEXT.t1, TEXT.t1Body, TEXT.r1, TEXT.r2, TEXT.r3, "energy"])
        expect(page.text, `"${text}" on the page`).not.toContain(text);
      // Nothing to reply to any more.
      expect(page.text).not.toContain(`action="/posts/${posts.t1.id}/replies"`);

      const listing = threadTitles((await aliceWeb.get("/@fatigue", { accept: "text/html" })).text);
      expect(listing).toContain(TEXT.t2);
      for (const gone of [TEXT.t1, TEXT.t3]) expect(listing).not.toContain(gone);
      expect(threadTitles((await aliceWeb.get("/@archive", { accept: "text/html" })).text)).toEqual([TEXT.o1]);
      expect(threadTitles((await aliceWeb.get("/@yearly", { accept: "text/html" })).text)).toEqual([TEXT.y1]);
    });

    it("empties the copies held by a Kindred instance whose member joined the community, bob's own posts included", async () => {
      for (const name of ["t1", "r1", "r2", "r3", "t3"] as const) {
        const iri = posts[name].iri;
        const row = await until(
          `${name} tombstoned on B`,
          () => postByIri(B.db, iri),
          (p) => p?.deleted_at != null,
        );
        expect(textOf(row!), `${name} on B`).toEqual(EMPTY);
      }
      await quiesce(A, B);
      expect((await postByIri(B.db, posts.t2.iri))!).toMatchObject({ title: TEXT.t2, deleted_at: null });
    });

    it("sends a Mastodon follower the author's Delete and the community's Announce(Delete), both signed by Kindred", async () => {
      const sinceExpiry = () => mastodon.deliveries.slice(deliveriesBefore);
      // The object is the bare IRI (NodeBB drops its copy only then), answered 410 Gone below.
      const deleteOf = (iri: string) => (b: any) => b?.type === "Delete" && b.object === iri;
      const announced = (iri: string, by: string) =>
        mastodon.waitForDelivery(
          (b, d) =>
            sinceExpiry().includes(d) &&
            b.type === "Announce" &&
            b.actor === fatigue.iri &&
            deleteOf(iri)(b.object) &&
            b.object.actor === by,
          {
            label: `Announce(Delete ${iri}) by ${by}`,
          },
        );
      const direct = (iri: string, by: string) =>
        mastodon.waitForDelivery((b, d) => sinceExpiry().includes(d) && deleteOf(iri)(b) && b.actor === by, {
          label: `Delete ${iri} from ${by}`,
        });

      // Posts of A's own members: the author deletes, the community re-shares it.
      for (const name of ["t1", "r1"] as const) {
        const a = await announced(posts[name].iri, alice.iri);
        expect(a.verified).toBe(true);
        expect(a.signer).toBe(fatigue.iri);
        const d = await direct(posts[name].iri, alice.iri);
        expect(d.verified).toBe(true);
        expect(d.signer).toBe(alice.iri);
        const gone = await fetch(posts[name].iri, { headers: { accept: "application/activity+json" } });
        expect({ status: gone.status, body: await gone.json() }).toMatchObject({
          status: 410,
          body: { id: posts[name].iri, type: "Tombstone" },
        });
      }
      // Posts from elsewhere (B, Mastodon): the community deletes them, as a moderator would.
      for (const name of ["r2", "r3", "t3"] as const) {
        const a = await announced(posts[name].iri, fatigue.iri);
        expect(a.verified).toBe(true);
        expect(a.signer).toBe(fatigue.iri);
        const d = await direct(posts[name].iri, fatigue.iri);
        expect(d.verified).toBe(true);
      }
      // Nothing about threads that stay, nor about yearly (tina does not follow it) — and the text never travels.
      await quiesce(A, B);
      for (const iri of keeping)
        expect(
          sinceExpiry().filter((d) => d.raw.includes(iri)),
          iri,
        ).toEqual([]);
      expect(sinceExpiry().filter((d) => d.raw.includes(posts.y2.iri))).toEqual([]);
      for (const text of [TEXT.t1, TEXT.r1, TEXT.r3])
        expect(sinceExpiry().filter((d) => d.raw.includes(text))).toEqual([]);
    });

    it("does nothing more when it runs again", async () => {
      await quiesce(A, B);
      const deliveries = mastodon.deliveries.length;
      const snapshot = await A.db
        .selectFrom("posts")
        .select(["id", "deleted_at", "updated_at", "content_html"])
        .orderBy("id")
        .execute();
      expect(await applyRetention(A.db)).toBe(0);
      const events = await A.db.selectFrom("fedify_queue").select("id").where("queue", "=", "events").execute();
      expect(events, "no domain events recorded").toEqual([]);
      await quiesce(A, B);
      expect(
        await A.db
          .selectFrom("posts")
          .select(["id", "deleted_at", "updated_at", "content_html"])
          .orderBy("id")
          .execute(),
      ).toEqual(snapshot);
      expect(mastodon.deliveries.length, "no further deliveries").toBe(deliveries);
    });

    it("measures the cutoff from `at`: a thread goes once its opening post is older than retention_days before it", async () => {
      const t2 = () => postByIri(A.db, posts.t2.iri).then((p) => p!);
      // T2 is 29 days old: 30 days of retention reach one day ahead.
      expect(await applyRetention(A.db, new Date(Date.now() + DAY / 2))).toBe(0);
      expect((await t2()).deleted_at).toBeNull();
      expect(await applyRetention(A.db, new Date(Date.now() + 2 * DAY))).toBe(1);
      expect((await t2()).deleted_at).not.toBeNull();
      expect((await postByIri(A.db, posts.t2Reply.iri))!.deleted_at).not.toBeNull();
      // Far in the future yearly's last thread goes too; archive keeps everything.
      expect(await applyRetention(A.db, new Date(Date.now() + 100 * 365 * DAY))).toBe(1);
      expect((await postByIri(A.db, posts.y1.iri))!.deleted_at).not.toBeNull();
      expect((await postByIri(A.db, posts.o1.iri))!).toMatchObject({ title: TEXT.o1, deleted_at: null });
      await quiesce(A, B);
    });
  });
});
