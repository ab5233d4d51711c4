// Inbound limits (issue 13): a remote account, and a whole server, get a
// window's allowance of deliveries; over it the inbox answers 429 with
// Retry-After (they retry: nothing is lost, nothing is a 5xx). Only deliveries
// whose signature verified count, so forged requests naming someone else's
// key can't use up that server's allowance.
import { signRequest } from "@fedify/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor, snowflake } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { mastodonNote } from "../policy/support.ts";

describe("inbox limits", () => {
  let instance: TestInstance;
  let mastodon: Peer;
  let other: Peer;
  let alice: PeerActor;
  let bob: PeerActor;
  let carol: PeerActor;
  let mallory: PeerActor;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let refused: Record<string, any>;
  const inbox = () => `${instance.url}/inbox`;
  const note = (peer: Peer, actor: PeerActor) =>
    mastodonNote(peer, actor, { text: `hello ${snowflake()}`, mentioned: { iri: community.iri, name: "pots" } });

  beforeAll(async () => {
    [instance, mastodon, other] = await Promise.all([
      startTestInstance({
        env: { INBOX_LIMIT_PER_ACTOR: "3", INBOX_LIMIT_PER_SERVER: "5", INBOX_LIMIT_WINDOW_S: "3600" },
      }),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    alice = await mastodon.addActor("alice");
    bob = await mastodon.addActor("bob");
    carol = await mastodon.addActor("carol");
    mallory = await other.addActor("mallory");
  });
  afterAll(async () => {
    await Promise.all([mastodon?.stop(), other?.stop()]);
    await instance?.stop();
  });

  it("forged deliveries naming alice's key are refused (401) and don't count against her", async () => {
    for (let i = 0; i < 6; i++) {
      const body = note(mastodon, alice);
      const request = new Request(inbox(), {
        method: "POST",
        headers: { "content-type": "application/activity+json" },
        body: JSON.stringify(body),
      });
      // Signed with mallory's key, under alice's keyId: the signature can't verify.
      const forged = await signRequest(request, mallory.privateKey, new URL(alice.keyId), {
        spec: "draft-cavage-http-signatures-12",
      });
      expect((await fetch(forged)).status).toBe(401);
    }
  });

  it("one account's fourth delivery in the window gets 429 with Retry-After; the server's sixth too", async () => {
    for (let i = 0; i < 3; i++) expect((await mastodon.send(alice, inbox(), note(mastodon, alice))).status).toBe(202);
    refused = note(mastodon, alice);
    const over = await fetch(await mastodon.signedRequest(alice, inbox(), refused));
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another account of the same server still has its own allowance, until the server's is used up.
    expect((await mastodon.send(bob, inbox(), note(mastodon, bob))).status).toBe(202);
    expect((await mastodon.send(bob, inbox(), note(mastodon, bob))).status).toBe(202);
    expect((await mastodon.send(carol, inbox(), note(mastodon, carol))).status).toBe(429);
    // Another server is untouched.
    expect((await other.send(mallory, inbox(), note(other, mallory))).status).toBe(202);
  });

  it("a refused delivery isn't stored; accepted ones are", async () => {
    const iris = async () =>
      (await instance.runtime.db.selectFrom("posts").select("iri").where("local", "=", 0).execute()).map((r) => r.iri);
    let stored: string[] = [];
    for (let i = 0; i < 100 && stored.length < 6; i++) {
      stored = await iris();
      if (stored.length < 6) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored).toHaveLength(6);
    expect(stored).not.toContain(refused.object.id);
  });
});

describe("inbox limits: a server that waits as told", () => {
  let instance: TestInstance;
  let mastodon: Peer;
  let alice: PeerActor;
  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([
      startTestInstance({
        env: { INBOX_LIMIT_PER_ACTOR: "2", INBOX_LIMIT_PER_SERVER: "100", INBOX_LIMIT_WINDOW_S: "2" },
      }),
      Peer.start("mastodon"),
    ]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    alice = await mastodon.addActor("alice");
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  it("re-sends what got 429 after Retry-After, and every activity is stored: none lost", async () => {
    const community = `${instance.url}/@pots`;
    const notes = Array.from({ length: 5 }, () =>
      mastodonNote(mastodon, alice, { text: `hello ${snowflake()}`, mentioned: { iri: community, name: "pots" } }),
    );
    let pending = notes;
    for (let round = 0; round < 20 && pending.length > 0; round++) {
      const refused: typeof notes = [];
      let wait = 0;
      for (const body of pending) {
        const res = await fetch(await mastodon.signedRequest(alice, `${instance.url}/inbox`, body));
        if (res.status === 429) {
          refused.push(body);
          wait = Math.max(wait, Number(res.headers.get("retry-after")));
        } else expect(res.status).toBe(202);
        await res.arrayBuffer();
      }
      pending = refused;
      // As Mastodon does: the refused deliveries are retried once the server said to.
      if (pending.length > 0) await new Promise((r) => setTimeout(r, wait * 1000));
    }
    expect(pending).toEqual([]);
    const iris = notes.map((n) => n.object.id as string);
    let stored: string[] = [];
    for (let i = 0; i < 100 && stored.length < iris.length; i++) {
      stored = (await instance.runtime.db.selectFrom("posts").select("iri").where("iri", "in", iris).execute()).map(
        (r) => r.iri,
      );
      if (stored.length < iris.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored.sort()).toEqual([...iris].sort());
  }, 60_000);
});
