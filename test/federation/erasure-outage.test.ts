// Account erasure when a server that holds the member's posts cannot be told
// at once: real Kindred instances on loopback, the real CLI against the
// instance's database (as a self-hoster runs it next to the server), the
// receipt page over HTTP, and each instance's database read directly.
//
// A hosts a community that B's member joined; alice on A posts there. Her
// erasure lists B on the deletion receipt from the start; while B is down
// the Delete is retried (across a restart of A too) and her keys are kept so
// B can still check its signature; once B is back it arrives, B drops its
// copy, and A destroys the keys. A server A has suspended is never sent
// anything: the receipt says "given up" and the erasure completes.
import { createPublicKey, type JsonWebKey as NodeJwk } from "node:crypto";
import { request as httpRequest } from "node:http";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/schema.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { erasureReceipt } from "../../src/erasure/receipt.ts";
import { followRemote } from "../../src/follows/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { deliveriesTo, eventually, Peer, quiesce, until } from "../helpers/federation.ts";
import { runCli } from "../helpers/processes.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;
type CliResult = Awaited<ReturnType<typeof runCli>>;

/** The environment a self-hoster runs `kindred` with next to `peer`: its database, origin and data directory. */
const envOf = (peer: Peer): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: peer.database.url,
  ORIGIN: peer.url,
  DATA_DIR: peer.config.dataDir,
  ALLOW_PRIVATE_ADDRESS: "true",
  LOG_LEVEL: "error",
});

/** Runs the CLI against `peer`'s database; a self-hoster never sees a stack trace. */
async function kindred(peer: Peer, ...args: string[]): Promise<CliResult> {
  const result = await runCli(envOf(peer), args);
  expect(result.stderr, `stderr of kindred ${args.join(" ")}`).not.toContain("    at ");
  return result;
}

const hostOf = (peer: Peer) => new URL(peer.url).host;
const postByIri = (db: Kysely<Database>, iri: string) =>
  db.selectFrom("posts").selectAll().where("iri", "=", iri).executeTakeFirst();
const keysOf = async (db: Kysely<Database>, actorId: string) =>
  (
    await db
      .selectFrom("actor_keys")
      .select(["kind", "public_jwk"])
      .where("actor_id", "=", actorId)
      .orderBy("kind")
      .execute()
  ).map((k) => ({ kind: k.kind, publicJwk: JSON.parse(k.public_jwk) as JsonWebKey }));
const erasureOf = (db: Kysely<Database>, actorId: string) =>
  db.selectFrom("erasures").selectAll().where("actor_id", "=", actorId).executeTakeFirst();

interface CliReceipt {
  /** The first line: "deletion receipt for @alice@host (deleted), requested …: …". */
  head: string;
  rows: { server: string; status: string; requests: number; attempts: number; lastAttempt: string }[];
  /** The receipt page's address, printed by `user erase` only. */
  pageUrl: string | undefined;
}

/** Reads the receipt `user erase` and `user erasure-status` print (columns split by two or more spaces). */
function parseCliReceipt(stdout: string): CliReceipt {
  const lines = stdout.trimEnd().split("\n");
  const head = lines.find((l) => l.startsWith("deletion receipt for "));
  expect(head, `a receipt head line in:\n${stdout}`).toBeDefined();
  const headerAt = lines.findIndex((l) => l.startsWith("SERVER"));
  expect(headerAt, `a receipt table in:\n${stdout}`).toBeGreaterThan(-1);
  expect(lines[headerAt]!.split(/\s{2,}/)).toEqual(["SERVER", "STATUS", "REQUESTS", "ATTEMPTS", "LAST ATTEMPT"]);
  const rows = [];
  for (const line of lines.slice(headerAt + 1)) {
    if (line.startsWith("receipt page")) break;
    const [server, status, requests, attempts, lastAttempt] = line.split(/\s{2,}/);
    rows.push({
      server: server!,
      status: status!,
      requests: Number(requests),
      attempts: Number(attempts),
      lastAttempt: lastAttempt!,
    });
  }
  const pageUrl = /^receipt page \(keep this address; it is shown once\): (\S+)$/m.exec(stdout)?.[1];
  return { head: head!, rows, pageUrl };
}

/**
 * A GET on a connection of its own. A is stopped and started again within a
 * few milliseconds here: a pooled keep-alive connection to the stopped server
 * might be picked before its close is noticed.
 */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "GET", agent: false, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** The receipt page: its HTTP status, its text, and each server's status cell (`data-status`). */
