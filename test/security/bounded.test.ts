// Nothing unauthenticated is expensive, and every fetch is bounded, written as
// the attacks that worked before: a 400-deep reply chain, a key or context
// URL that streams forever, one that never answers, a 10 MB document, a
// follower whose inbox is a private address.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { signRequest } from "@fedify/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertRemoteActor } from "../../src/actors/remote.ts";
import { createThread } from "../../src/posts/service.ts";
import { until } from "../helpers/federation.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor, PUBLIC, snowflake, uuid } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { postByIri, queueIdle } from "../interop/support.ts";
import { seedFollow, seedRemoteActor } from "../policy/support.ts";

const AS = "https://www.w3.org/ns/activitystreams";

/** A server whose every answer is `behaviour`; counts requests and the bytes it managed to write. */
async function hostile(behaviour: "endless" | "endless-error" | "silent" | "huge") {
  const stats = { requests: 0, bytes: 0, closed: 0 };
  const chunk = Buffer.alloc(64 * 1024, "a");
  const server: Server = createServer((req, res) => {
    stats.requests++;
    req.socket.on("close", () => stats.closed++);
    if (behaviour === "silent") return;
    res.writeHead(behaviour === "endless-error" ? 500 : 200, { "content-type": "application/activity+json" });
    if (behaviour === "huge") {
      const body = `{"id":"x","pad":"${"b".repeat(10 * 1024 * 1024)}"}`;
      stats.bytes += body.length;
      return void res.end(body);
    }
    const pump = () => {
      while (res.write(chunk)) stats.bytes += chunk.length;
      stats.bytes += chunk.length;
    };
    res.on("drain", pump);
    res.write("{");
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    stats,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("cheap refusals and bounded fetches", () => {
  let k: TestInstance;
  let mastodon: Peer;
  let vic: PeerActor;
  let inbox: string;
  let threadIri: string;

  const note = (text: string, extra: Record<string, unknown> = {}) => ({
    id: `${vic.id}/statuses/${snowflake()}`,
    type: "Note",
    attributedTo: vic.id,
    content: `<p>${text}</p>`,
    inReplyTo: threadIri,
    to: [PUBLIC],
    ...extra,
  });
  const create = (object: Record<string, unknown>, context: unknown = AS) => ({
    "@context": context,
    id: `${vic.id}/activities/${uuid()}`,
    type: "Create",
    actor: vic.id,
    to: [PUBLIC],
    object,
  });
  /** Signs `body` with vic's private key, but under `keyId`. */
  async function sendWithKeyId(body: unknown, keyId: string) {
    const request = new Request(inbox, {
      method: "POST",
      headers: { "content-type": "application/activity+json" },
      body: JSON.stringify(body),
    });
    const res = await fetch(
      await signRequest(request, vic.privateKey, new URL(keyId), { spec: "draft-cavage-http-signatures-12" }),
    );
    return { status: res.status, text: await res.text() };
  }

  beforeAll(async () => {
    k = await startTestInstance();
    mastodon = await Peer.start("mastodon");
    vic = await mastodon.addActor("vic");
    const admin = await seedUser(k, "admin", { role: "admin" });
    const community = await seedCommunity(k, admin, { slug: "pots", name: "POTS" });
    inbox = `${community.iri}/inbox`;
    threadIri = (await createThread(k.runtime.db, k.url, community, admin.actorId, { title: "Hi", body: "Hello" })).iri;
  });
  afterAll(async () => {
    await Promise.all([k?.stop(), mastodon?.stop()]);
  });

  it("a 400-deep reply chain is refused by its shape, signed or not, while the server keeps serving", async () => {
    let chain: Record<string, unknown> = { id: `${vic.id}/statuses/0`, type: "Note", attributedTo: vic.id };
    for (let i = 1; i <= 400; i++) chain = note(`level ${i}`, { inReplyTo: chain });
    const body = create(chain);
    expect(JSON.stringify(body).length).toBeGreaterThan(50_000);
    const [unsigned, signed, home] = await Promise.all([
      mastodon.send(vic, inbox, body, { signAs: null }),
      mastodon.send(vic, inbox, body),
      fetch(`${k.url}/`).then((r) => r.status),
    ]);
    for (const res of [unsigned, signed]) {
      expect(res.status).toBe(400);
      expect(res.text).toContain("nests deeper than 32 levels");
    }
    expect(home).toBe(200);
  });

  it("answers 401 to an unsigned activity and 400 to what is not JSON or not an activity", async () => {
    const unsigned = await mastodon.send(vic, inbox, create(note("unsigned-7QW")), { signAs: null });
    expect(unsigned.status).toBe(401);
    expect(unsigned.text).toContain("HTTP signature");
    expect((await mastodon.send(vic, inbox, "{not json")).status).toBe(400);
    expect((await mastodon.send(vic, inbox, [1, 2, 3])).status).toBe(400);
    const deep = `${"[".repeat(1000)}${"]".repeat(1000)}`;
    expect((await mastodon.send(vic, inbox, deep, { signAs: null })).status).toBe(400);
  });

  it("a keyId that streams forever, never answers, or is 10 MB: 401, no more than the cap read, nothing cached", async () => {
    const endless = await hostile("endless");
    const silent = await hostile("silent");
    const huge = await hostile("huge");
    try {
      const [a, b, c] = await Promise.all([
        sendWithKeyId(create(note("endless-key")), `${endless.url}/key`),
        sendWithKeyId(create(note("silent-key")), `${silent.url}/key`),
        sendWithKeyId(create(note("huge-key")), `${huge.url}/key`),
      ]);
      for (const res of [a, b, c]) expect(res.status, res.text).toBe(401);
      // The stream was cut soon after the 1 MiB cap (socket buffers hold a few MiB more at most).
      await until(
        "the endless key's connection closed",
        async () => endless.stats.closed,
        (n) => n > 0,
      );
      expect(endless.stats.bytes).toBeLessThan(16 * 1024 * 1024);
      const cached = await k.runtime.db
        .selectFrom("fedify_kv")
        .select("key")
        .where((eb) => eb.or([huge.url, endless.url, silent.url].map((u) => eb("key", "like", `%${u}%`))))
        .execute();
      expect(cached).toEqual([]);
    } finally {
      await Promise.all([endless.stop(), silent.stop(), huge.stop()]);
    }
  });

  it("never fetches a @context URL: endless, silent, missing or file: contexts cost nothing and the post is kept", async () => {
    const endless = await hostile("endless");
    const silent = await hostile("silent");
    try {
      const contexts = [
        AS,
        `${endless.url}/ctx`,
        `${silent.url}/ctx`,
        `${mastodon.origin}/missing.jsonld`,
        "file:///etc/passwd",
      ];
      const object = note("context-attack-kept-3XD");
      const res = await mastodon.send(vic, inbox, create(object, contexts));
      expect(res.status, res.text).toBe(202);
      await queueIdle(k);
      expect((await postByIri(k, object.id))?.content_html).toContain("context-attack-kept-3XD");
      expect(endless.stats.requests + silent.stats.requests).toBe(0);
    } finally {
      await Promise.all([endless.stop(), silent.stop()]);
    }
  });
});

describe("deliveries to private addresses (ALLOW_PRIVATE_ADDRESS=false)", () => {
  let k: TestInstance;
  let target: Peer;
  afterAll(async () => {
    await Promise.all([k?.stop(), target?.stop()]);
  });

  it("a follower whose inbox is on a private address is never contacted, and the ledger says why", async () => {
    k = await startTestInstance({ env: { ALLOW_PRIVATE_ADDRESS: "false" } });
    target = await Peer.start("mastodon");
    const admin = await seedUser(k, "admin", { role: "admin" });
    const community = await seedCommunity(k, admin, { slug: "ssrf", name: "SSRF" });
    // As if a follower's server had published an inbox on our loopback (blind SSRF).
    const follower = await seedRemoteActor(k.runtime.db, target.host, "insider");
    await seedFollow(k.runtime.db, follower, community.id);
    await createThread(k.runtime.db, k.url, community, admin.actorId, { title: "Hello", body: "Anyone?" });
    const refused = await until(
      "the delivery to the private inbox recorded as failed",
      () => k.runtime.db.selectFrom("deliveries").selectAll().where("host", "=", target.host).execute(),
      (rows) => rows.length > 0 && rows.every((r) => r.status === "failed"),
    );
    expect(refused[0]?.last_error).toContain("refused");
    await queueIdle(k);
    expect(target.deliveries).toEqual([]);
  });
});

describe("a delivery to a server that never answers, or answers forever", () => {
  let k: TestInstance;
  const servers: Awaited<ReturnType<typeof hostile>>[] = [];
  afterAll(async () => {
    await Promise.all([k?.stop(), ...servers.map((h) => h.stop())]);
  });

  /** A community followed by one person whose inbox is on `server`; a thread is posted; resolves to the host. */
  async function deliverTo(server: Awaited<ReturnType<typeof hostile>>, slug: string): Promise<string> {
    const host = new URL(server.url).host;
    const admin = await seedUser(k, `admin${slug}`, { role: "admin" });
    const community = await seedCommunity(k, admin, { slug, name: slug });
    const sink = `${server.url}/users/sink`;
    const sinkId = await upsertRemoteActor(k.runtime.db, {
      iri: sink,
      type: "Person",
      username: "sink",
      host,
      name: "sink",
      summaryHtml: null,
      url: null,
      inboxUrl: `${sink}/inbox`,
      sharedInboxUrl: null,
      outboxUrl: null,
      followersUrl: null,
      followingUrl: null,
      featuredUrl: null,
      avatarUrl: null,
      manuallyApprovesFollowers: false,
      discoverable: true,
    });
    await seedFollow(k.runtime.db, sinkId, community.id);
    await createThread(k.runtime.db, k.url, community, admin.actorId, { title: "Hello", body: "Anyone?" });
    return host;
  }
  const retrying = (host: string) =>
    until(
      `the delivery to ${host} recorded as retrying`,
      () => k.runtime.db.selectFrom("deliveries").selectAll().where("host", "=", host).execute(),
      (r) => r.length > 0 && r.some((d) => d.status === "retrying"),
      90_000,
    );

  it("gives up an attempt the server never answers, or whose error page never ends, and retries later", {
    timeout: 120_000,
  }, async () => {
    k = await startTestInstance();
    const silent = await hostile("silent");
    const endless = await hostile("endless-error");
    servers.push(silent, endless);
    const [silentHost, endlessHost] = [await deliverTo(silent, "stall"), await deliverTo(endless, "flood")];
    // Node's own default would have held the silent attempt for 300 s, past this test's 90 s wait.
    const [stalled, flooded] = await Promise.all([retrying(silentHost), retrying(endlessHost)]);
    expect(stalled.find((d) => d.status === "retrying")?.last_error).toContain("fetch failed");
    expect(flooded.find((d) => d.status === "retrying")?.last_error).toBeTruthy();
    expect(silent.stats.requests).toBeGreaterThan(0);
    // The endless error page was cut at the response cap (8 MiB, plus what sockets buffer).
    await until(
      "the endless error page's connection closed",
      async () => endless.stats.closed,
      (n) => n > 0,
    );
    expect(endless.stats.bytes).toBeLessThan(64 * 1024 * 1024);
  });
});
