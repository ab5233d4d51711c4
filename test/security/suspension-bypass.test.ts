// Attacks on issue 13's account sanctions, as an attacker: what a suspended
// account still gets shown or accepted. "Nothing of a suspended account is
// shown or accepted" (src/sanctions/service.ts) must hold for the RSS/Atom
// feeds too, and for a suspended remote person's posts relayed by a Lemmy
// community (the outer actor of the Announce is the community, not them).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { findSanctionTarget, sanction } from "../../src/sanctions/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, uuid, waitFor } from "../helpers/peer.ts";
import { loggedIn, seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { followRow, postByIri, queueIdle } from "../interop/support.ts";

describe.each(dialects)("what a suspension still lets through (%s)", (dialect) => {
  let instance: TestInstance;
  let lemmy: Peer;
  let group: PeerActor;
  let poster: PeerActor;
  let admin: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let adminWeb: WebClient;
  const db = () => instance.runtime.db;
  const visitor = () => new WebClient(instance.url);

  beforeAll(async () => {
    [instance, lemmy] = await Promise.all([startTestInstance({ dialect }), Peer.start("lemmy")]);
    admin = await seedUser(instance, "root", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS circle" });
    adminWeb = await loggedIn(instance, "root");
    group = await lemmy.addActor("chronic_pain", { type: "Group", name: "Chronic Pain" });
    poster = await lemmy.addActor("lemmy_beta");
  });
  afterAll(async () => {
    await lemmy?.stop();
    await instance?.stop();
  });

  it("a suspended member's thread is not in the community's or their own RSS and Atom feeds", async () => {
    const sam = await seedUser(instance, "sam");
    await seedThread(instance, community, sam, "Miracle salt tablets", "Buy mine at a discount.");
    expect((await visitor().get("/@pots.rss")).text, "before the suspension").toContain("Miracle salt tablets");
    const suspend = await adminWeb.post("/admin/accounts/suspend", { account: "sam", reason: "Selling cures" });
    expect(suspend.status, suspend.text.slice(0, 300)).toBe(303);
    for (const path of ["/@pots.rss", "/@pots.atom"]) {
      const res = await visitor().get(path);
      expect(res.status).toBe(200);
      expect(res.text, path).not.toContain("Miracle salt tablets");
    }
    for (const path of ["/@sam.rss", "/@sam.atom"]) {
      const res = await visitor().get(path);
      expect(res.text, path).not.toContain("Miracle salt tablets");
    }
  });

  it("a suspended Lemmy user's new post, announced by their community, is not stored", async () => {
    // The admin joins the Lemmy community; it announces one post by lemmy_beta.
    const groupId = await instance.runtime.remote!.resolveActor(group.id);
    expect(groupId, "the Lemmy community resolves").toBeTruthy();
    expect(await followRemote(db(), instance.url, admin.actorId, groupId!)).toBe("pending");
    const follow = await lemmy.waitForDelivery((b) => b.type === "Follow" && b.object === group.id);
    const accept = fixture("lemmy/accept.json", {
      origin: lemmy.origin,
      actor: group.id,
      follower: admin.iri,
      followId: follow.body.id,
      uuid: uuid(),
    });
    expect((await lemmy.send(group, `${admin.iri}/inbox`, accept)).status).toBe(202);
    await waitFor(async () => (await followRow(instance, admin.iri, group.id))?.status === "accepted", {
      label: "the join to be accepted",
    });
    const announced = (id: number, title: string) =>
      fixture("lemmy/announce_create_page.json", {
        origin: lemmy.origin,
        group: group.id,
        actor: poster.id,
        id,
        uuid: uuid(),
        announceUuid: uuid(),
        title,
        source: "Text.",
        content: "<p>Text.</p>\n",
        published: new Date().toISOString(),
      });
    const first = announced(1, "Heat or ice?");
    expect((await lemmy.send(group, `${instance.url}/inbox`, first)).status).toBe(202);
    await waitFor(() => postByIri(instance, first.object.object.id), { label: "the first Lemmy post" });

    // The admin suspends lemmy_beta (by actor IRI, as the CLI allows).
    const target = await findSanctionTarget(db(), poster.id);
    await sanction(db(), instance.url, { role: "admin", actorId: admin.actorId }, target, "suspend", "spam");

    const second = announced(2, "Buy my miracle cure");
    const res = await lemmy.send(group, `${instance.url}/inbox`, second);
    expect([202, 403]).toContain(res.status);
    await queueIdle(instance);
    expect(await postByIri(instance, second.object.object.id), "the suspended user's relayed post").toBeUndefined();
  });
});