async function fetchReceiptPage(url: string) {
  const { status, text } = await get(url);
  const servers: Record<string, string> = {};
  for (const m of text.matchAll(/<tr><td>([^<]+)<\/td><td class="receipt-status" data-status="([^"]+)">/g))
    servers[m[1]!] = m[2]!;
  return { status, text, servers };
}

/** GET of an actor IRI as a server asks for it. */
async function actorDocument(iri: string) {
  const { status, text } = await get(iri, { accept: "application/activity+json" });
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status, json, text };
}

/** The PEM a stored public JWK is served as. */
const pemOf = (jwk: JsonWebKey) =>
  createPublicKey({ key: jwk as NodeJwk, format: "jwk" })
    .export({ type: "spki", format: "pem" })
    .toString();

/**
 * Two instances: A hosts the community "sleep" with alice (and `authors`) as
 * members; bob on B joined it over federation.
 */
async function twoInstances() {
  const [A, B] = await Promise.all([Peer.start(), Peer.start()]);
  const [modA, bob] = await Promise.all([seedUser(A, "mod_a", { role: "admin" }), seedUser(B, "bob")]);
  const sleep = await seedCommunity(A, modA, { slug: "sleep", name: "Sleep trouble" });
  const groupOnB = await B.runtime.remote!.resolveActor(sleep.iri);
  expect(groupOnB, "B resolves A's community").toBeTruthy();
  expect(await followRemote(B.db, B.url, bob.actorId, groupOnB!)).toBe("pending");
  await until(
    "bob's membership of A's community accepted on B",
    async () =>
      (
        await B.db
          .selectFrom("follows")
          .select("status")
          .where("follower_id", "=", bob.actorId)
          .where("followee_id", "=", groupOnB!)
          .executeTakeFirst()
      )?.status,
    (s) => s === "accepted",
  );
  return { A, B, modA, bob, sleep, groupOnB: groupOnB! };
}

/** `author` on A posts in A's community; waits until B stored it and A's ledger has B's deliveries as delivered. */
async function postReachingB(A: Peer, B: Peer, sleep: Community, author: LocalUser, title: string, body: string) {
  const thread = await createThread(A.db, A.url, sleep, author.actorId, { title, body });
  const onB = await eventually(`"${title}" stored on B`, () => postByIri(B.db, thread.iri));
  await until(
    `A's ledger: "${title}" delivered to B`,
    () => A.db.selectFrom("deliveries").select(["host", "status"]).where("object_iri", "=", thread.iri).execute(),
    (rows) => rows.length > 0 && rows.every((r) => r.host === hostOf(B) && r.status === "delivered"),
  );
  return { thread, onB };
}

