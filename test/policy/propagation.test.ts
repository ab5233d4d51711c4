// A policy change made by another process (the CLI, as a self-hoster runs it
// next to the server) applies to the server's very next request: a
// suspension's first signed Create is refused at the door with nothing
// fetched from the suspended server, a delivery queued before it is dropped
// at its turn (and recorded so), and lifting it revives the accounts its
// purge marked deleted. The same holds for the allow list and federation mode.
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { SPAWN_TIMEOUT, spawnCli } from "../helpers/cli.ts";
import { dialects } from "../helpers/databases.ts";
import { deliveriesTo } from "../helpers/federation.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { actorByIri, postByIri, queueIdle } from "../interop/support.ts";
import { idOf, mastodonFollow, mastodonNote } from "./support.ts";

type Community = Awaited<ReturnType<typeof seedCommunity>>;

describe.each(dialects)("policy changes made by the CLI reach the running server at once (%s)", (dialect) => {
  let instance: TestInstance;
  let peer: Peer;
  let admin: LocalUser;
  let community: Community;
  /** Follows the community; purged by the suspension, revived when it is lifted. */
  let alice: PeerActor;
  /** Deleted her own account (Delete(Person)) before the suspension: stays deleted after it is lifted. */
  let carol: PeerActor;
  const db = () => instance.runtime.db;

  /** Runs `kindred …` as its own process on the instance's database; returns when the process has exited. */
  async function cli(...args: string[]): Promise<number> {
    const env = { DATABASE_URL: instance.database.url, ORIGIN: instance.url, DATA_DIR: instance.config.dataDir };
    const result = await spawnCli({ ...env, LOG_LEVEL: "error" }, args);
    expect(result, `kindred ${args.join(" ")}`).toMatchObject({ code: 0, stderr: "" });
    return performance.now();
  }

  const note = (actor: PeerActor, text: string) =>
    mastodonNote(peer, actor, { text, mentioned: { iri: community.iri, name: "me-cfs" } });

  async function postAndWait(actor: PeerActor, text: string) {
    const create = note(actor, text);
    const res = await peer.send(actor, `${instance.url}/inbox`, create);
    expect(res.status, res.text).toBe(202);
    return waitFor(() => postByIri(instance, create.object.id), { label: `${actor.username}'s post to be stored` });
  }

  const fetchesOf = (actor: PeerActor) => peer.fetches.filter((f) => `${peer.origin}${f.path}`.startsWith(actor.id));

  beforeAll(async () => {
    // One delivery in flight per host: a second one to the peer waits in the queue while the first is held.
    [instance, peer] = await Promise.all([
      startTestInstance({ dialect, env: { DELIVERY_HOST_CONCURRENCY: "1" } }),
      Peer.start("mastodon"),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "me-cfs", name: "ME/CFS" });
    alice = await peer.addActor("alice", { name: "Alice Fog" });
    carol = await peer.addActor("carol", { name: "Carol" });
    const follow = mastodonFollow(peer, alice, community.iri);
    expect((await peer.send(alice, `${community.iri}/inbox`, follow)).status).toBe(202);
    await peer.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id, { label: "Accept" });
    await postAndWait(alice, "Pacing is the only thing that helps me.");
    await postAndWait(carol, "Leaving the fediverse soon.");
    carol.gone = true;
    const del = fixture("mastodon/delete_person.json", { actor: carol.id });
    expect((await peer.send(carol, `${instance.url}/inbox`, del)).status).toBe(202);
    await waitFor(async () => (await actorByIri(instance, carol.id))?.deleted_at ?? undefined, {
      label: "carol's own deletion",
    });
    await queueIdle(instance);
  });
  afterAll(async () => {
    await peer?.stop();
    await instance?.stop();
  });

  it("refuses the suspended server's next signed Create, fetches nothing from it, and drops the delivery queued to it", {
    timeout: 4 * SPAWN_TIMEOUT,
  }, async () => {
    // A delivery in flight that the peer holds, and one behind it in the queue (one per host at a time).
    let release = () => {};
    peer.inboxHold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sent = peer.deliveries.length;
    await createThread(db(), instance.url, community, admin.actorId, { title: "Sent first", body: "Held." });
    await waitFor(() => peer.deliveries.length > sent || undefined, { label: "the first delivery to be in flight" });
    const queued = await createThread(db(), instance.url, community, admin.actorId, {
      title: "Queued before the block",
      body: "Must never reach a suspended server.",
    });
    await waitFor(
      async () => (await deliveriesTo(db(), peer.origin)).some((m) => m.payload.includes(queued.iri)) || undefined,
      { label: "the second delivery to be queued behind the first" },
    );

    const bob = await peer.addActor("bob");
    const fetchesBefore = peer.fetches.length;
    const exited = await cli("domain-block", "add", peer.host, "--severity", "suspend");
    // The very next requests: a known author (whose actor we would refetch) and one we have never fetched.
    const fromAlice = await peer.send(alice, `${instance.url}/inbox`, note(alice, "Anyone still there?"));
    const refusedAfterMs = performance.now() - exited;
    const fromBob = await peer.send(bob, `${instance.url}/inbox`, note(bob, "Hello from a new account."));
    expect(fromAlice.status, fromAlice.text).toBe(403);
    expect(fromBob.status, fromBob.text).toBe(403);
    console.info(`[${dialect}] CLI exit → 403 of the next signed Create: ${refusedAfterMs.toFixed(1)} ms`);

    release();
    peer.inboxHold = null;
    const dropped = await waitFor(
      async () =>
        db()
          .selectFrom("deliveries")
          .select(["status", "last_error", "inbox_url"])
          .where("object_iri", "=", queued.iri)
          .where("host", "=", peer.host)
          .where("last_error", "like", "dropped:%")
          .executeTakeFirst(),
      { label: "the queued delivery to be dropped at its turn" },
    );
    expect(dropped).toMatchObject({ status: "failed", inbox_url: peer.sharedInbox });
    await queueIdle(instance);
    expect(await deliveriesTo(db(), peer.origin), "nothing left queued to the suspended server").toEqual([]);
    expect(
      peer.deliveries.filter((d) => d.raw.includes(queued.iri)),
      "the peer's inbox log: the queued delivery never arrived",
    ).toEqual([]);
    expect(peer.fetches.slice(fetchesBefore), "nothing fetched from the suspended server").toEqual([]);
    expect(fetchesOf(bob)).toEqual([]);
    expect(await actorByIri(instance, bob.id)).toBeUndefined();
    expect(await actorByIri(instance, alice.id), "alice purged with her server").toMatchObject({
      deleted_at: expect.any(String),
      purged_by_block: peer.host,
    });
  });

  it("lifting the suspension accepts the server again and revives the accounts it purged", {
    timeout: 2 * SPAWN_TIMEOUT,
  }, async () => {
    await cli("domain-block", "remove", peer.host);
    // Her membership went with the purge: she joins again, and our Accept reaches her server.
    const follow = mastodonFollow(peer, alice, community.iri);
    const res = await peer.send(alice, `${community.iri}/inbox`, follow);
    expect(res.status, res.text).toBe(202);
    await peer.waitForDelivery((b) => b.type === "Accept" && idOf(b.object) === follow.id, { label: "Accept" });
    const post = await postAndWait(alice, "Back after the block was lifted.");
    expect(post.deleted_at).toBeNull();
    expect(await actorByIri(instance, alice.id), "alice's account is live again").toMatchObject({
      deleted_at: null,
      purged_by_block: null,
    });
    // Carol deleted her own account: lifting a suspension does not bring it back.
    expect(await actorByIri(instance, carol.id)).toMatchObject({
      deleted_at: expect.any(String),
      purged_by_block: null,
    });
  });

  it("switching to allowlist mode and allowing the server apply to the next request", {
    timeout: 4 * SPAWN_TIMEOUT,
  }, async () => {
    await cli("federation", "mode", "allowlist");
    const outside = await peer.send(alice, `${instance.url}/inbox`, note(alice, "Not on the list."));
    expect(outside.status, outside.text).toBe(403);
    await cli("domain-allow", "add", peer.host);
    await postAndWait(alice, "Allowed again.");
    await cli("domain-allow", "remove", peer.host);
    const removed = await peer.send(alice, `${instance.url}/inbox`, note(alice, "Taken off the list."));
    expect(removed.status, removed.text).toBe(403);
    await cli("federation", "mode", "open");
    await postAndWait(alice, "Open federation again.");
  });
});
