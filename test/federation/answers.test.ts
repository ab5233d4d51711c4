// Marked answers between two real Kindred instances (issue 13, item 3). A
// hosts a community and a question in it; B's member joins and answers. A's
// moderator marks a verified clinician's reply as a clinician answer and the
// asker accepts B's member's reply: the question's `Update` carries the marks
// in our JSON-LD namespace, and B shows the same answers first. A forged mark
// from a third server (a Mastodon-shaped peer) changes nothing on B.
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/schema.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { setClinician } from "../../src/answers/clinicians.ts";
import { setAnswerMark } from "../../src/answers/service.ts";
import { join } from "../../src/communities/membership.ts";
import { followRemote } from "../../src/follows/service.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { eventually, Peer, settled, until } from "../helpers/federation.ts";
import { Peer as FakeServer, fixture, type PeerActor, snowflake, uuid } from "../helpers/peer.ts";
import { seedCommunity, seedUser, unescapeHtml } from "../helpers/seed.ts";

const NS = "https://w3id.org/kindred#";
const postByIri = (db: Kysely<Database>, iri: string) =>
  db.selectFrom("posts").selectAll().where("iri", "=", iri).executeTakeFirst();
/** The marks `db` holds on a thread, as [reply IRI, kind], sorted. */
const marksOf = async (db: Kysely<Database>, threadId: string) =>
  (
    await db
      .selectFrom("answer_marks")
      .innerJoin("posts", "posts.id", "answer_marks.post_id")
      .select(["posts.iri", "answer_marks.kind"])
      .where("answer_marks.thread_id", "=", threadId)
      .execute()
  )
    .map((m) => `${m.kind} ${m.iri}`)
    .sort();
const activityJson = async (url: string) => {
  const res = await fetch(url, { headers: { accept: "application/activity+json" } });
  expect(res.status, url).toBe(200);
  return (await res.json()) as Record<string, any>;
};