describe("erasure while a server holding the member's posts is down, across a restart of the erasing instance (sqlite)", () => {
  let A: Peer;
  let B: Peer;
  let alice: LocalUser;
  let sleep: Community;
  let groupOnB: string;
  let threadIri: string;
  let receiptUrl: string;

  // Timing (federation/builder.ts): a failed delivery is retried after 1–2 s,
  // then 2–4 s…, and after 5 failures to a host within 10 minutes the circuit
  // breaker holds every delivery to it for 30 minutes (its state is kept in
  // the database, so it survives A's restart). The erasure sends B one
  // request per round (the Delete(Person), on which B drops her posts too):
  // B is down for the first round and at most the second (2 failures), and
  // back well before the breaker would hold its deliveries.

  beforeAll(async () => {
    ({ A, B, sleep, groupOnB } = await twoInstances());
    alice = await seedUser(A, "alice");
    expect(await join(A.db, A.url, sleep, alice.actorId)).toBe("accepted");
  });
  afterAll(async () => {
    await Promise.all([A?.destroy(), B?.destroy()]);
  });

  it("alice's thread in A's community reaches B, and A's ledger records B as holding it", async () => {
    const { thread, onB } = await postReachingB(
      A,
      B,
      sleep,
      alice,
      "Night shifts and melatonin",
      "Has anyone tried **melatonin**? #Insomnia",
    );
    threadIri = thread.iri;
    expect(onB).toMatchObject({
      local: 0,
      community_id: groupOnB,
      title: "Night shifts and melatonin",
      deleted_at: null,
    });
    expect(onB.content_html).toContain("<strong>melatonin</strong>");
    // B fetched alice's actor (and so her key) to store the post.
    expect(
      await B.db.selectFrom("actors").select(["type", "local"]).where("iri", "=", alice.iri).executeTakeFirst(),
    ).toEqual({ type: "Person", local: 0 });
    expect((await keysOf(A.db, alice.actorId)).map((k) => k.kind)).toEqual(["ed25519", "rsa"]);
  });

  it("erased with `kindred user erase --wait 0` while B is down: the receipt lists B at once, then as retrying; her keys stay and her actor document is only what checks signatures", async () => {
    await quiesce(B, A);
    await B.stop();

    const erase = await kindred(A, "user", "erase", "alice", "--yes", "--wait", "0");
    expect({ code: erase.code, stderr: erase.stderr }).toEqual({ code: 0, stderr: "" });
    expect(erase.stdout.split("\n")[0]).toBe(`erased @alice@${hostOf(A)}`);
    // --wait 0: the CLI process delivers nothing itself; A's worker does.
    expect(erase.stdout).not.toContain("delivering the Delete");
    const printed = parseCliReceipt(erase.stdout);
    expect(printed.head).toMatch(
      new RegExp(
        `^deletion receipt for @alice@${hostOf(A).replaceAll(".", "\\.")} \\(deleted\\), requested .* UTC: deliveries in progress$`,
      ),
    );
    expect(printed.rows.map((r) => r.server)).toEqual([hostOf(B)]);
    // Written "pending" with the erasure, so B is listed before A's worker has even tried (it may have by now).
    expect(["queued", "retrying"]).toContain(printed.rows[0]!.status);
    expect(printed.pageUrl).toMatch(new RegExp(`^${A.url.replaceAll(".", "\\.")}/erasures/[A-Za-z0-9_-]{32}$`));
    receiptUrl = printed.pageUrl!;

    // On A, the thread is gone and alice's account with it.
    expect(await postByIri(A.db, threadIri)).toBeUndefined();
    expect(
      await A.db.selectFrom("users").select("actor_id").where("actor_id", "=", alice.actorId).executeTakeFirst(),
    ).toBeUndefined();

    // A's worker tries B, fails, and queues a retry: the receipt page says so.
    const page = await until(
      "the receipt page lists B as retrying",
      () => fetchReceiptPage(receiptUrl),
      (p) => p.status === 200 && p.servers[hostOf(B)] === "retrying",
    );
    expect(page.servers).toEqual({ [hostOf(B)]: "retrying" });
    expect(page.text).toContain("still on their way: 0 of 1 servers accepted it so far");
    expect(page.text).toContain(`@alice@${hostOf(A)}`);

    // The keys stay while a Delete is on its way, and A serves what B needs to check its signature, nothing more.
    const keys = await keysOf(A.db, alice.actorId);
    expect(keys.map((k) => k.kind)).toEqual(["ed25519", "rsa"]);
    const doc = await actorDocument(alice.iri);
    expect(doc.status, doc.text.slice(0, 300)).toBe(200);
    expect(doc.json).toMatchObject({ id: alice.iri, type: "Person", preferredUsername: "alice" });
    expect(doc.json).not.toHaveProperty("name");
    expect(doc.json).not.toHaveProperty("summary");
    const publicKey = doc.json!.publicKey as { owner?: string; publicKeyPem?: string } | undefined;
    expect(publicKey?.owner).toBe(alice.iri);
    expect(publicKey?.publicKeyPem?.trim()).toBe(pemOf(keys.find((k) => k.kind === "rsa")!.publicJwk).trim());
  });

  it("A restarts while B is still down: the Delete is still queued and the receipt still says retrying", async () => {
    await A.stop();
    const left = await A.withOfflineDb(async (db) => ({
      queued: await deliveriesTo(db, B.url),
      receipt: await erasureReceipt(db, { erasureId: (await erasureOf(db, alice.actorId))!.id }),
      keys: (await keysOf(db, alice.actorId)).length,
    }));
    expect(left.queued.length, "deliveries to B left in A's queue").toBeGreaterThan(0);
    expect(left.queued.every((m) => m.inbox === `${B.url}/inbox` && !m.circuitHeld)).toBe(true);
    expect(left.queued.some((m) => m.attempt >= 1)).toBe(true);
    expect(left.receipt?.servers.map((s) => [s.host, s.status])).toEqual([[hostOf(B), "retrying"]]);
    expect(left.receipt?.completedAt).toBeNull();
    expect(left.keys).toBe(2);

    await A.start();
    const page = await fetchReceiptPage(receiptUrl);
    expect(page.status).toBe(200);
    expect(page.servers).toEqual({ [hostOf(B)]: "retrying" });
    const queued = await deliveriesTo(A.db, B.url);
    expect(queued.length, "deliveries to B still queued after A's restart").toBeGreaterThan(0);
    expect(queued.filter((m) => m.circuitHeld)).toEqual([]);
    expect((await erasureOf(A.db, alice.actorId))?.completed_at).toBeNull();
    expect((await keysOf(A.db, alice.actorId)).length).toBe(2);
  });

  it("once B is back the Delete arrives: B's copy has no text, the receipt says accepted (answered 2xx), the keys are destroyed and `user erasure-status` says complete", async () => {
    await B.start();

    const page = await until(
      "the receipt page lists B as accepted",
      async () => ({
        page: await fetchReceiptPage(receiptUrl),
        held: (await deliveriesTo(A.db, B.url)).filter((m) => m.circuitHeld).length,
      }),
      (v) => v.page.servers[hostOf(B)] === "accepted",
    );
    expect(page.page.servers).toEqual({ [hostOf(B)]: "accepted" });

    const onB = await until(
      "B's copy of alice's thread tombstoned",
      () => postByIri(B.db, threadIri),
      (p) => p === undefined || p.deleted_at !== null,
    );
    if (onB)
      expect({ title: onB.title, content_html: onB.content_html, source: onB.source, summary: onB.summary }).toEqual({
        title: null,
        content_html: "",
        source: null,
        summary: null,
      });
    expect(
      (await B.db.selectFrom("actors").select("deleted_at").where("iri", "=", alice.iri).executeTakeFirst())
        ?.deleted_at,
      "B marked alice deleted",
    ).not.toBeNull();

    // A's maintenance loop destroys the keys once every delivery has settled.
    await until(
      "alice's keys destroyed on A",
      () => keysOf(A.db, alice.actorId),
      (k) => k.length === 0,
    );
    expect((await erasureOf(A.db, alice.actorId))?.completed_at).not.toBeNull();
    expect(await deliveriesTo(A.db, B.url)).toEqual([]);
    // No key left to serve: the actor is gone.
    const doc = await actorDocument(alice.iri);
    expect(doc.status).toBe(410);
    expect(doc.json).toMatchObject({ type: "Tombstone", formerType: "Person" });
    expect(doc.text).not.toContain("publicKey");

    const finished = await fetchReceiptPage(receiptUrl);
    expect(finished.servers).toEqual({ [hostOf(B)]: "accepted" });
    expect(finished.text).toContain("the account's keys were destroyed");

    const status = await kindred(A, "user", "erasure-status", "alice");
    expect({ code: status.code, stderr: status.stderr }).toEqual({ code: 0, stderr: "" });
    const receipt = parseCliReceipt(status.stdout);
    expect(receipt.head).toMatch(/: complete since \d{4}-\d\d-\d\d \d\d:\d\d UTC, keys destroyed$/);
    // One request reached B, after a failed try: the Delete(Person), on which B (as Mastodon and Lemmy) drops
    // her posts too, so no Delete per post is queued for it.
    expect(receipt.rows.map((r) => ({ server: r.server, status: r.status, requests: r.requests }))).toEqual([
      { server: hostOf(B), status: "accepted (answered 2xx)", requests: 1 },
    ]);
    expect(receipt.rows[0]!.attempts).toBeGreaterThanOrEqual(2);
    expect(receipt.pageUrl, "the receipt's address is shown once, by `user erase`").toBeUndefined();
  });
});

