import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { Peer, fixture, uuid, snowflake, PUBLIC } from "../helpers/peer.ts";
import { queueIdle, postByIri, getJson } from "./support.ts";
import { listThreads } from "../../src/posts/service.ts";

describe("scratch", () => {
  let instance: TestInstance; let peer: Peer; let peer2: Peer;
  beforeAll(async () => { instance = await startTestInstance(); peer = await Peer.start("mastodon"); peer2 = await Peer.start("mastodon"); });
  afterAll(async () => { await peer?.stop(); await peer2?.stop(); await instance?.stop(); });
  it("explores", async () => {
    const admin = await seedUser(instance, "admin", { role: "admin" });
    const community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    const alice = await peer.addActor("alice");
    const carol = await peer2.addActor("carol");
    await peer2.send(carol, `${community.iri}/inbox`, fixture("mastodon/follow.json", { origin: peer2.origin, uuid: uuid(), actor: carol.id, object: community.iri }));
    await peer2.waitForDelivery((b) => b.type === "Accept");
    const mk = (text: string) => fixture("mastodon/create_note.json", { origin: peer.origin, host: peer.host, actor: alice.id, username: "alice", id: snowflake(), published: new Date().toISOString(), inReplyTo: null,
      mentioned: community.iri, mentionedUrl: community.iri, mentionedName: "long-covid", mentionedHost: new URL(instance.url).host, text, hashtag: "x" });
    const priv = mk("followers only");
    for (const o of [priv, priv.object]) { o.to = [`${alice.id}/followers`]; o.cc = [community.iri]; }
    const dm = mk("private message to mods");
    for (const o of [dm, dm.object]) { o.to = [community.iri]; o.cc = []; }
    console.log(await peer.send(alice, `${instance.url}/inbox`, priv));
    console.log(await peer.send(alice, `${instance.url}/inbox`, dm));
    await queueIdle(instance);
    for (const n of [priv, dm]) { const p = await postByIri(instance, n.object.id); console.log(p?.audience, p?.community_id === community.id); }
    for (const d of peer2.deliveries.slice(1)) console.log(d.body.type, JSON.stringify(d.body.to), JSON.stringify(d.body.cc), d.body.object?.type, d.body.object?.content ?? d.body.object?.object?.content);
    const threads = await listThreads(instance.runtime.db, community.id, {});
    console.log(threads.items.map((t) => [t.audience, t.contentHtml]));
    const res = await fetch(`${instance.url}/@long-covid`, { headers: { accept: "text/html" } });
    const html = await res.text();
    console.log("html has dm:", html.includes("private message to mods"), "followers-only:", html.includes("followers only"));
  });
});