describe.each(dialects)("marked answers between Kindred instances (%s)", (dialect) => {
  let A: Peer;
  let B: Peer;
  let mastodon: FakeServer;
  let mallory: PeerActor;
  let modA: LocalUser;
  let alice: LocalUser;
  let nina: LocalUser;
  let bob: LocalUser;
  const texts = {
    early: "Alice adds: I take it at 8am now.",
    bob: "From B: splitting the dose helped me.",
    nina: "Nurse here: take it in the morning, never after 4pm.",
  };
  const iris: Record<string, string> = {};
  let questionOnB: string;
  let heartIri: string;

  beforeAll(async () => {
    [A, B, mastodon] = await Promise.all([
      Peer.start({ dialect }),
      Peer.start({ dialect }),
      FakeServer.start("mastodon"),
    ]);
    mallory = await mastodon.addActor("mallory");
    [modA, alice, nina, bob] = await Promise.all([
      seedUser(A, "mod_a", { role: "admin" }),
      seedUser(A, "alice"),
      seedUser(A, "nina"),
      seedUser(B, "bob"),
    ]);
  });
  afterAll(async () => {
    await Promise.all([A?.destroy(), B?.destroy(), mastodon?.stop()]);
  });

  it("a question on A, answered from A and B, reaches B as a question", async () => {
    const heart = await seedCommunity(A, modA, { slug: "heart", name: "Heart failure" });
    heartIri = heart.iri;
    for (const u of [alice, nina]) await join(A.db, A.url, heart, u.actorId);
    await setClinician(A.db, "nina", { profession: "Nurse", registration: "NMC 12A3456E" });
    const groupOnB = (await B.runtime.remote!.resolveActor(heart.iri))!;
    await followRemote(B.db, B.url, bob.actorId, groupOnB);
    await until(
      "bob's membership accepted",
      () => B.db.selectFrom("follows").select("status").where("follower_id", "=", bob.actorId).executeTakeFirst(),
      (f) => f?.status === "accepted",
    );

    const question = await createThread(A.db, A.url, heart, alice.actorId, {
      title: "When should I take my diuretic?",
      body: "Mornings are hard.",
      question: true,
    });
    iris.question = question.iri;
    const onB = await eventually("the question on B", () => postByIri(B.db, question.iri));
    questionOnB = onB.id;
    // Whichever delivery stores it first (the author's Create, the community's Announces), one brings our terms.
    await until(
      "B holds it as a question",
      () => B.db.selectFrom("questions").select("post_id").where("post_id", "=", onB.id).execute(),
      (rows) => rows.length === 1,
    );

    iris.early = (await createReply(A.db, A.url, heart, alice.actorId, question.id, { body: texts.early })).iri;
    const ref = { id: groupOnB, visibility: "public" as const, joinPolicy: "open" as const };
    iris.bob = (await createReply(B.db, B.url, ref, bob.actorId, onB.id, { body: texts.bob })).iri;
    iris.nina = (await createReply(A.db, A.url, heart, nina.actorId, question.id, { body: texts.nina })).iri;
    for (const key of ["early", "nina"]) await eventually(`${key}'s reply on B`, () => postByIri(B.db, iris[key]!));
    await eventually("bob's reply on A", () => postByIri(A.db, iris.bob!));
  });

  it("A's marks federate: B shows the clinician answer first, then the accepted one", async () => {
    const ninaOnA = (await postByIri(A.db, iris.nina!))!;
    const bobOnA = (await postByIri(A.db, iris.bob!))!;
    await setAnswerMark(A.db, ninaOnA.id, modA.actorId, "clinician", true);
    await setAnswerMark(A.db, bobOnA.id, alice.actorId, "accepted", true);
    const expected = [`accepted ${iris.bob}`, `clinician ${iris.nina}`];
    await until(
      "B holds A's marks",
      () => marksOf(B.db, questionOnB),
      (m) => m.join() === expected.join(),
    );

    const page = unescapeHtml((await new WebClient(B.url).get(`/posts/${questionOnB}`)).text);
    const at = (text: string) => page.indexOf(text);
    expect(at(texts.nina)).toBeGreaterThan(-1);
    expect(at(texts.nina)).toBeLessThan(at(texts.bob));
    expect(at(texts.bob)).toBeLessThan(at(texts.early));
    const section = page.slice(at('class="marked-answers"'), at('id="replies-h"'));
    expect(section).toContain("Clinician answer");
    expect(section).toContain("Accepted answer");
    expect(page).toContain('<span class="tag">Answered</span>');
    // A mark is no edit: B shows the question as unedited.
    expect((await postByIri(B.db, iris.question!))?.updated_at).toBeNull();
    // No one on B may mark A's question: its marks belong to A.
    expect(page).not.toContain("Mark as accepted answer");
  });

  it("A serves the question with our terms, the answers as plain Notes, the badge as a PropertyValue", async () => {
    const page = await activityJson(iris.question!);
    expect(page.type).toBe("Page");
    expect(page["@context"]).toContainEqual({ kindred: NS });
    expect(page["kindred:question"]).toBe(true);
    expect(page["kindred:clinicianAnswers"]).toEqual([iris.nina]);
    expect(page["kindred:acceptedAnswers"]).toEqual([iris.bob]);
    const note = await activityJson(iris.nina!);
    expect(note.type).toBe("Note");
    expect(Object.keys(note).filter((k) => k.startsWith("kindred:") || k.startsWith(NS))).toEqual([]);
    const person = await activityJson(nina.iri);
    expect(person.attachment).toContainEqual({
      type: "PropertyValue",
      name: "Verified clinician",
      value: `Nurse (registration NMC 12A3456E, verified by the admins of ${new URL(A.url).host})`,
    });
  });

  it("marks forged by another server are ignored", async () => {
    const expected = [`accepted ${iris.bob}`, `clinician ${iris.nina}`];
    const served = await activityJson(iris.question!);
    // Mallory re-sends A's question as if it were hers to update, with the marks turned around.
    const { "@context": context, ...page } = served;
    const forgedPage = {
      "@context": context,
      id: `${mallory.id}#updates/${uuid()}`,
      type: "Update",
      actor: mallory.id,
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      object: { ...page, "kindred:clinicianAnswers": [iris.bob], "kindred:acceptedAnswers": [iris.early] },
    };
    expect((await mastodon.send(mallory, `${B.url}/inbox`, forgedPage)).status).toBeLessThan(300);

    // Mallory answers the question on A from Mastodon, then edits her reply to claim the marks for
    // it: a reply's words about marks are never believed, even from its own server.
    const id = snowflake();
    const vars = {
      origin: mastodon.origin,
      host: mastodon.host,
      actor: mallory.id,
      username: "mallory",
      id,
      published: new Date().toISOString(),
      inReplyTo: iris.question,
      mentioned: heartIri,
      mentionedUrl: heartIri,
      mentionedName: "heart",
      mentionedHost: new URL(heartIri).host,
      text: "Skip it on busy days.",
    };
    const create = fixture("mastodon/create_note.json", { ...vars, hashtag: "heart" });
    mastodon.publish(create.object);
    expect((await mastodon.send(mallory, `${A.url}/inbox`, create)).status).toBeLessThan(300);
    const noteIri = create.object.id as string;
    await eventually("mallory's reply on A", () => postByIri(A.db, noteIri));
    const update = fixture("mastodon/update_note.json", {
      ...vars,
      updateSeq: 1,
      updated: new Date(Date.now() + 1000).toISOString(),
      text: "Edited: the clinicians agree with me.",
    });
    update["@context"] = [...update["@context"], { kindred: NS }];
    Object.assign(update.object, {
      "kindred:question": true,
      "kindred:acceptedAnswers": [noteIri],
      "kindred:clinicianAnswers": [noteIri],
    });
    mastodon.publish(update.object);
    expect((await mastodon.send(mallory, `${A.url}/inbox`, update)).status).toBeLessThan(300);
    const edited = await until(
      "mallory's edit applied on A",
      () => postByIri(A.db, noteIri),
      (p) => p?.content_html.includes("the clinicians agree") === true,
    );
    const questions = A.db.selectFrom("questions").select("post_id").where("post_id", "=", edited!.id);
    expect(await questions.execute()).toEqual([]);
    await settled(A.db, "A processed mallory's activities");
    await settled(B.db, "B processed mallory's activities");
    expect(await marksOf(B.db, questionOnB)).toEqual(expected);
    const questionOnA = (await postByIri(A.db, iris.question!))!;
    expect(await marksOf(A.db, questionOnA.id)).toEqual(expected);
  });

  it("revoking the badge sends Update(Person) without the field to a Mastodon follower", async () => {
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: mallory.id,
      object: nina.iri,
    });
    expect((await mastodon.send(mallory, `${nina.iri}/inbox`, follow)).status).toBeLessThan(300);
    await mastodon.waitForDelivery((b) => b.type === "Accept", { timeoutMs: 20_000 });
    await setClinician(A.db, "nina", null);
    const update = await mastodon.waitForDelivery((b) => b.type === "Update" && b.object?.id === nina.iri, {
      timeoutMs: 20_000,
    });
    expect(update.verified).toBe(true);
    expect(JSON.stringify(update.body.object.attachment ?? [])).not.toContain("Verified clinician");
    const person = await activityJson(nina.iri);
    expect(JSON.stringify(person.attachment ?? [])).not.toContain("Verified clinician");
  });

  it("a Mastodon follower of the community gets the marked question as a signed, plain Page", async () => {
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: mallory.id,
      object: heartIri,
    });
    expect((await mastodon.send(mallory, `${heartIri}/inbox`, follow)).status).toBeLessThan(300);
    await mastodon.waitForDelivery((b) => b.type === "Accept" && b.actor === heartIri, { timeoutMs: 20_000 });
    const early = (await postByIri(A.db, iris.early!))!;
    await setAnswerMark(A.db, early.id, alice.actorId, "accepted", true);
    const isQuestionUpdate = (b: any) => b.type === "Update" && b.object?.id === iris.question;
    const update = await mastodon.waitForDelivery(isQuestionUpdate, { timeoutMs: 20_000 });
    expect(update.verified).toBe(true);
    expect(update.body["@context"]).toContainEqual({ kindred: NS });
    expect(update.body.object).toMatchObject({
      type: "Page",
      name: "When should I take my diuretic?",
      attributedTo: alice.iri,
      "kindred:question": true,
      "kindred:clinicianAnswers": [iris.nina],
    });
    expect([...update.body.object["kindred:acceptedAnswers"]].sort()).toEqual([iris.bob, iris.early].sort());
    // The community announces the Update too (FEP-1b12), with the same terms.
    const boost = await mastodon.waitForDelivery((b) => b.type === "Announce" && isQuestionUpdate(b.object), {
      timeoutMs: 20_000,
    });
    expect(boost.verified).toBe(true);
    expect(boost.body.object.object["kindred:question"]).toBe(true);
  });
});
