// Images between two real Kindred instances on loopback. A hosts the
// community; B's member has joined it. An image posted on A reaches B as an
// attachment, is fetched by B from A on first view only, and from then on B
// serves its own copy (pages on B never point at A). An edit that changes the
// images changes them on B; a deletion takes B's rows and queues its copies
// for removal. The other way round, B's reply with an image shows on A.
import type { Kysely } from "kysely";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/schema.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { storeUploads } from "../../src/media/service.ts";
import { createReply, createThread, deletePost, editPost } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { eventually, Peer, quiesce, until } from "../helpers/federation.ts";
import { jpeg } from "../helpers/image-host.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";

const postByIri = (db: Kysely<Database>, iri: string) =>
  db.selectFrom("posts").selectAll().where("iri", "=", iri).executeTakeFirst();
const mediaOf = (db: Kysely<Database>, postId: string) =>
  db.selectFrom("media").selectAll().where("post_id", "=", postId).orderBy("position").execute();
const upload = async (peer: Peer, alt: string, width: number) =>
  storeUploads(peer.runtime.media, [{ bytes: await jpeg(width, 30), alt, field: "image-1", altField: "alt-1" }]);

describe.each(dialects)("Kindred ↔ Kindred: images (%s)", (dialect) => {
  let A: Peer;
  let B: Peer;
  let alice: LocalUser;
  let bob: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let groupOnB: string;
  let threadIri: string;
  let threadOnB: string;

  beforeAll(async () => {
    [A, B] = await Promise.all([Peer.start({ dialect }), Peer.start({ dialect })]);
    [alice, bob] = await Promise.all([seedUser(A, "alice", { role: "admin" }), seedUser(B, "bob")]);
    community = await seedCommunity(A, alice, { slug: "pacing", name: "Pacing" });
    groupOnB = (await B.runtime.remote!.resolveActor(community.iri))!;
    await followRemote(B.db, B.url, bob.actorId, groupOnB);
    await until(
      "bob's membership accepted on B",
      () =>
        B.db
          .selectFrom("follows")
          .select("status")
          .where("follower_id", "=", bob.actorId)
          .where("followee_id", "=", groupOnB)
          .executeTakeFirst(),
      (f) => f?.status === "accepted",
    );
  });
  afterAll(async () => {
    await Promise.all([A?.destroy(), B?.destroy()]);
  });

  it("an image posted on A is shown on B from B's own copy, fetched from A once", async () => {
    const images = await upload(A, "A bar chart of good and bad days", 90);
    const thread = await createThread(
      A.db,
      A.url,
      community,
      alice.actorId,
      { title: "Good days", body: "This month." },
      images,
    );
    threadIri = thread.iri;
    const post = await eventually("the thread on B", () => postByIri(B.db, thread.iri));
    threadOnB = post.id;
    const [row, ...rest] = await mediaOf(B.db, post.id);
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      local: 0,
      remote_url: `${A.url}/media/${images[0]!.key}.jpg`,
      file: null,
      media_type: "image/jpeg",
      alt: "A bar chart of good and bad days",
      width: 90,
      height: 30,
    });

    const page = await (await fetch(`${B.url}/posts/${post.id}`)).text();
    expect(page).toContain(`/media/remote/${row!.key}`);
    expect(page).toContain("A bar chart of good and bad days");
    expect(page, "B's page never points at A's files").not.toContain(`${A.url}/media/`);

    const first = await fetch(`${B.url}/media/remote/${row!.key}`);
    expect([first.status, first.headers.get("content-type")]).toEqual([200, "image/jpeg"]);
    expect((await sharp(Buffer.from(await first.arrayBuffer())).metadata()).width).toBe(90);
    const cached = await B.db.selectFrom("media").selectAll().where("id", "=", row!.id).executeTakeFirstOrThrow();
    expect(cached.file).toMatch(/^cache\//);

    // A's file gone: B still serves its copy, so it never asks A again.
    await A.runtime.media.remove(images[0]!.file);
    expect((await fetch(`${A.url}/media/${images[0]!.key}.jpg`)).status).toBe(404);
    const again = await fetch(`${B.url}/media/remote/${row!.key}`);
    expect(again.status).toBe(200);
    expect((await sharp(Buffer.from(await again.arrayBuffer())).metadata()).width).toBe(90);
  });

  it("an edit on A that changes the images changes them on B", async () => {
    const [current] = await mediaOf(A.db, (await postByIri(A.db, threadIri))!.id);
    const [copyOnB] = await mediaOf(B.db, threadOnB);
    expect(copyOnB!.file).toMatch(/^cache\//);
    const added = await upload(A, "The same chart, corrected", 70);
    const threadOnA = (await postByIri(A.db, threadIri))!;
    await editPost(
      A.db,
      A.url,
      threadOnA.id,
      alice.actorId,
      { title: "Good days", body: "This month, corrected." },
      { alts: {}, remove: [current!.key], added },
    );
    const rows = await until(
      "the new image on B",
      () => mediaOf(B.db, threadOnB),
      (r) => r.length === 1 && r[0]!.remote_url === `${A.url}/media/${added[0]!.key}.jpg`,
    );
    expect(rows[0]).toMatchObject({ alt: "The same chart, corrected", width: 70, file: null });
    // The old copy B had made is queued for removal (or already swept by the background loop).
    const queued = await B.db.selectFrom("media_deletions").select("file").where("file", "=", copyOnB!.file!).execute();
    expect(queued.length === 1 || (await B.runtime.media.get(copyOnB!.file!)) === null).toBe(true);
    expect(rows[0]!.key).not.toBe(copyOnB!.key);
  });

  it("a reply with an image from B shows on A from A's copy", async () => {
    const images = await upload(B, "My own chart", 50);
    const parentOnB = (await postByIri(B.db, threadIri))!;
    const reply = await createReply(
      B.db,
      B.url,
      { id: groupOnB, visibility: "public", joinPolicy: "open" },
      bob.actorId,
      parentOnB.id,
      { body: "Mine looks similar." },
      images,
    );
    const onA = await eventually("B's reply on A", () => postByIri(A.db, reply.iri));
    const [row] = await mediaOf(A.db, onA.id);
    expect(row).toMatchObject({ local: 0, remote_url: `${B.url}/media/${images[0]!.key}.jpg`, alt: "My own chart" });
    const res = await fetch(`${A.url}/media/remote/${row!.key}`);
    expect(res.status).toBe(200);
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(50);
  });

  it("a deletion on A takes B's image rows, and B's copies are queued for removal", async () => {
    const [row] = await mediaOf(B.db, threadOnB);
    expect((await fetch(`${B.url}/media/remote/${row!.key}`)).status).toBe(200);
    const file = (await B.db.selectFrom("media").select("file").where("id", "=", row!.id).executeTakeFirstOrThrow())
      .file;
    expect(file).not.toBeNull();
    await deletePost(A.db, (await postByIri(A.db, threadIri))!.id, alice.actorId);
    await until(
      "the thread tombstoned on B",
      () => postByIri(B.db, threadIri),
      (p) => p?.deleted_at != null,
    );
    await quiesce(A, B);
    expect(await mediaOf(B.db, threadOnB)).toEqual([]);
    const queued = await B.db.selectFrom("media_deletions").select("file").where("file", "=", file!).execute();
    const stillThere = await B.runtime.media.get(file!);
    // Queued for the background sweep, or already swept.
    expect(queued.length === 1 || stillThere === null).toBe(true);
    expect((await fetch(`${B.url}/media/remote/${row!.key}`)).status).toBe(404);
  });
});
