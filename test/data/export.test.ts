// A member's data export, end to end on real instances: a member with threads,
// replies, direct messages both ways, likes, an avatar, memberships and a
// moderator role, mutes and blocks, a moderator's deletion of their thread, and
// deliveries to a second Kindred that joined the community. The archive is
// requested over HTTP, built by the running instance's background worker,
// downloaded, unpacked with `tar`, and every file is checked against a zod
// schema and against the database. Then the rules around it: one archive a
// day, owner only, expiry and pruning, the progress display, and the CLI.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { join as joinCommunity } from "../../src/communities/membership.ts";
import { exportsDir, pruneExports } from "../../src/export/service.ts";
import { blockServer, filterPerson } from "../../src/filters/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { newId } from "../../src/ids.ts";
import { sendMessage } from "../../src/messages/service.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { removePost } from "../../src/moderation/posts.ts";
import { fileReport } from "../../src/moderation/reports.ts";
import { createReply, deletePost, like } from "../../src/posts/service.ts";
import { csvLines, type UnpackedArchive, unpackArchive } from "../helpers/archive.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { eventually, Peer, quiesce } from "../helpers/federation.ts";
import { runCli } from "../helpers/processes.ts";
import { alertText, loggedIn, seedCommunity, seedThread, seedUser, tinyPng, unescapeHtml } from "../helpers/seed.ts";

// ---- the archive's documented files, as schemas ----

const iso = z.iso.datetime({ offset: true });
const url = z.url();
const handle = z.string().regex(/^[^@\s]+@[^@\s]+$/, "user@host");

const FILES = [
  "README.html",
  "avatar.png",
  "actor.json",
  "outbox.json",
  "likes.json",
  "direct_messages.json",
  "following_accounts.csv",
  "muted_accounts.csv",
  "blocked_accounts.csv",
  "blocked_domains.csv",
  "communities.json",
  "account.json",
  "moderation.json",
  "deliveries.json",
];

const actorSchema = z.looseObject({
  "@context": z.array(z.unknown()).min(1),
  id: url,
  type: z.literal("Person"),
  preferredUsername: z.string(),
  name: z.string(),
  summary: z.string(),
  url: url,
  inbox: url,
  outbox: url,
  followers: url,
  following: url,
  published: iso,
  endpoints: z.looseObject({ sharedInbox: url }),
  publicKey: z.looseObject({ id: url, owner: url, publicKeyPem: z.string().startsWith("-----BEGIN PUBLIC KEY-----") }),
  // As in a Mastodon archive: the avatar is the file alongside, not a URL.
  icon: z.looseObject({ type: z.literal("Image"), url: z.literal("avatar.png") }),
});

const addressing = z.union([url, z.array(url)]);
const postObject = z.looseObject({
  id: url,
  url: url,
  attributedTo: url,
  audience: url,
  content: z.string().min(1),
  published: iso,
  sensitive: z.boolean(),
  source: z.strictObject({ content: z.string(), mediaType: z.literal("text/markdown") }),
  to: addressing,
  cc: addressing.optional(),
});
const pageObject = postObject.extend({ type: z.literal("Page"), name: z.string().min(1) });
const noteObject = postObject.extend({ type: z.literal("Note"), inReplyTo: url, summary: z.string().optional() });
const createItem = z.looseObject({
  id: url,
  type: z.literal("Create"),
  actor: url,
  published: iso,
  to: addressing,
  cc: addressing.optional(),
  object: z.discriminatedUnion("type", [pageObject, noteObject]),
});
const collection = <T extends z.ZodType>(id: string, item: T) =>
  z.strictObject({
    "@context": z.literal("https://www.w3.org/ns/activitystreams"),
    id: z.literal(id),
    type: z.literal("OrderedCollection"),
    totalItems: z.number().int().nonnegative(),
    orderedItems: z.array(item),
  });
const outboxSchema = collection("outbox.json", createItem);
const likesSchema = collection("likes.json", url);

const messagesSchema = z.strictObject({
  description: z.string().min(1),
  messages: z.array(
    z.strictObject({
      id: url,
      direction: z.enum(["sent", "received"]),
      from: handle,
      to: z.array(handle).min(1),
      published: iso,
      contentWarning: z.string().nullable(),
      content: z.string().min(1),
      source: z.string().nullable(),
    }),
  ),
});

const communitiesSchema = z.strictObject({
  memberships: z.array(
    z.strictObject({
      handle,
      iri: url,
      name: z.string().nullable(),
      onThisServer: z.boolean(),
      status: z.enum(["member", "requested"]),
      requestedAt: iso,
      joinedAt: iso.nullable(),
      moderator: z.boolean(),
    }),
  ),
});

// Strict: nothing beyond the documented keys (no password hash, no session ids).
const accountSchema = z.strictObject({
  username: z.string(),
  handle: z.string().regex(/^@[^@\s]+@[^@\s]+$/),
  iri: url,
  displayName: z.string().nullable(),
  email: z.string().nullable(),
  signedUpAt: iso,
  roles: z.array(z.string()).min(1),
  settings: z.strictObject({
    bio: z.string(),
    filters: z.record(z.enum(["mute", "block", "block_domain"]), z.number().int().positive()),
  }),
  activeSessions: z
    .array(z.strictObject({ startedAt: iso, lastSeenAt: iso, expiresAt: iso, userAgent: z.string().nullable() }))
    .min(1),
});

