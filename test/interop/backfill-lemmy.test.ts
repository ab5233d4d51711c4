// Remote communities and threads complete (issue 12) against a fake Lemmy:
// its outbox (Announce(Create(Page)), as Lemmy serves it) fills a community
// nobody here joined; a thread's `replies` collections (as PieFed and
// Mastodon serve them; Lemmy's objects otherwise) are walked breadth-first,
// within the budget, believing nothing a server says of another origin.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUDGET } from "../../federation/backfill.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, type PeerActor, PUBLIC, uuid } from "../helpers/peer.ts";
import { postByIri } from "./support.ts";

const LEMMY_CONTEXT = ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"];

describe("backfilling a Lemmy community and its threads", () => {
  let instance: TestInstance;
  let lemmy: Peer;
  let mastodon: Peer;
  let group: PeerActor;
  let alpha: PeerActor;
  let groupId: string;
  let seq = 0;

  beforeAll(async () => {
    [instance, lemmy, mastodon] = await Promise.all([startTestInstance(), Peer.start("lemmy"), Peer.start("mastodon")]);
    group = await lemmy.addActor("chronic_pain", { type: "Group", name: "Chronic pain" });
    alpha = await lemmy.addActor("lemmy_alpha");
    groupId = (await instance.runtime.remote!.resolveActor(group.id))!;
    expect(groupId).toBeTruthy();
  });
  afterAll(async () => {
    await Promise.all([lemmy?.stop(), mastodon?.stop()]);
    await instance?.stop();
  });

  const db = () => instance.runtime.db;
  /** A Lemmy post (Page) in the group, with a `replies` collection at its IRI + `/replies`. */
  const page = (title: string) => {
    const id = `${lemmy.origin}/post/${++seq}`;
    return {
      "@context": LEMMY_CONTEXT,
      type: "Page",
      id,
      attributedTo: alpha.id,
      to: [group.id, PUBLIC],
      cc: [],
      name: title,
      content: `<p>${title}</p>\n`,
      mediaType: "text/html",
      source: { content: title, mediaType: "text/markdown" },
      sensitive: false,
      published: new Date().toISOString(),
      audience: group.id,
      replies: `${id}/replies`,
    };
  };
  /** A Lemmy comment (Note) answering `inReplyTo`. */
  const comment = (inReplyTo: string, text: string, origin = lemmy.origin, author = alpha.id) => {
    const id = `${origin}/comment/${++seq}`;
    return {
      "@context": LEMMY_CONTEXT,
      type: "Note",
      id,
      attributedTo: author,
      to: [PUBLIC],
      cc: [group.id],
      content: `<p>${text}</p>\n`,
      mediaType: "text/html",
      inReplyTo,
      published: new Date().toISOString(),
      audience: group.id,
      replies: `${id}/replies`,
    };
  };
  const collection = (id: string, items: unknown[]) => ({
    "@context": LEMMY_CONTEXT,
    type: "OrderedCollection",
    id,
    totalItems: items.length,
    orderedItems: items,
  });
  const announced = (object: Record<string, any>) => {
    const wrapped = fixture("lemmy/announce_create_page.json", {
      origin: lemmy.origin,
      group: group.id,
      actor: alpha.id,
      id: 0,
      uuid: uuid(),
      announceUuid: uuid(),
      title: "",
      content: "",
      source: "",
      published: object.published,
    });
    wrapped.object.object = { ...object, "@context": undefined };
    return wrapped;
  };
  /** Publishes a thread in the group and brings it here through the group's outbox. */
  const threadHere = async (title: string) => {
    const thread = page(title);
    lemmy.publish(thread);
    lemmy.publish(collection(`${group.id}/outbox`, [announced(thread)]));
    await db().deleteFrom("remote_refreshes").where("subject_id", "=", groupId).execute();
    await instance.runtime.remote!.refreshCommunity!(groupId);
    const row = await postByIri(instance, thread.id);
    expect(row?.community_id).toBe(groupId);
    return { thread, row: row! };
  };
  const repliesIn = async (threadId: string) =>
    (await db().selectFrom("posts").select(["iri", "content_html"]).where("thread_id", "=", threadId).execute()).filter(
      (r) => r.iri.includes("/comment/"),
    );

  it("lists the group's threads from its Lemmy outbox before anyone here joined", async () => {
    const one = page("Heat or ice?");
    const two = page("Pacing with a tracker");
    lemmy.publish(one);
    lemmy.publish(two);
    lemmy.publish(collection(`${group.id}/outbox`, [announced(one), announced(two)]));
    await instance.runtime.remote!.refreshCommunity!(groupId);
    const titles = await db().selectFrom("posts").select("title").where("community_id", "=", groupId).execute();
    expect(titles.map((t) => t.title).sort()).toEqual(["Heat or ice?", "Pacing with a tracker"]);
  });

  it("walks a thread's replies collections breadth-first, once per interval", async () => {
    const { thread, row } = await threadHere("Sleep and pain");
    const first = comment(thread.id, "Magnesium helped");
    const second = comment(thread.id, "A weighted blanket");
    const nested = comment(first.id, "Which kind?");
    lemmy.publish(first);
    lemmy.publish(nested);
    // One by IRI (fetched), one embedded (its own server's word for its own object).
    lemmy.publish(collection(`${thread.id}/replies`, [first.id, { ...second, "@context": undefined }]));
    lemmy.publish(collection(`${first.id}/replies`, [nested.id]));
    await instance.runtime.remote!.refreshThread!(row.id);
    const stored = await repliesIn(row.id);
    expect(stored.map((r) => r.iri).sort()).toEqual([first.id, second.id, nested.id].sort());
    expect((await postByIri(instance, nested.id))?.parent_id).toBe((await postByIri(instance, first.id))?.id);

    const before = lemmy.fetches.length;
    lemmy.publish(collection(`${thread.id}/replies`, [first.id, second.id, comment(thread.id, "Late").id]));
    await instance.runtime.remote!.refreshThread!(row.id);
    expect(lemmy.fetches.length, "a second refresh within the interval fetched").toBe(before);
  });

  it("does not believe an object another origin's collection embeds: it reads it from its own server", async () => {
    const { thread, row } = await threadHere("Flare-ups");
    const bob = await mastodon.addActor("bob");
    const genuine = comment(thread.id, "Genuine words of bob", mastodon.origin, bob.id);
    mastodon.publish(genuine);
    const forged = { ...genuine, content: "<p>Forged words put in bob's mouth</p>", "@context": undefined };
    const phantom = { ...comment(thread.id, "A post bob never wrote", mastodon.origin, bob.id), "@context": undefined };
    lemmy.publish(collection(`${thread.id}/replies`, [forged, phantom]));
    await instance.runtime.remote!.refreshThread!(row.id);
    const stored = await postByIri(instance, genuine.id);
    expect(stored?.content_html).toContain("Genuine words of bob");
    expect(stored?.content_html).not.toContain("Forged");
    expect(await postByIri(instance, phantom.id), "an object its own server denies").toBeUndefined();
  });

  it("stops an endless replies chain within the request budget", async () => {
    const { thread, row } = await threadHere("Endless");
    let parent = thread.id;
    for (let i = 0; i < 300; i++) {
      const next = comment(parent, `Level ${i}`);
      lemmy.publish(next);
      lemmy.publish(collection(`${parent}/replies`, [next.id]));
      parent = next.id;
    }
    const before = lemmy.fetches.length;
    await instance.runtime.remote!.refreshThread!(row.id);
    const fetched = lemmy.fetches.length - before;
    const stored = (await repliesIn(row.id)).length;
    expect(fetched).toBeLessThanOrEqual(BUDGET.requests);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(BUDGET.requests);
  });

  it("stores at most the object budget of a thread however many replies one page embeds", async () => {
    const { thread, row } = await threadHere("Huge");
    const many = Array.from({ length: BUDGET.objects + 50 }, (_, i) => ({
      ...comment(thread.id, `Reply ${i}`),
      "@context": undefined,
    }));
    lemmy.publish(collection(`${thread.id}/replies`, many));
    await instance.runtime.remote!.refreshThread!(row.id);
    expect((await repliesIn(row.id)).length).toBe(BUDGET.objects);
  }, 60_000);
});
