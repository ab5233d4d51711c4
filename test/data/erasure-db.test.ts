// Erasure on both databases: what `eraseAccount` leaves behind, row by row and
// in every text column, on SQLite and on PostgreSQL. The federation side (who
// is told, receipts, byte scans) is in test/federation/erasure*.test.ts.
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fedifyQueuedDeliveries } from "../../federation/queued-deliveries.ts";
import { join as joinCommunity } from "../../src/communities/membership.ts";
import { ensureAnonymousActor } from "../../src/erasure/anonymous.ts";
import { erasureReceipt } from "../../src/erasure/receipt.ts";
import { eraseAccount, erasureSummary } from "../../src/erasure/service.ts";
import { requestExport } from "../../src/export/service.ts";
import { filterPerson } from "../../src/filters/service.ts";
import { newId } from "../../src/ids.ts";
import { storeUploads, sweepMediaDeletions } from "../../src/media/service.ts";
import { sendMessage } from "../../src/messages/service.ts";
import { removePost } from "../../src/moderation/posts.ts";
import { fileReport } from "../../src/moderation/reports.ts";
import { createReply, createThread, like } from "../../src/posts/service.ts";
import { postIri } from "../../src/urls.ts";
import { dialects } from "../helpers/databases.ts";
import { eventually } from "../helpers/federation.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { scanDatabase } from "../helpers/scan.ts";
import { loggedIn, seedCommunity, seedUser } from "../helpers/seed.ts";