describe("erasure with a suspended server among those that hold the member's posts (sqlite)", () => {
  let A: Peer;
  let B: Peer;
  let carol: LocalUser;
  let sleep: Community;

  beforeAll(async () => {
    ({ A, B, sleep } = await twoInstances());
    carol = await seedUser(A, "carol");
    expect(await join(A.db, A.url, sleep, carol.actorId)).toBe("accepted");
  });
  afterAll(async () => {
    await Promise.all([A?.destroy(), B?.destroy()]);
  });

  it("a server suspended before the erasure is sent nothing, is listed as given up, and the erasure completes (keys destroyed)", async () => {
    const { thread, onB } = await postReachingB(A, B, sleep, carol, "Weighted blankets", "Do they help anyone else?");
    expect(onB.content_html).toContain("Do they help anyone else?");
    await quiesce(A, B);

    const block = await kindred(A, "domain-block", "add", hostOf(B), "--severity", "suspend");
    expect({ code: block.code, stderr: block.stderr }).toEqual({ code: 0, stderr: "" });
    // The CLI is another process: A rereads its lists every 5 s; the admin page refreshes them at once, as here.
    await A.runtime.policy.refresh();
    expect(A.runtime.policy.isSuspended(B.url)).toBe(true);

    // --wait: this time the CLI process runs the delivery workers itself until the receipt settles.
    const erase = await kindred(A, "user", "erase", "carol", "--yes", "--wait", "15");
    expect({ code: erase.code, stderr: erase.stderr }).toEqual({ code: 0, stderr: "" });
    expect(erase.stdout).toContain(`erased @carol@${hostOf(A)}\ndelivering the Delete (waiting up to 15 s)...\n`);
    const printed = parseCliReceipt(erase.stdout);
    expect(
      printed.rows.map((r) => ({ server: r.server, status: r.status, requests: r.requests, attempts: r.attempts })),
    ).toEqual([{ server: hostOf(B), status: "given up", requests: 1, attempts: 0 }]);
    expect(printed.pageUrl).toBeDefined();

    const page = await fetchReceiptPage(printed.pageUrl!);
    expect(page.status).toBe(200);
    expect(page.servers).toEqual({ [hostOf(B)]: "given up" });
    const row = await A.db
      .selectFrom("deliveries")
      .select(["status", "last_error"])
      .where("actor_id", "=", carol.actorId)
      .where("host", "=", hostOf(B))
      .execute();
    expect(row).toEqual([{ status: "failed", last_error: "not sent: the server is blocked by this instance" }]);

    await until(
      "carol's keys destroyed on A",
      () => keysOf(A.db, carol.actorId),
      (k) => k.length === 0,
    );
    expect((await erasureOf(A.db, carol.actorId))?.completed_at).not.toBeNull();
    const status = await kindred(A, "user", "erasure-status", "carol");
    expect(status.code).toBe(0);
    expect(parseCliReceipt(status.stdout).head).toMatch(/: complete since .* UTC, keys destroyed$/);
    expect(parseCliReceipt(status.stdout).rows.map((r) => [r.server, r.status])).toEqual([[hostOf(B), "given up"]]);

    // Nothing went to B: once both are idle, B still holds carol's thread as it was.
    await quiesce(A, B);
    expect(await deliveriesTo(A.db, B.url)).toEqual([]);
    const stillOnB = await postByIri(B.db, thread.iri);
    expect({ deleted_at: stillOnB?.deleted_at, content_html: stillOnB?.content_html }).toEqual({
      deleted_at: null,
      content_html: onB.content_html,
    });
  });
});