const moderationSchema = z.strictObject({
  reportsFiled: z.array(
    z.strictObject({
      iri: url.nullable(),
      category: z.string(),
      comment: z.string(),
      status: z.enum(["open", "resolved", "dismissed"]),
      filedAt: iso,
      resolvedAt: iso.nullable(),
      outcome: z.string().nullable(),
    }),
  ),
  actionsOnTheirContent: z.array(
    z.strictObject({
      action: z.string().min(1),
      community: handle.nullable(),
      post: url.nullable(),
      reason: z.string().nullable(),
      at: iso,
    }),
  ),
  communityBans: z.array(
    z.strictObject({ community: handle, reason: z.string().nullable(), since: iso, until: iso.nullable() }),
  ),
});

const deliveriesSchema = z.strictObject({
  description: z.string().min(1),
  servers: z.array(
    z.strictObject({
      host: z.string().min(1),
      deliveries: z.number().int().positive(),
      lastDeliveredAt: iso.nullable(),
    }),
  ),
  deliveries: z.array(
    z.strictObject({
      object: url.nullable(),
      activity: url,
      inbox: url,
      host: z.string().min(1),
      status: z.enum(["pending", "delivered", "retrying", "failed"]),
      attempts: z.number().int().nonnegative(),
      sentAt: iso,
      deliveredAt: iso.nullable(),
    }),
  ),
});

/** Parses with `schema`, failing with zod's own account of every problem. */
function valid<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) expect.fail(`${what} does not match its schema:\n${z.prettifyError(result.error)}`);
  return result.data as z.output<S>;
}

const FOLLOWING_HEADER = "Account address,Show boosts,Notify on new posts,Languages";
// Mastodon's import files, line by line (after the header, where there is one).
const accountAddress = '[^@,\\s"]+@[^@,\\s"]+';
const followingRows = z.array(z.string().regex(new RegExp(`^${accountAddress},(true|false),(true|false),[a-z,-]*$`)));
const mutedRows = z.array(z.string().regex(new RegExp(`^${accountAddress},(true|false)$`)));
const blockedRows = z.array(z.string().regex(new RegExp(`^${accountAddress}$`)));
const domainRows = z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/));

