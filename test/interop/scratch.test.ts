import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { seedCommunity, seedUser, seedThread } from "../helpers/seed.ts";
import { Peer, fixture, uuid } from "../helpers/peer.ts";
import { queueIdle, getJson } from "./support.ts";

describe("scratch", () => {
  let instance: TestInstance; let peer: Peer;
  beforeAll(async () => { instance = await startTestInstance(); peer = await Peer.start("mastodon"); });
  afterAll(async () => { await peer?.stop(); await instance?.stop(); });
  it("explores", async () => {
    const admin = await seedUser(instance, "admin", { role: "admin" });
    const community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    const alice = await peer.addActor("alice");
    const t0 = Date.now();
    const follow = fixture("mastodon/follow.json", { origin: peer.origin, uuid: uuid(), actor: alice.id, object: community.iri });
    const r = await peer.send(alice, `${instance.url}/@long-covid/inbox`, follow);
    console.log("follow", r, Date.now() - t0);
    await peer.waitForDelivery((b) => b.type === "Accept");
    console.log("accept after", Date.now() - t0, JSON.stringify(peer.deliveries[0], null, 1));
    await seedThread(instance, community as any, admin, "Hello", "Body #pacing");
    await peer.waitForDelivery((b) => b.type === "Announce" && typeof b.object === "object" && b.object.type === "Page");
    await queueIdle(instance);
    console.log("announces after", Date.now() - t0);
    for (const d of peer.deliveries.slice(1)) console.log(d.path, d.verified, d.raw);
    console.log(peer.fetches);
    console.log(JSON.stringify((await getJson(community.iri)).body, null, 1));
  });
});
