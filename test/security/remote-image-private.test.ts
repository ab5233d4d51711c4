// A received post whose image points into our own network (a router's admin
// page, a cloud metadata service): the first view fetches it through the
// process's bounded connector, which refuses private addresses (written as
// such, IPv4-mapped, or a name resolving to one). Here the instance runs as
// in production, ALLOW_PRIVATE_ADDRESS unset, so the loopback server standing
// for the private service must never see a request. This file's process has
// no other instance: the connector is the process's, installed once.
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertRemoteActor } from "../../src/actors/remote.ts";
import { receivePost } from "../../src/posts/remote.ts";
import { dialects } from "../helpers/databases.ts";
import { ImageHost, jpeg } from "../helpers/image-host.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";

describe.each(dialects)("remote images at private addresses (%s)", (dialect) => {
  let instance: TestInstance;
  let internal: ImageHost;
  // The test's own requests to the instance (on loopback) go around the bounded connector.
  const direct = new Agent();

  beforeAll(async () => {
    [instance, internal] = await Promise.all([
      startTestInstance({ dialect, env: { ALLOW_PRIVATE_ADDRESS: "false" } }),
      ImageHost.start(),
    ]);
  });
  afterAll(async () => {
    await internal?.stop();
    await instance?.stop();
    await direct.close();
  });

  it("never fetches an attachment at a private address; the image is marked failed, nothing is stored", async () => {
    const admin = await seedUser(instance, "admin", { role: "admin" });
    const community = await seedCommunity(instance, admin, { slug: "pacing" });
    const db = instance.runtime.db;
    const authorId = await upsertRemoteActor(db, {
      iri: "https://social.example/users/mallory",
      type: "Person",
      username: "mallory",
      host: "social.example",
      name: "Mallory",
      summaryHtml: null,
      url: null,
      inboxUrl: "https://social.example/users/mallory/inbox",
      sharedInboxUrl: null,
      outboxUrl: null,
      followersUrl: null,
      followingUrl: null,
      featuredUrl: null,
      avatarUrl: null,
      manuallyApprovesFollowers: false,
      discoverable: false,
    });
    const body = await jpeg();
    const urls = [
      internal.put("/admin.jpg", { kind: "bytes", body, contentType: "image/jpeg" }),
      `http://[::ffff:127.0.0.1]:${new URL(internal.origin).port}/mapped.jpg`,
      `http://localhost:${new URL(internal.origin).port}/named.jpg`,
    ];
    const received = await receivePost(db, {
      iri: "https://social.example/users/mallory/statuses/1",
      url: null,
      type: "Note",
      authorId,
      communityId: community.id,
      parentId: null,
      title: "Look",
      contentHtml: "<p>Look at this</p>",
      summary: null,
      sensitive: false,
      audience: "public",
      language: null,
      publishedAt: new Date().toISOString(),
      updatedAt: null,
      tags: [],
      images: urls.map((url) => ({ url, mediaType: "image/jpeg", alt: "internal", width: null, height: null })),
    });
    expect(received.stored).toBe(true);
    const rows = await db.selectFrom("media").selectAll().where("remote_url", "in", urls).execute();
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const res = await undiciFetch(`${instance.url}/media/remote/${row.key}`, { dispatcher: direct });
      expect(res.status, row.remote_url ?? "").toBe(404);
      await res.text();
      const after = await db.selectFrom("media").selectAll().where("id", "=", row.id).executeTakeFirstOrThrow();
      expect([after.file, after.failed_at === null]).toEqual([null, false]);
    }
    expect(internal.requests, "the private service never saw a request").toEqual([]);
    // The same server, asked without the bounded connector, answers: the refusal is the connector's.
    const reachable = await undiciFetch(urls[0]!, { dispatcher: direct });
    expect(reachable.status).toBe(200);
    await reachable.arrayBuffer();
  });
});