describe.each(dialects)("a member's data export (%s)", (dialect) => {
  let a: Peer;
  let b: Peer;
  let scratch: string;
  const hostA = () => new URL(a.url).host;
  const hostB = () => new URL(b.url).host;

  // What the member did, to look for in the archive.
  const seeded = {
    wren: "" as string, // actor id
    wrenIri: "",
    carol: "",
    dave: "",
    threads: [] as { iri: string; title: string }[],
    replies: [] as { iri: string; body: string; cw: string | null }[],
    removedThread: "",
    ownDeletedReply: "",
    liked: [] as string[],
    communityIri: "",
  };
  let wrenWeb: WebClient;
  const png = tinyPng();

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "kindred-export-test-"));
    [a, b] = await Promise.all([Peer.start({ dialect }), Peer.start()]);
    const db = a.db;
    const admin = await seedUser(a, "admin", { role: "admin" });
    const [wren, carol, dave, eve] = await Promise.all(["wren", "carol", "dave", "eve"].map((n) => seedUser(a, n)));
    seeded.wren = wren!.actorId;
    seeded.wrenIri = wren!.iri;
    seeded.carol = carol!.actorId;
    seeded.dave = dave!.actorId;
    const longCovid = await seedCommunity(a, admin, { slug: "longcovid", name: "Long COVID" });
    const t1d = await seedCommunity(a, admin, { slug: "t1d", name: "Type 1 Diabetes", join: "approval" });
    const mcas = await seedCommunity(a, admin, { slug: "mcas", name: "MCAS" });
    seeded.communityIri = longCovid.iri;

    // Memberships: a member and moderator of one, a pending request in another.
    await joinCommunity(db, a.url, longCovid, wren!.actorId);
    await joinCommunity(db, a.url, longCovid, carol!.actorId);
    expect(await joinCommunity(db, a.url, t1d, wren!.actorId)).toBe("pending");
    await addModerator(db, a.url, { role: "moderator", actorId: admin.actorId }, longCovid.id, wren!.actorId);

    // A second Kindred: bob joins the community, so its posts are delivered there; wren follows bob.
    const bob = await seedUser(b, "bob");
    const groupOnB = await b.runtime.remote!.resolveActor(longCovid.iri);
    await followRemote(b.db, b.url, bob.actorId, groupOnB!);
    await eventually(
      "bob's membership accepted on B",
      async () =>
        (await b.db
          .selectFrom("follows")
          .select("status")
          .where("follower_id", "=", bob.actorId)
          .where("status", "=", "accepted")
          .executeTakeFirst()) ?? undefined,
    );
    const bobOnA = await a.runtime.remote!.resolveActor(bob.iri);
    await followRemote(db, a.url, wren!.actorId, bobOnA!);
    await eventually(
      "wren's follow of bob accepted on A",
      async () =>
        (await db
          .selectFrom("follows")
          .select("status")
          .where("follower_id", "=", wren!.actorId)
          .where("followee_id", "=", bobOnA!)
          .where("status", "=", "accepted")
          .executeTakeFirst()) ?? undefined,
    );

    // Threads and replies.
    const welcome = await seedThread(a, longCovid, admin, "Welcome, everyone", "Say hello");
    const question = await seedThread(a, longCovid, carol!, "Carol asks about sleep", "Anyone?");
    const diary = await seedThread(a, longCovid, wren!, "Pacing diary thr-7f3a", "Week one: **rest** days body-91c2");
    const second = await seedThread(a, longCovid, wren!, "Heat and symptoms thr-b20e", "Summer is hard");
    const removed = await seedThread(
      a,
      longCovid,
      wren!,
      "A thread the moderator removed thr-dead",
      "removed-body-0e1d",
    );
    // Removed by a moderator below: hidden from others, still theirs, so in their export.
    seeded.threads = [
      { iri: diary.iri, title: "Pacing diary thr-7f3a" },
      { iri: second.iri, title: "Heat and symptoms thr-b20e" },
      { iri: removed.iri, title: "A thread the moderator removed thr-dead" },
    ];
    const hello = await createReply(db, a.url, longCovid, wren!.actorId, welcome.id, {
      body: "Hello from wren rep-55aa",
    });
    const doses = await createReply(db, a.url, longCovid, wren!.actorId, diary.id, {
      body: "What helped me: #LongCovid low-dose rep-c0de",
      cw: "Medication doses",
    });
    const typo = await createReply(db, a.url, longCovid, wren!.actorId, question.id, { body: "Typo reply rep-gone" });
    seeded.replies = [
      { iri: hello.iri, body: "Hello from wren rep-55aa", cw: null },
      { iri: doses.iri, body: "What helped me: #LongCovid low-dose rep-c0de", cw: "Medication doses" },
    ];
    await deletePost(db, typo.id, wren!.actorId);
    seeded.ownDeletedReply = typo.iri;

    // Likes (one on the thread that the moderator then removes: a removal keeps it, unlike a deletion).
    await like(db, a.url, welcome.id, wren!.actorId);
    await like(db, a.url, question.id, wren!.actorId);
    await like(db, a.url, removed.id, wren!.actorId);
    seeded.liked = [welcome.iri, question.iri, removed.iri];
    await removePost(db, a.url, { role: "moderator", actorId: admin.actorId }, removed.id);
    seeded.removedThread = removed.iri;

    // Direct messages both ways, one to the other server, and one wren is not part of.
    await sendMessage(db, a.url, wren!.actorId, carol!.actorId, { body: "dm-sent-41f0 see you", cw: "Private" });
    await sendMessage(db, a.url, carol!.actorId, wren!.actorId, { body: "dm-received-7e2b thanks" });
    await sendMessage(db, a.url, wren!.actorId, bobOnA!, { body: "dm-remote-3c9d hi bob" });
    await sendMessage(db, a.url, dave!.actorId, carol!.actorId, { body: "dm-not-wrens-9911" });

    // Mute, block, server block.
    await filterPerson(db, wren!.actorId, dave!.actorId, "mute");
    await filterPerson(db, wren!.actorId, eve!.actorId, "block");
    await blockServer(db, wren!.actorId, "spam.example");

    // Wren reports Carol's question; the ban is a row as a remote community's Block would write it.
    await fileReport(db, a.url, {
      reporterId: wren!.actorId,
      postIds: [question.id],
      category: "other",
      comment: "report-reason-5d5d",
    });
    await db
      .insertInto("community_bans")
      .values({
        community_id: mcas.id,
        actor_id: wren!.actorId,
        banned_by: admin.actorId,
        reason: "ban-reason-6e6e",
        created_at: new Date().toISOString(),
        expires_at: null,
      })
      .execute();

    // Profile and avatar through the settings form, as the member would.
    wrenWeb = await loggedIn(a, "wren");
    await wrenWeb.get("/settings");
    const form = new FormData();
    form.set("displayName", "Wren Alvarez");
    form.set("bio", "Pacing since 2021");
    form.set("email", "wren@example.org");
    form.set("avatar", new File([png], "me.png", { type: "image/png" }));
    expect((await wrenWeb.postMultipart("/settings/profile", form)).status).toBe(303);

    await quiesce(a, b);
    const delivered = await db
      .selectFrom("deliveries")
      .select("status")
      .where("actor_id", "=", wren!.actorId)
      .execute();
    expect(delivered.length, "deliveries of wren's objects to B").toBeGreaterThan(0);
  });

  afterAll(async () => {
    await Promise.all([a?.destroy(), b?.destroy()]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const exportRows = (userId: string) =>
    a.db.selectFrom("exports").selectAll().where("user_id", "=", userId).orderBy("created_at").execute();
  const jobCount = async () =>
    (await a.db.selectFrom("fedify_queue").select("id").where("queue", "=", "jobs").execute()).length;

  /** Asks for an archive over HTTP and waits for the worker to finish it (seen on the page); returns its id. */
  async function requestAndWait(web: WebClient): Promise<string> {
    const page = await web.get("/settings/data");
    expect(page.status).toBe(200);
    const res = await web.post("/settings/data/exports", {});
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    expect(res.headers.get("location")).toBe("/settings/data");
    const ready = await eventually("the archive to be ready on the page", async () => {
      const p = await web.get("/settings/data");
      const m = /data-status="ready"><a href="\/settings\/data\/exports\/([0-9a-f-]{36})" download>Download<\/a>/.exec(
        p.text,
      );
      return m ? { id: m[1]!, text: p.text } : undefined;
    });
    // Nothing left to wait for: the page stops refreshing itself.
    expect(ready.text).not.toContain('http-equiv="refresh"');
    return ready.id;
  }

  let built: Promise<{ id: string; res: Response; bytes: Uint8Array; archive: UnpackedArchive }> | undefined;
  /** Wren's archive, requested, built and downloaded once for the tests that read it. */
  function wrensArchive() {
    built ??= (async () => {
      const id = await requestAndWait(wrenWeb);
      const res = await fetch(new URL(`/settings/data/exports/${id}`, a.url), {
        headers: { cookie: `kindred_session=${wrenWeb.cookie("kindred_session")}` },
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { id, res, bytes, archive: await unpackArchive(bytes, scratch) };
    })();
    return built;
  }

  it("builds the archive in the background and serves it to its owner as a private, uncached gzip download", async () => {
    const { id, res, bytes } = await wrensArchive();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/gzip");
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const [row] = await exportRows(seeded.wren);
    expect(row).toMatchObject({ id, status: "ready", error: null });
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="kindred-archive-${row!.created_at.slice(0, 10)}.tar.gz"`,
    );
    expect(Number(res.headers.get("content-length"))).toBe(bytes.length);
    expect(row!.size_bytes).toBe(bytes.length);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]); // gzip magic
    // Downloadable for seven days, and the progress counter reached its total.
    expect(Date.parse(row!.expires_at!) - Date.parse(row!.finished_at!)).toBe(7 * 24 * 3_600_000);
    expect(row!.total).toBeGreaterThan(0);
    expect(row!.progress).toBe(row!.total);
    // The file served is the one the worker wrote.
    const file = join(exportsDir(a.config.dataDir), row!.file_name!);
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    // Health data: readable by the server's user only.
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("holds exactly the documented files, as plain files with safe names", async () => {
    const { archive } = await wrensArchive();
    expect(archive.entries.map((e) => e.path).sort()).toEqual([...FILES].sort());
    for (const e of archive.entries) {
      expect(e.type, e.path).toBe("File");
      expect(e.path).not.toMatch(/^\/|\.\.|\\/);
    }
    expect(readdirSync(archive.dir).sort()).toEqual([...FILES].sort());
  });

  it("actor.json is the member's Person with the avatar alongside, as stored (re-encoded)", async () => {
    const { archive } = await wrensArchive();
    const actor = valid(actorSchema, archive.json("actor.json"), "actor.json");
    expect(actor.id).toBe(seeded.wrenIri);
    expect(actor.preferredUsername).toBe("wren");
    expect(actor.name).toBe("Wren Alvarez");
    expect(actor.summary).toContain("Pacing since 2021");
    // Uploads are re-encoded (no metadata kept): the archive holds the avatar as we serve it.
    const { avatar_url } = await a.db
      .selectFrom("actors")
      .select("avatar_url")
      .where("id", "=", seeded.wren)
      .executeTakeFirstOrThrow();
    const served = await fetch(avatar_url!);
    expect(new Uint8Array(archive.bytes("avatar.png"))).toEqual(new Uint8Array(await served.arrayBuffer()));
    expect(archive.bytes("avatar.png").subarray(0, 8)).toEqual(Buffer.from(png.subarray(0, 8)));
  });

  it("outbox.json has one Create per live thread and reply, without @context, and no messages or deleted posts", async () => {
    const { archive } = await wrensArchive();
    const raw = archive.json("outbox.json") as { orderedItems: Record<string, unknown>[] };
    const outbox = valid(outboxSchema, raw, "outbox.json");
    for (const item of raw.orderedItems) expect(Object.keys(item)).not.toContain("@context");
    expect(outbox.totalItems).toBe(outbox.orderedItems.length);
    expect(outbox.orderedItems).toHaveLength(seeded.threads.length + seeded.replies.length);
    for (const item of outbox.orderedItems) {
      expect(item.actor).toBe(seeded.wrenIri);
      expect(item.object.attributedTo).toBe(seeded.wrenIri);
      expect(item.object.audience).toBe(seeded.communityIri);
      expect(item.id).toBe(`${item.object.id}#create`);
      expect(item.published).toBe(item.object.published);
    }
    const pages = outbox.orderedItems.map((i) => i.object).filter((o) => o.type === "Page");
    expect(pages.map((p) => [p.id, p.name])).toEqual(seeded.threads.map((t) => [t.iri, t.title]));
    expect(pages[0]!.content).toContain("<strong>rest</strong>");
    expect(pages[0]!.source.content).toContain("body-91c2");
    const notes = outbox.orderedItems.map((i) => i.object).filter((o) => o.type === "Note");
    expect(notes.map((n) => [n.id, n.source.content, n.summary ?? null, n.sensitive])).toEqual(
      seeded.replies.map((r) => [r.iri, r.body, r.cw, r.cw !== null]),
    );
    const withCw = notes.find((n) => n.summary === "Medication doses")!;
    expect(withCw.content).toContain(">#LongCovid</a>");
    expect(JSON.stringify(withCw.tag)).toContain('"type":"Hashtag"');
    expect(JSON.stringify(withCw.tag)).toContain("#longcovid");
    // Deleted posts and messages are not in it.
    const text = archive.text("outbox.json");
    for (const absent of [seeded.ownDeletedReply, "rep-gone", "dm-sent-41f0", "dm-remote-3c9d"])
      expect(text).not.toContain(absent);
  });

  it("likes.json lists the IRIs of the posts still liked", async () => {
    const { archive } = await wrensArchive();
    const likes = valid(likesSchema, archive.json("likes.json"), "likes.json");
    expect(likes.totalItems).toBe(3);
    expect(likes.orderedItems).toEqual(seeded.liked);
  });

  it("the CSV files are Mastodon's: following with its exact header, mutes, blocks and blocked servers", async () => {
    const { archive } = await wrensArchive();
    const following = csvLines(archive.text("following_accounts.csv"));
    expect(following[0]).toBe(FOLLOWING_HEADER);
    valid(followingRows, following.slice(1), "following_accounts.csv");
    valid(mutedRows, csvLines(archive.text("muted_accounts.csv")).slice(1), "muted_accounts.csv");
    valid(blockedRows, csvLines(archive.text("blocked_accounts.csv")), "blocked_accounts.csv");
    valid(domainRows, csvLines(archive.text("blocked_domains.csv")), "blocked_domains.csv");
    // Accepted follows only: the pending request to t1d is not a follow.
    expect(following.slice(1).sort()).toEqual([`bob@${hostB()},true,false,`, `longcovid@${hostA()},true,false,`]);
    expect(archive.text("following_accounts.csv").endsWith("\n")).toBe(true);
    expect(csvLines(archive.text("muted_accounts.csv"))).toEqual([
      "Account address,Hide notifications",
      `dave@${hostA()},true`,
    ]);
    expect(csvLines(archive.text("blocked_accounts.csv"))).toEqual([`eve@${hostA()}`]);
    expect(csvLines(archive.text("blocked_domains.csv"))).toEqual(["spam.example"]);
  });

  it("direct_messages.json has what they sent and received, with who it was between, and nobody else's", async () => {
    const { archive } = await wrensArchive();
    const dms = valid(messagesSchema, archive.json("direct_messages.json"), "direct_messages.json");
    expect(dms.messages.map((m) => [m.direction, m.from, m.to, m.contentWarning, m.source])).toEqual([
      ["sent", `wren@${hostA()}`, [`carol@${hostA()}`], "Private", "dm-sent-41f0 see you"],
      ["received", `carol@${hostA()}`, [`wren@${hostA()}`], null, "dm-received-7e2b thanks"],
      ["sent", `wren@${hostA()}`, [`bob@${hostB()}`], null, "dm-remote-3c9d hi bob"],
    ]);
    for (const m of dms.messages) expect(m.content).toContain(m.source!.split(" ")[0]);
    const published = dms.messages.map((m) => m.published);
    expect([...published].sort()).toEqual(published);
    const ids = await a.db
      .selectFrom("posts")
      .select("iri")
      .where("audience", "=", "direct")
      .where((eb) => eb.or([eb("author_id", "=", seeded.wren), eb("source", "like", "dm-received-%")]))
      .orderBy("id")
      .execute();
    expect(dms.messages.map((m) => m.id)).toEqual(ids.map((r) => r.iri));
    expect(archive.tarBytes.includes("dm-not-wrens-9911")).toBe(false);
  });

  it("communities.json has memberships, the pending request and the moderator role", async () => {
    const { archive } = await wrensArchive();
    const { memberships } = valid(communitiesSchema, archive.json("communities.json"), "communities.json");
    memberships.sort((x, y) => x.handle.localeCompare(y.handle));
    expect(
      memberships.map((m) => [m.handle, m.name, m.onThisServer, m.status, m.moderator, m.joinedAt === null]),
    ).toEqual([
      [`longcovid@${hostA()}`, "Long COVID", true, "member", true, false],
      [`t1d@${hostA()}`, "Type 1 Diabetes", true, "requested", false, true],
    ]);
    expect(memberships[0]!.iri).toBe(seeded.communityIri);
  });

  it("account.json has profile, roles, settings and sessions, but no session ids or password hash", async () => {
    const { archive } = await wrensArchive();
    const account = valid(accountSchema, archive.json("account.json"), "account.json");
    const row = await a.db
      .selectFrom("users")
      .select(["created_at"])
      .where("actor_id", "=", seeded.wren)
      .executeTakeFirstOrThrow();
    expect(account).toMatchObject({
      username: "wren",
      handle: `@wren@${hostA()}`,
      iri: seeded.wrenIri,
      displayName: "Wren Alvarez",
      email: "wren@example.org",
      signedUpAt: row.created_at,
      roles: ["member"],
      settings: { bio: "Pacing since 2021", filters: { mute: 1, block: 1, block_domain: 1 } },
    });
    const sessions = await a.db
      .selectFrom("sessions")
      .select(["created_at", "user_agent"])
      .where("user_id", "=", seeded.wren)
      .orderBy("created_at")
      .execute();
    expect(account.activeSessions.map((s) => [s.startedAt, s.userAgent])).toEqual(
      sessions.map((s) => [s.created_at, s.user_agent]),
    );
  });

  it("moderation.json has the moderator's removal of their thread, their report and their ban", async () => {
    const { archive } = await wrensArchive();
    const mod = valid(moderationSchema, archive.json("moderation.json"), "moderation.json");
    const removal = mod.actionsOnTheirContent.filter((x) => x.action === "remove_post");
    expect(removal).toEqual([
      {
        action: "remove_post",
        community: `longcovid@${hostA()}`,
        post: seeded.removedThread,
        reason: null,
        at: expect.any(String),
      },
    ]);
    // Deleting one's own reply is not a moderation action.
    expect(JSON.stringify(mod)).not.toContain(seeded.ownDeletedReply);
    expect(mod.actionsOnTheirContent.map((x) => x.action)).toContain("add_moderator");
    expect(mod.reportsFiled).toEqual([
      {
        iri: expect.stringMatching(/\/reports\//),
        category: "other",
        comment: "report-reason-5d5d",
        status: "open",
        filedAt: expect.any(String),
        resolvedAt: null,
        outcome: null,
      },
    ]);
    expect(mod.communityBans).toEqual([
      { community: `mcas@${hostA()}`, reason: "ban-reason-6e6e", since: expect.any(String), until: null },
    ]);
  });

  it("deliveries.json is the ledger of their objects: per server and per delivery, as in the database", async () => {
    const { archive } = await wrensArchive();
    const d = valid(deliveriesSchema, archive.json("deliveries.json"), "deliveries.json");
    const rows = await a.db
      .selectFrom("deliveries")
      .selectAll()
      .where("actor_id", "=", seeded.wren)
      .orderBy("id")
      .execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(d.deliveries).toEqual(
      rows.map((r) => ({
        object: r.object_iri,
        activity: r.activity_iri,
        inbox: r.inbox_url,
        host: r.host,
        status: r.status,
        attempts: r.attempts,
        sentAt: r.created_at,
        deliveredAt: r.delivered_at,
      })),
    );
    expect(d.servers).toEqual([
      {
        host: hostB(),
        deliveries: rows.length,
        lastDeliveredAt: rows
          .map((r) => r.delivered_at!)
          .sort()
          .at(-1),
      },
    ]);
    // Their live threads and replies reached B.
    const objects = new Set(d.deliveries.map((x) => x.object));
    for (const t of [...seeded.threads, ...seeded.replies]) expect(objects.has(t.iri), t.iri).toBe(true);
    expect(d.deliveries.every((x) => x.status === "delivered" && x.inbox.startsWith(b.url))).toBe(true);
  });

  it("README.html indexes every file and states the counts", async () => {
    const { archive } = await wrensArchive();
    const readme = archive.text("README.html");
    expect(readme).toMatch(/^<!doctype html>/);
    expect(readme).toContain(`<h1>Your data: @wren@${hostA()}</h1>`);
    // Every file is listed with what it holds, this one included.
    for (const f of FILES)
      expect(readme, f).toMatch(new RegExp(`<tr><td><code>${f.replace(".", "\\.")}</code></td><td>[^<]+</td></tr>`));
    const deliveries = (await a.db.selectFrom("deliveries").select("id").where("actor_id", "=", seeded.wren).execute())
      .length;
    expect(unescapeHtml(readme)).toContain(`It holds 5 posts, 3 direct messages, 3 likes,`);
    expect(readme).toContain(`and ${deliveries} delivery records.`);
    // Follows counted as following_accounts.csv lists them: accepted ones only (a pending request is not a follow).
    const follows = archive.text("following_accounts.csv").trim().split("\n").length - 1;
    expect(unescapeHtml(readme)).toContain(`${follows} follows (`);
    // A standalone page: nothing fetched from anywhere.
    expect(readme).not.toMatch(/<(script|link|img)\b/i);
  });

  it("no password hash, session id, session cookie, private key or instance secret appears anywhere in the archive", async () => {
    const { archive, bytes } = await wrensArchive();
    const user = await a.db
      .selectFrom("users")
      .select("password_hash")
      .where("actor_id", "=", seeded.wren)
      .executeTakeFirstOrThrow();
    const sessions = await a.db.selectFrom("sessions").select("id").where("user_id", "=", seeded.wren).execute();
    const keys = await a.db
      .selectFrom("actor_keys")
      .select("private_jwk")
      .where("actor_id", "=", seeded.wren)
      .execute();
    expect(sessions.length).toBeGreaterThan(0);
    expect(keys.length).toBeGreaterThan(0);
    const secrets = [
      user.password_hash,
      user.password_hash.split("$").at(-1)!, // the digest alone
      ...sessions.map((s) => s.id),
      wrenWeb.cookie("kindred_session")!,
      ...keys.map((k) => (JSON.parse(k.private_jwk) as { d: string }).d),
      a.config.secretKey,
    ];
    const files = archive.entries.map((e) => archive.bytes(e.path));
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(16);
      expect(archive.tarBytes.includes(secret), `a secret (${secret.slice(0, 8)}…) in the tar stream`).toBe(false);
      for (const [i, f] of files.entries())
        expect(f.includes(secret), `a secret in ${archive.entries[i]!.path}`).toBe(false);
    }
    expect(Buffer.from(bytes).includes("argon2")).toBe(false);
    expect(archive.tarBytes.includes("$argon2")).toBe(false);
  });

  it("refuses a second archive within 24 hours with 429, naming when the next one may be requested", async () => {
    await wrensArchive();
    const [first] = await exportRows(seeded.wren);
    const jobsBefore = await jobCount();
    await wrenWeb.get("/settings/data");
    const res = await wrenWeb.post("/settings/data/exports", {});
    expect(res.status).toBe(429);
    const next = new Date(Date.parse(first!.created_at) + 24 * 3_600_000).toISOString().slice(0, 16).replace("T", " ");
    expect(alertText(res.text)).toBe(
      `you can request one archive a day; the next one can be requested after ${next} UTC`,
    );
    // The page is still the data page, with the ready archive listed.
    expect(res.text).toContain(`href="/settings/data/exports/${first!.id}"`);
    expect(await exportRows(seeded.wren)).toHaveLength(1);
    expect(await jobCount()).toBe(jobsBefore);
  });

  it("answers 404 to another member and for unknown archives, and sends logged-out visitors to log in", async () => {
    const { id } = await wrensArchive();
    const dave = await loggedIn(a, "dave");
    const theirs = await dave.get(`/settings/data/exports/${id}`);
    expect(theirs.status).toBe(404);
    expect(theirs.headers.get("content-type")).not.toBe("application/gzip");
    expect((await wrenWeb.get(`/settings/data/exports/${newId()}`)).status).toBe(404);
    // The owner still gets it.
    expect((await wrenWeb.get(`/settings/data/exports/${id}`)).status).toBe(200);

    const anonymous = new WebClient(a.url);
    for (const path of [`/settings/data/exports/${id}`, "/settings/data"]) {
      const res = await anonymous.get(path);
      expect(res.status, path).toBe(302);
      expect(res.headers.get("location")).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
  });

  it("an expired archive answers 404 and shows as expired; pruneExports deletes its row and file", async () => {
    const carol = await loggedIn(a, "carol");
    const id = await requestAndWait(carol);
    expect((await carol.get(`/settings/data/exports/${id}`)).status).toBe(200);
    const row = (await exportRows(seeded.carol)).find((r) => r.id === id)!;
    const file = join(exportsDir(a.config.dataDir), row.file_name!);
    expect(existsSync(file)).toBe(true);

    await a.db
      .updateTable("exports")
      .set({ expires_at: new Date(Date.now() - 60_000).toISOString() })
      .where("id", "=", id)
      .execute();
    expect((await carol.get(`/settings/data/exports/${id}`)).status).toBe(404);
    const page = await carol.get("/settings/data");
    expect(page.text).toMatch(/<td class="export-status" data-status="ready">expired<\/td>/);
    expect(page.text).not.toContain(`/settings/data/exports/${id}`);

    const { id: wrensId } = await wrensArchive();
    expect(await pruneExports(a.db, a.config.dataDir)).toBe(1);
    expect(existsSync(file)).toBe(false);
    expect(await exportRows(seeded.carol)).toEqual([]);
    // Archives that have not expired stay.
    const [wrens] = await exportRows(seeded.wren);
    expect(wrens?.id).toBe(wrensId);
    expect(existsSync(join(exportsDir(a.config.dataDir), wrens!.file_name!))).toBe(true);
  });

  it("shows a running export's progress and refreshes itself while busy, with the request button disabled", async () => {
    const id = newId();
    await a.db
      .insertInto("exports")
      .values({
        id,
        user_id: seeded.dave,
        status: "running",
        progress: 50,
        total: 200,
        file_name: null,
        size_bytes: null,
        error: null,
        created_at: new Date().toISOString(),
        finished_at: null,
        expires_at: null,
      })
      .execute();
    const dave = await loggedIn(a, "dave");
    const page = await dave.get("/settings/data");
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      '<td class="export-status" data-status="running"><progress max="100" value="25">25%</progress> 50 of 200 items</td>',
    );
    expect(page.text).toContain('<meta http-equiv="refresh" content="5">');
    expect(page.text).toMatch(/<button type="submit" disabled>Request an archive<\/button>/);
    // Not downloadable while it runs.
    expect((await dave.get(`/settings/data/exports/${id}`)).status).toBe(404);

    await a.db.updateTable("exports").set({ status: "queued", progress: 0, total: 0 }).where("id", "=", id).execute();
    const queued = await dave.get("/settings/data");
    expect(queued.text).toContain('<td class="export-status" data-status="queued">waiting to start</td>');
    expect(queued.text).toContain('<meta http-equiv="refresh" content="5">');
  });

  describe("kindred user export", () => {
    const cliEnv = () => ({
      ...process.env,
      DATABASE_URL: a.database.url,
      DATA_DIR: a.config.dataDir,
      ORIGIN: a.url,
      LOG_LEVEL: "error",
    });
    const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

    it("writes the same archive as the web export, refuses to overwrite without --force, and names an unknown user", async () => {
      const { archive: web } = await wrensArchive();
      const outDir = join(scratch, "cli");
      mkdirSync(outDir);
      const out = join(outDir, "wren.tar.gz");
      const missing = join(outDir, "nobody.tar.gz");
      const kept = join(outDir, "kept.tar.gz");
      const replaced = join(outDir, "replaced.tar.gz");
      writeFileSync(kept, "an earlier archive");
      writeFileSync(replaced, "an earlier archive");
      // Independent runs, side by side (each process takes a few seconds to start).
      const [made, unknown, refused, forced] = await Promise.all([
        runCli(cliEnv(), ["user", "export", "wren", "--out", out]),
        runCli(cliEnv(), ["user", "export", "nobody", "--out", missing]),
        runCli(cliEnv(), ["user", "export", "wren", "--out", kept]),
        runCli(cliEnv(), ["user", "export", "wren", "--out", replaced, "--force"]),
      ]);

      expect(unknown).toEqual({ code: 1, stdout: "", stderr: 'kindred: user "nobody" not found\n' });
      expect(existsSync(missing)).toBe(false);

      expect(refused).toEqual({
        code: 1,
        stdout: "",
        stderr: `kindred: ${kept} already exists (add --force to replace it)\n`,
      });
      expect(readFileSync(kept, "utf8")).toBe("an earlier archive");

      for (const [result, file] of [
        [made, out],
        [forced, replaced],
      ] as const) {
        expect(result.stderr, file).toBe("");
        expect(result.code, file).toBe(0);
        expect(result.stdout).toMatch(
          new RegExp(`^wrote ${escapeRegExp(file)} \\(${statSync(file).size} bytes\\) in \\d+\\.\\d s\\n$`),
        );
        // Health data: readable by the server's user only.
        expect(statSync(file).mode & 0o777, file).toBe(0o600);
        const cli = await unpackArchive(file, scratch);
        expect(
          cli.entries.map((e) => e.path),
          file,
        ).toEqual(web.entries.map((e) => e.path));
        for (const f of FILES.filter((f) => f.endsWith(".json")))
          expect(cli.json(f), `${file}: ${f}`).toEqual(web.json(f));
        for (const f of FILES.filter((f) => f.endsWith(".csv") || f.endsWith(".png")))
          expect(cli.bytes(f).equals(web.bytes(f)), `${file}: ${f}`).toBe(true);
      }
      // No scratch folder or partial file is left next to the outputs.
      expect(readdirSync(outDir).sort()).toEqual(["kept.tar.gz", "replaced.tar.gz", "wren.tar.gz"]);
    });
  });
});

describe("export progress", () => {
  let a: Peer;
  beforeAll(async () => {
    a = await Peer.start();
  });
  afterAll(async () => {
    await a?.destroy();
  });

  it("is reported each time 500 more items are written, also when they come a page at a time", async () => {
    const admin = await seedUser(a, "admin", { role: "admin" });
    const community = await seedCommunity(a, admin, { slug: "progress", name: "Progress" });
    await seedThread(a, community, admin, "One thread");
    // 1,200 delivery records: deliveries.json writes them a page of 500 at a time.
    const ts = new Date().toISOString();
    const rows = Array.from({ length: 1200 }, (_, i) => ({
      id: newId(),
      actor_id: admin.actorId,
      activity_iri: `${a.url}/activities/${i}`,
      object_iri: null,
      inbox_url: "https://elsewhere.example/inbox",
      host: "elsewhere.example",
      status: "delivered" as const,
      attempts: 1,
      last_error: null,
      created_at: ts,
      updated_at: ts,
      delivered_at: ts,
    }));
    for (let i = 0; i < rows.length; i += 400)
      await a.runtime.db
        .insertInto("deliveries")
        .values(rows.slice(i, i + 400))
        .execute();
    const calls: [number, number][] = [];
    const dir = mkdtempSync(join(tmpdir(), "kindred-progress-"));
    try {
      const { writeArchive } = await import("../../src/export/archive.ts");
      await writeArchive(
        { db: a.runtime.db, origin: a.url, dataDir: a.config.dataDir, archive: a.runtime.archive! },
        admin.actorId,
        join(dir, "a.tar.gz"),
        (done, total) => {
          calls.push([done, total]);
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(calls[0]).toEqual([0, 1201]);
    // Intermediate figures, not just the start and the end.
    expect(calls.filter(([done]) => done > 0 && done < 1201).map(([done]) => done)).toEqual([501, 1001]);
    expect(calls.at(-1)).toEqual([1201, 1201]);
  });
});