describe.each(dialects)("eraseAccount (%s)", (dialect) => {
  let instance: TestInstance;
  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("removes every row of the member's content and personal data, keeps others' replies under a tombstone, and reserves the name", async () => {
    const db = instance.runtime.db;
    const admin = await seedUser(instance, "admin", { role: "admin" });
    const ivy = await seedUser(instance, "ivy");
    const kim = await seedUser(instance, "kim");
    const community = await seedCommunity(instance, admin, { slug: "eds", name: "EDS" });
    await joinCommunity(db, instance.url, community, ivy.actorId);
    const unique = {
      title: "Ivy-title-7Q2",
      body: "Ivy-body-9XK",
      reply: "Ivy-reply-3PL",
      dm: "Ivy-dm-5TR",
      cw: "Ivy-cw-8MN",
    };
    const thread = await createThread(db, instance.url, community, ivy.actorId, {
      title: unique.title,
      body: `${unique.body} #IvyTag`,
      cw: unique.cw,
    });
    const adminThread = await createThread(db, instance.url, community, admin.actorId, {
      title: "Admin's thread",
      body: "hello",
    });
    const kimsReply = await createReply(db, instance.url, community, kim.actorId, thread.id, {
      body: "Kim's reply stays",
    });
    await createReply(db, instance.url, community, ivy.actorId, adminThread.id, { body: unique.reply });
    await sendMessage(db, instance.url, ivy.actorId, kim.actorId, { body: unique.dm });
    await like(db, instance.url, adminThread.id, ivy.actorId);
    await filterPerson(db, ivy.actorId, admin.actorId, "mute");
    await requestExport(db, ivy.actorId);
    await db.updateTable("users").set({ email: "ivy-mail@example.org" }).where("actor_id", "=", ivy.actorId).execute();
    await db
      .updateTable("actors")
      .set({ name: "Ivy Display", summary_html: "<p>Ivy bio text</p>" })
      .where("id", "=", ivy.actorId)
      .execute();
    await loggedIn(instance, "ivy");
    // Moderation records naming her: a moderator's removal of her post, and a report about her.
    const removed = await createThread(db, instance.url, community, ivy.actorId, { title: "Removed by a moderator" });
    await removePost(db, instance.url, { role: "moderator", actorId: admin.actorId }, removed.id);
    await fileReport(db, instance.url, {
      reporterId: kim.actorId,
      actorId: ivy.actorId,
      category: "harassment",
      comment: "Report-about-Ivy-4WQ",
    });
    // Everything looked for is really there before (the scan is not vacuous).
    const before = await scanDatabase(db, [
      ...Object.values(unique),
      "ivytag",
      "ivy-mail@example.org",
      "Ivy Display",
      "Ivy bio text",
    ]);
    expect(new Set(before.map((h) => h.needle)).size).toBe(Object.values(unique).length + 4);

    const summary = await erasureSummary(db, ivy.actorId);
    // Her thread a moderator removed is still hers, and counted.
    expect(summary).toMatchObject({ threads: 2, replies: 1, messages: 1, likes: 1, memberships: 1 });

    const result = await eraseAccount(db, instance.url, ivy.actorId, { queued: fedifyQueuedDeliveries });
    expect(result.handle).toBe(`@ivy@${new URL(instance.url).host}`);
    expect(result.receiptToken).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const count = async (
      table: "users" | "sessions" | "likes" | "follows" | "member_filters" | "exports" | "post_tags",
      column: string,
    ) =>
      Number(
        (
          await db
            .selectFrom(table as "users")
            .select((eb) => eb.fn.countAll().as("n"))
            .where(column as "actor_id", "=", ivy.actorId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count("users", "actor_id")).toBe(0);
    expect(await count("sessions", "user_id")).toBe(0);
    expect(await count("likes", "actor_id")).toBe(0);
    expect(await count("follows", "follower_id")).toBe(0);
    expect(await count("member_filters", "user_id")).toBe(0);
    expect(await count("exports", "user_id")).toBe(0);
    expect(
      await db.selectFrom("moderation_actions").select("id").where("target_actor_id", "=", ivy.actorId).execute(),
    ).toEqual([]);
    expect(
      await db
        .selectFrom("reports")
        .select("id")
        .where((eb) => eb.or([eb("target_actor_id", "=", ivy.actorId), eb("reporter_id", "=", ivy.actorId)]))
        .execute(),
    ).toEqual([]);
    // Her thread stays as a tombstone because Kim replied; her reply and message are gone.
    const posts = await db
      .selectFrom("posts")
      .select(["id", "title", "source", "content_html", "summary", "deleted_at"])
      .where("author_id", "=", ivy.actorId)
      .execute();
    expect(posts).toEqual([
      { id: thread.id, title: null, source: null, content_html: "", summary: null, deleted_at: expect.any(String) },
    ]);
    expect(
      await db
        .selectFrom("posts")
        .select(["parent_id", "content_html"])
        .where("id", "=", kimsReply.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ parent_id: thread.id, content_html: expect.stringContaining("Kim's reply stays") });
    // The actor row stays, emptied, so the name stays reserved.
    const actor = await db
      .selectFrom("actors")
      .select(["username", "name", "summary_html", "avatar_url", "deleted_at"])
      .where("id", "=", ivy.actorId)
      .executeTakeFirstOrThrow();
    expect(actor).toMatchObject({ username: "ivy", name: null, summary_html: null, avatar_url: null });
    expect(actor.deleted_at).not.toBeNull();
    await expect(seedUser(instance, "ivy")).rejects.toThrow(/taken/);
    // Nothing she wrote or gave is in any text column of any table.
    const hits = await scanDatabase(db, [
      ...Object.values(unique),
      "ivytag",
      "ivy-mail@example.org",
      "Ivy Display",
      "Ivy bio text",
      "Report-about-Ivy-4WQ",
    ]);
    expect(hits.map((h) => `${h.needle} in ${h.table}.${h.column}`)).toEqual([]);
    // The receipt names no server (none had anything) and only her handle.
    const receipt = await erasureReceipt(db, { token: result.receiptToken });
    expect(receipt).toMatchObject({ handle: result.handle, mode: "delete", servers: [] });
    // A second erasure of the same account is refused.
    await expect(eraseAccount(db, instance.url, ivy.actorId, { queued: fedifyQueuedDeliveries })).rejects.toThrow(
      /not found/,
    );
  });

  it("announces the deletion of a large account's posts in batches, then completes", { timeout: 60_000 }, async () => {
    const db = instance.runtime.db;
    const admin = (
      await db.selectFrom("users").select("actor_id").where("role", "=", "admin").executeTakeFirstOrThrow()
    ).actor_id;
    const lee = await seedUser(instance, "lee");
    const community = await seedCommunity(
      instance,
      { actorId: admin, role: "admin", username: "admin", iri: "", isClinician: false },
      { slug: "big", name: "Big" },
    );
    const ts = new Date().toISOString();
    const rows = Array.from({ length: 450 }, (_, i) => {
      const id = newId();
      return {
        id,
        iri: postIri(instance.url, id),
        url: null,
        type: "Page" as const,
        author_id: lee.actorId,
        community_id: community.id,
        parent_id: null,
        thread_id: id,
        title: `Lee ${i}`,
        source: "x",
        content_html: "<p>x</p>",
        summary: null,
        sensitive: 0 as const,
        audience: "public" as const,
        language: null,
        local: 1 as const,
        published_at: ts,
        updated_at: null,
        deleted_at: null,
        removed_at: null,
        removed_by: null,
        locked: 0 as const,
        pinned_at: null,
        created_at: ts,
      };
    });
    for (let i = 0; i < rows.length; i += 150)
      await db
        .insertInto("posts")
        .values(rows.slice(i, i + 150))
        .execute();
    const result = await eraseAccount(db, instance.url, lee.actorId, { queued: fedifyQueuedDeliveries });
    // 450 posts: three events (200, 200, 50); the last marks the erasure sent, then it completes.
    await eventually(
      "the erasure completed",
      async () =>
        (await db
          .selectFrom("erasures")
          .select("completed_at")
          .where("id", "=", result.erasureId)
          .where("completed_at", "is not", null)
          .executeTakeFirst()) ?? undefined,
      45_000,
    );
    expect(await db.selectFrom("posts").select("id").where("author_id", "=", lee.actorId).execute()).toEqual([]);
    expect(await db.selectFrom("actor_keys").select("kind").where("actor_id", "=", lee.actorId).execute()).toEqual([]);
  });

  it('never hands anonymized posts to an account that was called "anonymous" before the name was reserved', async () => {
    const db = instance.runtime.db;
    const squatter = await seedUser(instance, "anon-later");
    await db
      .updateTable("actors")
      .set({ username: "anonymous", username_key: "anonymous", iri: `${instance.url}/@anonymous` })
      .where("id", "=", squatter.actorId)
      .execute();
    await expect(ensureAnonymousActor(db, instance.url)).rejects.toThrow(/belongs to an account/);
  });

  it("refuses to erase the only admin", async () => {
    const db = instance.runtime.db;
    const onlyAdmin = await db.selectFrom("users").select("actor_id").where("role", "=", "admin").execute();
    expect(onlyAdmin).toHaveLength(1);
    await expect(
      eraseAccount(db, instance.url, onlyAdmin[0]!.actor_id, { queued: fedifyQueuedDeliveries }),
    ).rejects.toThrow(/only admin/);
    expect(
      await db.selectFrom("users").select("actor_id").where("actor_id", "=", onlyAdmin[0]!.actor_id).executeTakeFirst(),
    ).toBeDefined();
  });
});

describe.each(dialects)("eraseAccount, anonymize mode (%s)", (dialect) => {
  let instance: TestInstance;
  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("anonymize mode keeps the text of kept posts but not their images", async () => {
    const db = instance.runtime.db;
    const owner = await seedUser(instance, "admin", { role: "admin" });
    const community = await seedCommunity(instance, owner, { slug: "kept", name: "Kept", allowAnonymize: true });
    const pia = await seedUser(instance, "pia");
    await joinCommunity(db, instance.url, community, pia.actorId);
    const photo = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#468" } })
      .jpeg()
      .toBuffer();
    const images = await storeUploads(instance.runtime.media, [
      { bytes: photo, alt: "My kitchen, with the window", field: "image1", altField: "alt1" },
    ]);
    const thread = await createThread(
      db,
      instance.url,
      community,
      pia.actorId,
      { title: "Pia-kept", body: "text" },
      images,
    );
    await eraseAccount(db, instance.url, pia.actorId, { mode: "anonymize", queued: fedifyQueuedDeliveries });
    const kept = await db
      .selectFrom("posts")
      .select(["author_id", "title"])
      .where("id", "=", thread.id)
      .executeTakeFirst();
    expect(kept?.title).toBe("Pia-kept");
    expect(kept?.author_id).not.toBe(pia.actorId);
    expect(await db.selectFrom("media").select("id").where("post_id", "=", thread.id).execute()).toEqual([]);
    await sweepMediaDeletions(db, instance.runtime.media);
    expect(await instance.runtime.media.get(images[0]!.file)).toBeNull();
  });
});