describe("kindred user erase / erasure-status: usage errors", () => {
  let A: Peer;
  beforeAll(async () => {
    A = await Peer.start();
    await Promise.all([seedUser(A, "mod_a", { role: "admin" }), seedUser(A, "dana")]);
  });
  afterAll(async () => {
    await A?.destroy();
  });

  it("refuses to erase without --yes (exit 2), an unknown user (exit 1) and a bad --wait (exit 2); erasure-status of a user never erased exits 1; nothing is erased", async () => {
    // In parallel: each is a process of its own (without --yes and with a bad --wait they stop before opening the database).
    const [noYes, unknown, badWait, neverErased] = await Promise.all([
      kindred(A, "user", "erase", "dana"),
      kindred(A, "user", "erase", "nobody", "--yes", "--wait", "0"),
      kindred(A, "user", "erase", "dana", "--yes", "--wait", "abc"),
      kindred(A, "user", "erasure-status", "dana"),
    ]);
    expect(noYes).toEqual({
      code: 2,
      stdout: "",
      stderr: "kindred: erasing a user cannot be undone; add --yes to confirm\n",
    });
    expect(unknown).toEqual({ code: 1, stdout: "", stderr: 'kindred: user "nobody" not found\n' });
    expect(badWait).toEqual({
      code: 2,
      stdout: "",
      stderr: "kindred: --wait must be a number of seconds from 0 to 3600\n",
    });
    expect(neverErased).toEqual({ code: 1, stdout: "", stderr: 'kindred: no erasure of "dana" was recorded\n' });

    // None of them erased anything: dana's account and profile are intact.
    expect(await A.db.selectFrom("erasures").select("id").execute()).toEqual([]);
    const dana = await A.db
      .selectFrom("actors")
      .innerJoin("users", "users.actor_id", "actors.id")
      .select(["actors.deleted_at"])
      .where("actors.username", "=", "dana")
      .executeTakeFirst();
    expect(dana).toEqual({ deleted_at: null });
    expect((await get(`${A.url}/@dana`)).status).toBe(200);
  });
});
