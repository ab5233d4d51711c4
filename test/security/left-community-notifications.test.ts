// A member who left a members-only community on another server keeps no
// notification naming its threads (found by review: its posts are stored with
// the `followers` audience, and only our own communities were checked).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../../src/accounts/service.ts";
import { leave } from "../../src/communities/membership.ts";
import { newId, now } from "../../src/ids.ts";
import { listNotifications, notify, unreadCount } from "../../src/notifications/service.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";

const ORIGIN = "http://kindred.test";
const TITLE = "Starting PrEP after my HIV diagnosis";

describe.each(dialects)("notifications of a remote members-only community after leaving (%s)", (dialect) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await freshDatabase(dialect);
  });
  afterAll(async () => database?.drop());

  const remoteActor = async (type: "Person" | "Group", username: string) => {
    const id = newId();
    await database.db
      .insertInto("actors")
      .values({
        id,
        iri: `https://peer.test/${type === "Group" ? "c" : "u"}/${username}`,
        type,
        username,
        username_key: username,
        host: "peer.test",
        local: 0,
        name: null,
        summary_html: null,
        url: null,
        inbox_url: `https://peer.test/${username}/inbox`,
        shared_inbox_url: null,
        outbox_url: null,
        followers_url: `https://peer.test/c/${username}/followers`,
        following_url: null,
        featured_url: null,
        avatar_url: null,
        manually_approves_followers: type === "Group" ? 1 : 0,
        discoverable: 0,
        created_at: now(),
        updated_at: now(),
        fetched_at: now(),
        deleted_at: null,
      })
      .execute();
    return id;
  };

  it("drops the mention (and its thread title) once the member left", async () => {
    const db = database.db;
    const reader = await createUser(db, ORIGIN, { username: "reader", password: "correct horse battery" });
    const group = await remoteActor("Group", "hivsupport");
    const writer = await remoteActor("Person", "writer");
    for (const follower of [reader.actorId, writer]) {
      await db
        .insertInto("follows")
        .values({
          id: newId(),
          iri: `${ORIGIN}/follows/${newId()}`,
          follower_id: follower,
          followee_id: group,
          status: "accepted",
          created_at: now(),
          accepted_at: now(),
        })
        .execute();
    }
    const postId = newId();
    await db
      .insertInto("posts")
      .values({
        id: postId,
        iri: "https://peer.test/post/1",
        url: null,
        type: "Page",
        author_id: writer,
        community_id: group,
        parent_id: null,
        thread_id: postId,
        title: TITLE,
        source: null,
        content_html: "<p>@reader how did the first month go for you?</p>",
        summary: null,
        sensitive: 0,
        // As a received post of a members-only community is stored: to its followers.
        audience: "followers",
        language: null,
        local: 0,
        published_at: now(),
        updated_at: null,
        deleted_at: null,
        removed_at: null,
        removed_by: null,
        locked: 0,
        pinned_at: null,
        created_at: now(),
      })
      .execute();
    await notify(db, { userId: reader.actorId, kind: "mention", actorId: writer, postId });
    // While a member, the mention is there (the check below is not vacuous).
    expect((await listNotifications(db, reader.actorId)).items.map((i) => i.threadTitle)).toEqual([TITLE]);

    await leave(db, group, reader.actorId);
    expect(await db.selectFrom("follows").where("follower_id", "=", reader.actorId).selectAll().execute()).toEqual([]);
    const after = await listNotifications(db, reader.actorId);
    expect(after.items.map((i) => i.threadTitle)).toEqual([]);
    expect(await unreadCount(db, reader.actorId)).toBe(0);
  });
});
