// The one tombstone rule (src/posts/tombstone.ts), on SQLite and PostgreSQL:
// whoever deletes a post, the row keeps its place and whom it was addressed
// to, and nothing anyone wrote; a domain purge of more posts than a statement
// may bind parameters for still completes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../db/schema.ts";
import { createUser } from "../../src/accounts/service.ts";
import { createCommunity, getCommunity } from "../../src/communities/service.ts";
import { newId } from "../../src/ids.ts";
import { blockDomain } from "../../src/policy/service.ts";
import { receiveActorDeleted } from "../../src/posts/remote.ts";
import { createThread, deletePost, like } from "../../src/posts/service.ts";
import { tombstonePosts } from "../../src/posts/tombstone.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { PASSWORD } from "../helpers/seed.ts";
import { seedLocalUser, seedRemoteActor } from "../policy/support.ts";

const ORIGIN = "https://kindred.example";
const TEXT_COLUMNS = ["title", "source", "summary", "language", "url"] as const;

describe.each(dialects)("tombstones (%s)", (dialect) => {
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await freshDatabase(dialect);
    db = database.db;
  });
  afterAll(async () => {
    await database?.drop();
  });

  const row = (id: string) => db.selectFrom("posts").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const count = async (table: "post_tags" | "likes" | "post_mentions", postId: string) =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as("n"))
          .where("post_id", "=", postId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const expectEmptied = (post: Awaited<ReturnType<typeof row>>) => {
    for (const column of TEXT_COLUMNS) expect(post[column], column).toBeNull();
    expect(post.content_html).toBe("");
    expect(post.sensitive).toBe(0);
    expect(post.deleted_at).not.toBeNull();
  };

  it("a deleted post keeps its place and its mentions (the Delete is routed by them) but no text, tags or likes", async () => {
    const owner = await createUser(db, ORIGIN, { username: "owner", password: PASSWORD }, { role: "admin" });
    const reader = await seedLocalUser(db, ORIGIN, "reader");
    await createCommunity(db, ORIGIN, owner, { slug: "pots", name: "POTS" });
    const community = await getCommunity(db, "pots");
    const thread = await createThread(db, ORIGIN, community, owner.actorId, {
      title: "Salt loading",
      body: "Does it help? #pots @reader",
    });
    await db
      .updateTable("posts")
      .set({ language: "en", summary: "cw", sensitive: 1 })
      .where("id", "=", thread.id)
      .execute();
    await like(db, ORIGIN, thread.id, reader.actorId);
    expect(await count("post_tags", thread.id)).toBe(1);
    expect(await count("post_mentions", thread.id)).toBe(1);

    await deletePost(db, thread.id, owner.actorId);
    const deleted = await row(thread.id);
    expectEmptied(deleted);
    expect(deleted.thread_id).toBe(thread.id);
    expect(deleted.community_id).toBe(community.id);
    expect(await count("post_tags", thread.id)).toBe(0);
    expect(await count("likes", thread.id)).toBe(0);
    expect(await count("post_mentions", thread.id)).toBe(1);

    // Tombstoning it again (an erasure after a deletion) keeps the first deletion time.
    await tombstonePosts(db, [thread.id], "2999-01-01T00:00:00.000Z");
    expect((await row(thread.id)).deleted_at).toBe(deleted.deleted_at);
  });

  it("a remote Delete(Person) empties every post of theirs by the same rule", async () => {
    const actorId = await seedRemoteActor(db, "social.example", "gone");
    const ids = [newId(), newId()];
    await insertRemotePosts(db, actorId, ids);
    await receiveActorDeleted(db, actorId);
    for (const id of ids) expectEmptied(await row(id));
    expect(await count("post_tags", ids[0] ?? "")).toBe(0);
  });

  it("purges a blocked server's 33,000 posts, more than SQLite binds in one statement", async () => {
    const actorId = await seedRemoteActor(db, "spam.example", "flood");
    const ids = Array.from({ length: 33_000 }, () => newId());
    await insertRemotePosts(db, actorId, ids);
    const { purged } = await blockDomain(db, { domain: "spam.example", severity: "suspend" });
    expect(purged?.posts).toBe(33_000);
    const left = await db
      .selectFrom("posts")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("author_id", "=", actorId)
      .executeTakeFirstOrThrow();
    expect(Number(left.n)).toBe(0);
  });
});

/** Remote posts written straight into the table (as receivePost stores them), each with a hashtag. */
async function insertRemotePosts(db: Db, authorId: string, ids: string[]): Promise<void> {
  const ts = new Date().toISOString();
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500);
    await db
      .insertInto("posts")
      .values(
        batch.map((id) => ({
          id,
          iri: `https://remote.example/notes/${id}`,
          url: `https://remote.example/@x/${id}`,
          type: "Note" as const,
          author_id: authorId,
          community_id: null,
          parent_id: null,
          thread_id: id,
          title: null,
          source: null,
          content_html: `<p>remote text ${id}</p>`,
          summary: "cw",
          sensitive: 1,
          audience: "public" as const,
          language: "en",
          local: 0,
          published_at: ts,
          updated_at: null,
          deleted_at: null,
          removed_at: null,
          removed_by: null,
          locked: 0,
          pinned_at: null,
          created_at: ts,
        })),
      )
      .execute();
    await db
      .insertInto("post_tags")
      .values(batch.map((post_id) => ({ post_id, tag: "flood" })))
      .execute();
  }
}
