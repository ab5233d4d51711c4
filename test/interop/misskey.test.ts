// Kindred against a fake Misskey (test/fixtures/misskey/): a Misskey note that
// mentions a community becomes a thread there, with sanitized content.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { actorByIri, postByIri } from "./support.ts";

describe("Misskey interop", () => {
  let instance: TestInstance;
  let misskey: Peer;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let mii: PeerActor;

  beforeAll(async () => {
    [instance, misskey] = await Promise.all([startTestInstance(), Peer.start("misskey")]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    mii = await misskey.addActor("mii", { name: "みい", summary: "Long hauler since 2021" });
  });
  afterAll(async () => {
    await misskey?.stop();
    await instance?.stop();
  });

  it("stores a Misskey Create(Note) that mentions the community as a sanitized thread with its content warning", async () => {
    const host = new URL(instance.url).host;
    const noteId = "9xk2m4p7q1";
    const create = fixture("misskey/create_note.json", {
      origin: misskey.origin,
      actor: mii.id,
      id: noteId,
      published: new Date().toISOString(),
      summary: "Symptoms (long)",
      source: `@long-covid@${host} Tachycardia again today. $[shake 😵] <script>steal()</script>`,
      content: `<p><a href="${community.iri}" class="u-url mention">@long-covid@${host}</a> Tachycardia again today. <span>😵</span> <script>steal()</script><a href="javascript:steal()" onclick="steal()">more</a></p>`,
      mentioned: community.iri,
      mentionedName: "long-covid",
      mentionedHost: host,
    });
    // Misskey delivers to the shared inbox when the recipient has one.
    const res = await misskey.send(mii, `${instance.url}/inbox`, create);
    expect(res.status, res.text).toBe(202);

    const post = await waitFor(() => postByIri(instance, create.object.id), { label: "the Misskey note" });
    expect(post).toMatchObject({
      type: "Note",
      community_id: community.id,
      parent_id: null,
      local: 0,
      audience: "public",
      summary: "Symptoms (long)",
      sensitive: 1,
    });
    expect(post.content_html).toContain("Tachycardia again today.");
    expect(post.content_html).toContain(`<a href="${community.iri}" class="u-url mention"`);
    for (const bad of ["<script", "steal()", "javascript:", "onclick"]) expect(post.content_html).not.toContain(bad);
    // The MFM source (`_misskey_content`) is Misskey's own; Kindred keeps the HTML only.
    expect(post.source).toBeNull();

    const author = await actorByIri(instance, mii.id);
    expect(author).toMatchObject({
      type: "Person",
      local: 0,
      username: "mii",
      name: "みい",
      inbox_url: `${mii.id}/inbox`,
      shared_inbox_url: `${misskey.origin}/inbox`,
    });
    expect(author!.summary_html).toContain("Long hauler since 2021");
  });
});
