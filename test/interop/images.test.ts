// Images in posts against fake Mastodon and Lemmy servers: what Kindred keeps
// of their attachments (Mastodon's `Document`, Lemmy's `Image` beside a
// `Link`, lotide's bare `Image`), what it sends of its own (`Image` in a
// list, which both read), and the cache that serves their images from our
// origin: fetched on first view only, once, re-encoded, bounded, withheld
// under `reject_media`, pruned and fetched again. Each attack is a test.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { preloadedContexts } from "@fedify/fedify/runtime";
import { Object as ApObject } from "@fedify/fedify/vocab";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteImages } from "../../federation/images.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { REMOTE_FETCH } from "../../src/media/remote-cache.ts";
import { pruneRemoteCache, storeUploads } from "../../src/media/service.ts";
import { blockDomain } from "../../src/policy/service.ts";
import { createThread, editPost } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { ImageHost, jpeg } from "../helpers/image-host.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor, PUBLIC, snowflake, uuid, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { mastodonFollow, mastodonNote } from "../policy/support.ts";
import { getJson, idOf, postByIri, queueIdle } from "./support.ts";

const realWorld = join(fileURLToPath(new URL("../../..", import.meta.url)), "shared", "fixtures", "real-world");
const readReal = (path: string) => JSON.parse(readFileSync(join(realWorld, path), "utf8")) as Record<string, any>;

/** Mastodon's context for a status with media (blurhash and focal point are its own terms). */
const MASTODON_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  {
    ostatus: "http://ostatus.org#",
    atomUri: "ostatus:atomUri",
    inReplyToAtomUri: "ostatus:inReplyToAtomUri",
    conversation: "ostatus:conversation",
    sensitive: "as:sensitive",
    toot: "http://joinmastodon.org/ns#",
    votersCount: "toot:votersCount",
    blurhash: "toot:blurhash",
    focalPoint: { "@container": "@list", "@id": "toot:focalPoint" },
    Hashtag: "as:Hashtag",
  },
];

/** A media attachment exactly as Mastodon 4 sends one. */
const mastodonDocument = (url: string, alt: string | null, mediaType = "image/jpeg") => ({
  type: "Document",
  mediaType,
  url,
  name: alt,
  blurhash: "UDH2QS~q00D%%MxuM{of00Rj?bof-;IU?bRj",
  focalPoint: [0, 0],
  width: 64,
  height: 48,
});

