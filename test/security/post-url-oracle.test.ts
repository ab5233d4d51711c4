// Pasting a post's address into the search box (found by review) must not tell
// a signed-in stranger that we hold a post they may not read (a remote
// members-only community's, whose sequential Lemmy IRIs could be tried one by
// one, or someone else's message): it answers as for an address we don't hold.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId, now } from "../../src/ids.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedUser } from "../helpers/seed.ts";

describe.each(dialects)("a pasted post address the viewer may not read (%s)", (dialect) => {
  let instance: TestInstance;
  const postId = newId();
  const iri = "http://127.0.0.1:9/post/41";

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    const db = instance.runtime.db;
    const actor = (id: string, type: "Person" | "Group", username: string) => ({
      id,
      iri: `http://127.0.0.1:9/${type === "Group" ? "c" : "u"}/${username}`,
      type,
      username,
      username_key: username,
      host: "127.0.0.1:9",
      local: 0 as const,
      name: null,
      summary_html: null,
      url: null,
      inbox_url: `http://127.0.0.1:9/${username}/inbox`,
      shared_inbox_url: null,
      outbox_url: null,
      followers_url: null,
      following_url: null,
      featured_url: null,
      avatar_url: null,
      manually_approves_followers: type === "Group" ? (1 as const) : (0 as const),
      discoverable: 0 as const,
      created_at: now(),
      updated_at: now(),
      fetched_at: now(),
      deleted_at: null,
    });
    const group = newId();
    const writer = newId();
    await db
      .insertInto("actors")
      .values([actor(group, "Group", "hivpositive"), actor(writer, "Person", "writer")])
      .execute();
    await db
      .insertInto("posts")
      .values({
        id: postId,
        iri,
        url: null,
        type: "Page",
        author_id: writer,
        community_id: group,
        parent_id: null,
        thread_id: postId,
        title: "Disclosing to my employer",
        source: null,
        content_html: "<p>members only</p>",
        summary: null,
        sensitive: 0,
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
  });
  afterAll(async () => instance?.stop());

  it("does not redirect a non-member to the post, nor name its id", async () => {
    await seedUser(instance, "stranger");
    const stranger = await loggedIn(instance, "stranger");
    const held = await stranger.get(`/search?q=${encodeURIComponent(iri)}`);
    expect(held.headers.get("location") ?? "").not.toContain(postId);
    const unheld = await stranger.get(`/search?q=${encodeURIComponent("http://127.0.0.1:9/post/42")}`);
    expect(held.status).toBe(unheld.status);
  });
});
