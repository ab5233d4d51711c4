// Attacks on issue 13's marked answers, as a remote server: mallory (Mastodon-
// shaped) starts a thread in our community; our member lee, who is no verified
// clinician, replies. Mallory then updates her own post to declare it a
// question whose "clinician answer" is lee's reply. Her server may speak for
// her thread, but our page would then badge one of OUR members' replies
// "Clinician answer", a trust mark only our admins give (is_clinician).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { createReply } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { postByIri, queueIdle } from "../interop/support.ts";
import { mastodonNote } from "../policy/support.ts";

describe.each(dialects)("a remote server's clinician mark on our member's reply (%s)", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;
  let mallory: PeerActor;
  let lee: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  const db = () => instance.runtime.db;

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance({ dialect }), Peer.start("mastodon")]);
    const admin = await seedUser(instance, "root", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "heart", name: "Heart" });
    lee = await seedUser(instance, "lee");
    await join(db(), instance.url, community, lee.actorId);
    mallory = await mastodon.addActor("mallory");
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  it("is not taken for a local reply whose author is not our verified clinician", async () => {
    const create = mastodonNote(mastodon, mallory, {
      text: "Are beta blockers safe with POTS?",
      mentioned: { iri: community.iri, name: "heart" },
    });
    mastodon.publish(create.object);
    expect((await mastodon.send(mallory, `${instance.url}/inbox`, create)).status).toBeLessThan(300);
    const root = await waitFor(() => postByIri(instance, create.object.id), { label: "mallory's thread" });
    const reply = await createReply(db(), instance.url, community, lee.actorId, root.id, {
      body: "Ask your cardiologist; mine were fine.",
    });

    const id = (create.object.id as string).split("/").at(-1);
    const update = fixture("mastodon/update_note.json", {
      origin: mastodon.origin,
      host: mastodon.host,
      actor: mallory.id,
      username: mallory.username,
      id,
      updateSeq: 1,
      published: create.object.published,
      updated: new Date(Date.now() + 1000).toISOString(),
      inReplyTo: null,
      mentioned: community.iri,
      mentionedUrl: community.iri,
      mentionedName: "heart",
      mentionedHost: new URL(community.iri).host,
      text: "Are beta blockers safe with POTS?",
    });
    update["@context"] = [...update["@context"], { kindred: "https://w3id.org/kindred#" }];
    Object.assign(update.object, {
      "kindred:question": true,
      "kindred:acceptedAnswers": [],
      "kindred:clinicianAnswers": [reply.iri],
    });
    mastodon.publish(update.object);
    expect((await mastodon.send(mallory, `${instance.url}/inbox`, update)).status).toBeLessThan(300);
    await queueIdle(instance);
    // The update was handled (the thread became a question): only the clinician mark is refused.
    const question = await db().selectFrom("questions").select("post_id").where("post_id", "=", root.id).execute();
    expect(question, "the thread became a question").toHaveLength(1);
    const marks = await db()
      .selectFrom("answer_marks")
      .select("kind")
      .where("post_id", "=", reply.id)
      .where("kind", "=", "clinician")
      .execute();
    expect(marks, "a clinician mark on lee's reply").toEqual([]);
  });
});
