// Attacks on issue 12's remote like counts, written as an attack: a remote
// member of one of OUR communities claims a billion likes for their own
// thread, and the local community's "top" order believes it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listThreads } from "../../src/posts/queries.ts";
import { like } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { postByIri, queueIdle } from "../interop/support.ts";
import { mastodonNote } from "../policy/support.ts";

describe.each(dialects)("remote like counts in a local community (%s)", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;
  let mallory: PeerActor;

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance({ dialect }), Peer.start("mastodon")]);
    mallory = await mastodon.addActor("mallory");
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  it("a remote author's claimed billion likes do not put their thread atop our community's top order", async () => {
    const admin = await seedUser(instance, "admin_rc", { role: "admin" });
    const members = await Promise.all(["m1_rc", "m2_rc", "m3_rc"].map((u) => seedUser(instance, u)));
    const community = await seedCommunity(instance, admin, { slug: "pacing_rc", name: "Pacing" });
    const ours = await seedThread(instance, community, admin, "Liked by three members here");
    for (const m of members) await like(instance.runtime.db, instance.url, ours.id, m.actorId);

    const create = mastodonNote(mastodon, mallory, {
      text: "Buy my supplements",
      mentioned: { iri: community.iri, name: "pacing_rc" },
    });
    mastodon.publish(create.object);
    expect((await mastodon.send(mallory, `${instance.url}/inbox`, create)).status).toBeLessThan(300);
    await waitFor(() => postByIri(instance, create.object.id), { label: "mallory's thread" });

    // Mastodon's own Update of the status, its `likes` count as Mastodon embeds it, the number made up.
    const object = {
      ...create.object,
      content: "<p>Buy my supplements (edited)</p>",
      updated: new Date(Date.now() + 1000).toISOString(),
      likes: { id: `${create.object.id}/likes`, type: "Collection", totalItems: 1_000_000_000 },
    };
    const update = { ...create, id: `${create.object.id}#updates/1`, type: "Update", object };
    mastodon.publish(object);
    expect((await mastodon.send(mallory, `${instance.url}/inbox`, update)).status).toBeLessThan(300);
    await waitFor(
      async () => {
        const p = await postByIri(instance, create.object.id);
        return p?.content_html.includes("edited") ? p : undefined;
      },
      { label: "the edit applied" },
    );

    const top = await listThreads(instance.runtime.db, community.id, { sort: "top", period: "all", limit: 2 });
    expect(top.items.map((t) => [t.title, t.likes])[0]).toEqual(["Liked by three members here", 3]);
  });

  it("another account of the same server cannot set the like count of someone else's post", async () => {
    const admin = await seedUser(instance, "admin_rc2", { role: "admin" });
    const community = await seedCommunity(instance, admin, { slug: "pots_rc", name: "POTS" });
    const alice = await mastodon.addActor("alice_rc");
    const create = mastodonNote(mastodon, alice, {
      text: "Salt helps me",
      mentioned: { iri: community.iri, name: "pots_rc" },
    });
    mastodon.publish(create.object);
    expect((await mastodon.send(alice, `${instance.url}/inbox`, create)).status).toBeLessThan(300);
    const post = await waitFor(() => postByIri(instance, create.object.id), { label: "alice's thread" });

    // Mallory, on the same server, "updates" alice's status: the edit is refused (not the author),
    // but the count it carries is recorded anyway (federation/inbox/update.ts checks the origin only).
    const object = {
      ...create.object,
      attributedTo: mallory.id,
      likes: { id: `${create.object.id}/likes`, type: "Collection", totalItems: 123_456 },
    };
    const update = {
      ...create,
      id: `${mallory.id}#updates/${Date.now()}`,
      type: "Update",
      actor: mallory.id,
      object,
    };
    expect((await mastodon.send(mallory, `${instance.url}/inbox`, update)).status).toBeLessThan(300);
    await queueIdle(instance);
    const counts = await instance.runtime.db
      .selectFrom("remote_counts")
      .selectAll()
      .where("post_id", "=", post.id)
      .execute();
    expect(counts).toEqual([]);
  });
});