describe.each(dialects)("images in posts, with Mastodon and Lemmy (%s)", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;
  let lemmy: Peer;
  let cdn: ImageHost;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let admin: LocalUser;
  let alice: PeerActor;
  let picard: PeerActor;
  let seq = 0;

  const db = () => instance.runtime.db;
  const mediaOf = async (iri: string) => {
    const post = await waitFor(() => postByIri(instance, iri), { label: `the post ${iri}` });
    return db().selectFrom("media").selectAll().where("post_id", "=", post.id).orderBy("position").execute();
  };
  /** Alice's note in the community, with these attachments. */
  async function sendNote(attachment: unknown[], text = "Pacing chart from today") {
    const create = mastodonNote(mastodon, alice, { text, mentioned: { iri: community.iri, name: "pacing" } });
    create["@context"] = MASTODON_CONTEXT;
    create.object.attachment = attachment;
    const res = await mastodon.send(alice, `${instance.url}/inbox`, create);
    expect(res.status, res.text).toBe(202);
    return create;
  }
  const view = (key: string) => fetch(`${instance.url}/media/remote/${key}`);

  beforeAll(async () => {
    [instance, mastodon, lemmy, cdn] = await Promise.all([
      startTestInstance({ dialect }),
      Peer.start("mastodon"),
      Peer.start("lemmy"),
      ImageHost.start(),
    ]);
    admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "pacing", name: "Pacing" });
    alice = await mastodon.addActor("alice");
    picard = await lemmy.addActor("picard");
  });
  afterAll(async () => {
    await Promise.all([mastodon?.stop(), lemmy?.stop(), cdn?.stop()]);
    await instance?.stop();
  });

  it("keeps a Mastodon Document as a reference, fetches it on first view only, once, and serves our copy", async () => {
    const url = cdn.put(`/media_attachments/${++seq}/original.jpg`, {
      kind: "bytes",
      body: await jpeg(64, 48),
      contentType: "image/jpeg",
    });
    const create = await sendNote([mastodonDocument(url, "A chart of heart rate against steps")]);
    const [row, ...rest] = await mediaOf(create.object.id);
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      local: 0,
      position: 0,
      remote_url: url,
      file: null,
      media_type: "image/jpeg",
      alt: "A chart of heart rate against steps",
      width: 64,
      height: 48,
    });
    await queueIdle(instance);
    expect(cdn.hits(url), "nothing is fetched when the post arrives").toBe(0);

    const first = await view(row!.key);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("image/jpeg");
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    const meta = await sharp(Buffer.from(await first.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 64, 48]);
    expect(cdn.hits(url)).toBe(1);
    const second = await view(row!.key);
    expect(second.status).toBe(200);
    await second.arrayBuffer();
    expect(cdn.hits(url), "the second view is served from the cache").toBe(1);
    const cached = await db().selectFrom("media").selectAll().where("id", "=", row!.id).executeTakeFirstOrThrow();
    expect(cached.file).toMatch(/^cache\//);
    expect(cached.fetched_at).not.toBeNull();
  });

  it("stores the attachments of real Lemmy, lotide and Mastodon posts as each server means them", async (ctx) => {
    if (!existsSync(realWorld)) return ctx.skip();
    // Lemmy: an image and a link; the link is the post's link, not an image.
    const page = readReal("lemmy/objects/page_image_and_link.json");
    const pageId = `${lemmy.origin}/post/${++seq}`;
    const lemmyCreate = {
      "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
      id: `${lemmy.origin}/activities/create/${uuid()}`,
      type: "Create",
      actor: picard.id,
      to: [PUBLIC],
      cc: [community.iri],
      audience: community.iri,
      object: {
        ...page,
        id: pageId,
        attributedTo: picard.id,
        to: [community.iri, PUBLIC],
        audience: community.iri,
        context: undefined,
      },
    };
    expect((await lemmy.send(picard, `${community.iri}/inbox`, lemmyCreate)).status).toBeLessThan(300);
    expect(await mediaOf(pageId)).toMatchObject([
      {
        remote_url: "https://enterprise.lemmy.ml/pictrs/image/eOtYb9iEiB.png",
        media_type: "image/png",
        alt: "",
        width: null,
        height: null,
      },
    ]);

    // lotide: an `Image` with no media type.
    const lotide = readReal("lotide/activities/create_page_image.json");
    const noteId = `${lemmy.origin}/apub/posts/${++seq}`;
    const lotideCreate = {
      ...lotide,
      id: `${noteId}/create`,
      actor: picard.id,
      to: community.iri,
      object: { ...lotide.object, id: noteId, attributedTo: picard.id, to: community.iri },
    };
    expect((await lemmy.send(picard, `${community.iri}/inbox`, lotideCreate)).status).toBeLessThan(300);
    expect(await mediaOf(noteId)).toMatchObject([
      { remote_url: "http://ltthostname.local:3334/api/stable/posts/46/href", media_type: "image/*", alt: "" },
    ]);

    // Mastodon: a `Document` with its description, size and blurhash.
    const note = readReal("mastodon/objects/note_2.json");
    const statusId = `${alice.id}/statuses/${snowflake()}`;
    const { inReplyTo: _r, inReplyToAtomUri: _a, replies: _p, ...rest } = note;
    const mastodonCreate = {
      "@context": note["@context"],
      id: `${statusId}/activity`,
      type: "Create",
      actor: alice.id,
      to: [PUBLIC],
      cc: [community.iri],
      object: { ...rest, id: statusId, atomUri: statusId, attributedTo: alice.id, to: [PUBLIC], cc: [community.iri] },
    };
    expect((await mastodon.send(alice, `${instance.url}/inbox`, mastodonCreate)).status).toBe(202);
    expect(await mediaOf(statusId)).toMatchObject([
      {
        remote_url: note.attachment[0].url,
        media_type: "image/jpeg",
        alt: "The KDE dragons Katie and Konqi stand on either side of a pot filling up with gold coins. Donate!",
        width: 1500,
        height: 1095,
      },
    ]);
  });

  it("drops javascript:, data: and non-image attachments at ingest; alt text is plain and bounded", async () => {
    const good = cdn.put(`/media_attachments/${++seq}/original.png`, {
      kind: "bytes",
      body: await jpeg(),
      contentType: "image/jpeg",
    });
    const create = await sendNote([
      mastodonDocument("javascript:alert(document.cookie)", "script", "image/png"),
      mastodonDocument("data:image/png;base64,iVBORw0KGgo=", "inline", "image/png"),
      { ...mastodonDocument(`${cdn.origin}/clip.mp4`, "a video", "video/mp4") },
      { type: "Link", href: "https://example.com/article", mediaType: "text/html" },
      mastodonDocument(good, `<b>kept</b> <script>x()</script>${"a".repeat(3000)}`),
    ]);
    const rows = await mediaOf(create.object.id);
    expect(rows.map((r) => r.remote_url)).toEqual([good]);
    // Alt text as plain text, at most 1,500 characters.
    expect(rows[0]!.alt).toMatch(/^kept a+$/);
    expect(rows[0]!.alt).toHaveLength(1500);
  });

  it("keeps 8 images of a note carrying 1,000", async () => {
    const attachments = Array.from({ length: 1000 }, (_, i) =>
      mastodonDocument(`${cdn.origin}/flood/${i}.jpg`, `image ${i}`),
    );
    const create = await sendNote(attachments);
    const rows = await mediaOf(create.object.id);
    expect(rows.map((r) => r.remote_url)).toEqual(attachments.slice(0, 8).map((a) => a.url));
    expect(rows.map((r) => r.position)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("cuts an endless image body at the size limit: the image fails, no file is kept", async () => {
    const url = cdn.put(`/endless/${++seq}.png`, { kind: "endless", contentType: "image/png" });
    const create = await sendNote([mastodonDocument(url, "never ends", "image/png")]);
    const [row] = await mediaOf(create.object.id);
    const res = await view(row!.key);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).not.toMatch(/^image\//);
    const after = await db().selectFrom("media").selectAll().where("id", "=", row!.id).executeTakeFirstOrThrow();
    expect(after.file).toBeNull();
    expect(after.failed_at).not.toBeNull();
    // Read up to a size limit, then the connection was dropped while the server still had more to send.
    await waitFor(() => cdn.endlessClosed === 1, { label: "the endless response to be cut" });
    expect(cdn.hits(url)).toBe(1);
    // Within the back-off, another view does not fetch again.
    expect((await view(row!.key)).status).toBe(404);
    expect(cdn.hits(url)).toBe(1);
  });

  it("gives up on a server that never sends the body", async () => {
    const url = cdn.put(`/stall/${++seq}.jpg`, { kind: "stall", contentType: "image/jpeg" });
    const create = await sendNote([mastodonDocument(url, "stalls")]);
    const [row] = await mediaOf(create.object.id);
    const timeout = REMOTE_FETCH.timeoutMs;
    REMOTE_FETCH.timeoutMs = 1500;
    try {
      expect((await view(row!.key)).status).toBe(404);
    } finally {
      REMOTE_FETCH.timeoutMs = timeout;
    }
    const after = await db().selectFrom("media").selectAll().where("id", "=", row!.id).executeTakeFirstOrThrow();
    expect([after.file, after.failed_at === null]).toEqual([null, false]);
  });

  it("refuses HTML or SVG served as image/png, and never serves them as they came", async () => {
    const payloads = [
      cdn.put(`/fake/${++seq}.png`, {
        kind: "bytes",
        body: Buffer.from("<html><body><script>alert(document.cookie)</script></body></html>"),
        contentType: "image/png",
      }),
      cdn.put(`/fake/${++seq}.png`, {
        kind: "bytes",
        body: Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script>' +
            '<rect width="10" height="10"/></svg>',
        ),
        contentType: "image/png",
      }),
    ];
    const create = await sendNote(payloads.map((url) => mastodonDocument(url, "fake", "image/png")));
    const rows = await mediaOf(create.object.id);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const res = await view(row.key);
      const body = await res.text();
      expect(res.status, row.remote_url ?? "").toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(body).not.toContain("<script");
      const after = await db().selectFrom("media").selectAll().where("id", "=", row.id).executeTakeFirstOrThrow();
      expect([after.file, after.failed_at === null]).toEqual([null, false]);
    }
    for (const url of payloads) expect(cdn.hits(url)).toBe(1);
  });

  it("under reject_media, never fetches an image of that server (or held on a host under it): alt text only", async () => {
    const medialess = await Peer.start("mastodon");
    const otherCdn = await ImageHost.start();
    try {
      const bob = await medialess.addActor("bob");
      await blockDomain(
        db(),
        { domain: medialess.host, severity: "noop", rejectMedia: true },
        { origin: instance.url },
      );
      await blockDomain(db(), { domain: otherCdn.host, severity: "noop", rejectMedia: true }, { origin: instance.url });
      await instance.runtime.policy.refresh();
      const body = await jpeg();
      const ofRejected = cdn.put(`/rejected/${++seq}.jpg`, { kind: "bytes", body, contentType: "image/jpeg" });
      const onRejectedHost = otherCdn.put(`/held/${++seq}.jpg`, { kind: "bytes", body, contentType: "image/jpeg" });

      const create = mastodonNote(medialess, bob, {
        text: "My flare diary",
        mentioned: { iri: community.iri, name: "pacing" },
      });
      create["@context"] = MASTODON_CONTEXT;
      create.object.attachment = [mastodonDocument(ofRejected, "Bob's swollen knee")];
      expect((await medialess.send(bob, `${instance.url}/inbox`, create)).status).toBe(202);
      const viaCdn = await sendNote([mastodonDocument(onRejectedHost, "A rash on an arm")]);

      const [bobs] = await mediaOf(create.object.id);
      const [alices] = await mediaOf(viaCdn.object.id);
      // The rows are kept: the policy may change.
      expect(bobs).toMatchObject({ remote_url: ofRejected, alt: "Bob's swollen knee" });
      expect(alices).toMatchObject({ remote_url: onRejectedHost, alt: "A rash on an arm" });
      for (const row of [bobs!, alices!]) expect((await view(row.key)).status).toBe(403);

      const post = await postByIri(instance, create.object.id);
      const page = await (await fetch(`${instance.url}/posts/${post!.id}`)).text();
      expect(page).toContain("swollen knee");
      expect(page).not.toContain(`/media/remote/${bobs!.key}"`);
      expect(page).not.toContain(cdn.origin);
      expect(cdn.hits(ofRejected), "the image of a reject_media server is never fetched").toBe(0);
      expect(otherCdn.requests, "nor anything on a host under reject_media").toEqual([]);
    } finally {
      await Promise.all([medialess.stop(), otherCdn.stop()]);
    }
  });

  it("drops a pruned copy, and fetches the image again on the next view", async () => {
    const url = cdn.put(`/pruned/${++seq}.jpg`, { kind: "bytes", body: await jpeg(), contentType: "image/jpeg" });
    const create = await sendNote([mastodonDocument(url, "pruned")]);
    const [row] = await mediaOf(create.object.id);
    expect((await view(row!.key)).status).toBe(200);
    const cached = await db().selectFrom("media").selectAll().where("id", "=", row!.id).executeTakeFirstOrThrow();
    expect(await instance.runtime.media.get(cached.file!)).not.toBeNull();

    const pruned = await pruneRemoteCache(db(), instance.runtime.media, new Date(Date.now() + 60_000).toISOString());
    expect(pruned).toBeGreaterThanOrEqual(1);
    const after = await db().selectFrom("media").selectAll().where("id", "=", row!.id).executeTakeFirstOrThrow();
    expect([after.file, after.fetched_at]).toEqual([null, null]);
    expect(await instance.runtime.media.get(cached.file!)).toBeNull();

    expect(cdn.hits(url)).toBe(1);
    expect((await view(row!.key)).status).toBe(200);
    expect(cdn.hits(url)).toBe(2);
  });

  it("replaces a Mastodon post's images on its Update, keeping the unchanged one's copy", async () => {
    const kept = cdn.put(`/edit/${++seq}.jpg`, { kind: "bytes", body: await jpeg(), contentType: "image/jpeg" });
    const dropped = cdn.put(`/edit/${++seq}.jpg`, { kind: "bytes", body: await jpeg(), contentType: "image/jpeg" });
    const added = cdn.put(`/edit/${++seq}.jpg`, { kind: "bytes", body: await jpeg(), contentType: "image/jpeg" });
    const create = await sendNote([mastodonDocument(kept, "first"), mastodonDocument(dropped, "second")]);
    const before = await mediaOf(create.object.id);
    for (const row of before) expect((await view(row.key)).status).toBe(200);
    const droppedFile = (
      await db().selectFrom("media").select("file").where("id", "=", before[1]!.id).executeTakeFirstOrThrow()
    ).file;

    const update = {
      "@context": MASTODON_CONTEXT,
      id: `${create.object.id}#updates/1`,
      type: "Update",
      actor: alice.id,
      to: [PUBLIC],
      cc: create.object.cc,
      object: {
        ...create.object,
        updated: new Date().toISOString(),
        attachment: [mastodonDocument(added, "new one"), mastodonDocument(kept, "first, described better")],
      },
    };
    expect((await mastodon.send(alice, `${instance.url}/inbox`, update)).status).toBe(202);
    const after = await waitFor(
      async () => {
        const rows = await mediaOf(create.object.id);
        return rows.some((r) => r.remote_url === added) && rows;
      },
      { label: "the edited images" },
    );
    expect(after.map((r) => [r.remote_url, r.alt, r.position])).toEqual([
      [added, "new one", 0],
      [kept, "first, described better", 1],
    ]);
    expect(after[1]!.key, "the image still there keeps its row and cached copy").toBe(before[0]!.key);
    expect(after[1]!.file).not.toBeNull();
    const queued = await db().selectFrom("media_deletions").select("file").where("file", "=", droppedFile!).execute();
    const swept = (await instance.runtime.media.get(droppedFile!)) === null;
    expect(queued.length === 1 || swept, "the dropped image's copy is queued for removal").toBe(true);
  });

  it("sends our images as a list of Image attachments, and an edit's new images in its Update", async () => {
    await mastodon.send(alice, `${community.iri}/inbox`, mastodonFollow(mastodon, alice, community.iri));
    await mastodon.waitForDelivery((b) => b.type === "Accept" && b.actor === community.iri);
    const upload = async (alt: string, width: number) =>
      storeUploads(instance.runtime.media, [
        { bytes: await jpeg(width, 40), alt, field: "image-1", altField: "alt-1" },
      ]);
    const first = await upload("A pacing chart, week one", 80);
    const thread = await createThread(
      db(),
      instance.url,
      community,
      admin.actorId,
      { title: "My chart", body: "Week one." },
      first,
    );
    const attachment = (key: string, alt: string, width: number) => ({
      type: "Image",
      mediaType: "image/jpeg",
      url: `${instance.url}/media/${key}.jpg`,
      name: alt,
      width,
      height: 40,
    });
    const announce = await mastodon.waitForDelivery(
      (b) => b.type === "Announce" && idOf(b.object) === thread.iri && typeof b.object === "object",
      { label: "the Announce of the thread" },
    );
    // A list even for one image: Lemmy refuses a single object there.
    expect(announce.body.object.attachment).toEqual([attachment(first[0]!.key, "A pacing chart, week one", 80)]);
    const served = await getJson(thread.iri);
    expect(served.body.attachment).toEqual([attachment(first[0]!.key, "A pacing chart, week one", 80)]);
    const image = await fetch(`${instance.url}/media/${first[0]!.key}.jpg`);
    expect([image.status, image.headers.get("content-type")]).toEqual([200, "image/jpeg"]);

    const second = await upload("A pacing chart, week two", 60);
    await editPost(
      db(),
      instance.url,
      thread.id,
      admin.actorId,
      { title: "My chart", body: "Weeks one and two." },
      {
        alts: {},
        remove: [first[0]!.key],
        added: second,
      },
    );
    const update = await mastodon.waitForDelivery(
      (b) => b.type === "Update" && idOf(b.object) === thread.iri && b.actor === admin.iri,
      { label: "the Update of the thread" },
    );
    expect(update.body.object.attachment).toEqual([attachment(second[0]!.key, "A pacing chart, week two", 60)]);
    expect(update.verified).toBe(true);
  });
});

