// The inbound path keeps the activity as received (no compaction on intake,
// held authors not fetched again): an activity whose own JSON-LD context
// renames its classes and properties must still be read through full JSON-LD
// processing and come out exactly like the same activity in Mastodon's usual
// shape: stored with the same content, re-shared by the community to its followers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { until } from "../helpers/federation.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, snowflake, uuid } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { Sink } from "../helpers/sinks.ts";

const AS = "https://www.w3.org/ns/activitystreams";

describe.each(dialects)("inbound activities in usual and unusual JSON-LD shapes, on %s", (dialect) => {
  let instance: TestInstance;
  let admin: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let author: Sink;
  let follower: Sink;
  const db = () => instance.runtime.db;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    [author, follower] = await Promise.all([Sink.start(), Sink.start()]);
    const status = await follower.send(`${community.iri}/inbox`, {
      "@context": AS,
      id: `${follower.origin}/${uuid()}`,
      type: "Follow",
      actor: follower.actor,
      object: community.iri,
    });
    expect(status).toBe(202);
    await until(
      "the follower's Accept",
      async () => follower.posts.filter((p) => p.type === "Accept").length,
      (n) => n === 1,
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all([author, follower].map((s) => s?.stop()));
    await instance?.stop();
  });

  const note = (text: string) =>
    fixture("mastodon/create_note.json", {
      origin: author.origin,
      host: new URL(author.origin).host,
      actor: author.actor,
      username: "u",
      id: snowflake(),
      published: new Date().toISOString(),
      inReplyTo: null,
      mentioned: community.iri,
      mentionedUrl: community.iri,
      mentionedName: "long-covid",
      mentionedHost: new URL(community.iri).host,
      text,
      hashtag: "longcovid",
    });

  /**
   * The same activity with its own inline context renaming what it may (the terms that decide authorship and
   * addressing can't be renamed: json-ld-guard.ts refuses that): the classes, the content, the dates, a language.
   */
  function renamed(activity: Record<string, any>): Record<string, unknown> {
    const o = activity.object;
    return {
      "@context": [
        AS,
        {
          "@language": "en",
          Writing: "as:Create",
          Jotting: "as:Note",
          body: "as:content",
          xsd: "http://www.w3.org/2001/XMLSchema#",
          when: { "@id": "as:published", "@type": "xsd:dateTime" },
        },
      ],
      id: activity.id,
      type: "Writing",
      actor: activity.actor,
      when: activity.published,
      to: activity.to,
      cc: activity.cc,
      object: {
        id: o.id,
        type: "Jotting",
        attributedTo: o.attributedTo,
        body: o.content,
        when: o.published,
        to: o.to,
        cc: o.cc,
      },
    };
  }

  const stored = async (iri: string) =>
    db()
      .selectFrom("posts")
      .select(["content_html", "community_id", "audience", "author_id"])
      .where("iri", "=", iri)
      .executeTakeFirst();

  it("stores and re-shares an activity in an unusual context exactly as the usual one", async () => {
    const usual = note("usual shape");
    const unusual = note("unusual shape");
    expect(await author.send(`${instance.url}/inbox`, usual)).toBe(202);
    expect(await author.send(`${instance.url}/inbox`, renamed(unusual))).toBe(202);
    const [a, b] = await Promise.all(
      [usual, unusual].map((n) =>
        until(
          `${n.object.id} stored`,
          () => stored(n.object.id),
          (row) => row !== undefined,
        ),
      ),
    );
    expect(b!.community_id).toBe(community.id);
    expect({ ...b, content_html: b!.content_html.replace("unusual", "usual") }).toEqual(a);
    // Both re-shared to the community's follower, the object's content intact in each.
    for (const n of [usual, unusual])
      await until(
        `the re-shares of ${n.object.id}`,
        async () => follower.postsWith("Announce", n.object.id).filter((p) => p.raw.includes("shape")).length,
        (count) => count === 2,
      );
  }, 60_000);
});