describe("attachments of real-world posts, read offline", () => {
  // Only the contexts Fedify ships: reading attachments never fetches anything.
  const offline = async (url: string) => {
    const document = preloadedContexts[url];
    if (document === undefined) throw new Error(`offline: ${url}`);
    return { contextUrl: null, documentUrl: url, document };
  };
  const imagesOf = async (path: string) => {
    const doc = readReal(path);
    doc["@context"] ??= ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"];
    const object = await ApObject.fromJsonLd(doc, { documentLoader: offline, contextLoader: offline });
    return remoteImages(object);
  };

  it("reads WordPress's described Images, and not Lemmy's link post", async (ctx) => {
    if (!existsSync(realWorld)) return ctx.skip();
    const wordpress = await imagesOf("wordpress/objects/page.json");
    expect(wordpress.map((i) => [i.mediaType, i.alt])).toEqual([
      ["image/png", "A fleet of varied spacships"],
      ["image/jpeg", ""],
      ["image/png", ""],
      ["image/jpeg", ""],
    ]);
    expect(wordpress.every((i) => i.url.startsWith("https://i0.wp.com/"))).toBe(true);
    // A Lemmy link post's `Link`, even to a picture, is the post's link, not an image of it.
    expect(await imagesOf("lemmy/objects/page.json")).toEqual([]);
  });
});
