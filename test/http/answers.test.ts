// Verified clinicians and marked answers (issue 13, item 3), over HTTP on a
// real instance, SQLite and PostgreSQL: the badge with its profession, who may
// mark a question's replies (the asker or a moderator; a clinician answer by a
// moderator, on a verified clinician's reply only) and marked answers shown
// first under the question.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "../../src/communities/membership.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedCommunity, seedThread, seedUser, unescapeHtml } from "../helpers/seed.ts";

/** The id a reply got, by its unique text. */
const replyId = async (instance: TestInstance, text: string) =>
  (await instance.runtime.db.selectFrom("posts").select("id").where("source", "=", text).executeTakeFirstOrThrow()).id;

describe.each(dialects)("verified clinicians and marked answers (%s)", (dialect) => {
  let instance: TestInstance;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let questionId: string;
  const texts = {
    early: "An early reply nobody marks.",
    peer: "What helped me was a pill organiser.",
    nurse: "Take it with food; ask your pharmacist about timing.",
  };
  const ids: Record<keyof typeof texts, string> = { early: "", peer: "", nurse: "" };

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    const root = await seedUser(instance, "root", { role: "admin" });
    community = await seedCommunity(instance, root, { slug: "heart", name: "Heart failure" });
    for (const name of ["asker", "nina", "pat", "eve"]) {
      const user = await seedUser(instance, name);
      await join(instance.runtime.db, instance.url, community, user.actorId);
    }
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("admins give the badge a profession and a registration reference; members can't", async () => {
    const eve = await loggedIn(instance, "eve");
    expect((await eve.post("/@nina/clinician", { profession: "Nurse" })).status).toBe(403);
    const root = await loggedIn(instance, "root");
    expect((await root.post("/@nina/clinician", { profession: "  " })).status).toBe(422);
    expect((await root.post("/@nina/clinician", { profession: "Nurse\nAdmin" })).status).toBe(422);
    const granted = await root.post("/@nina/clinician", { profession: "Nurse", registration: "NMC 12A3456E" });
    expect(granted.status).toBe(303);
    const profile = unescapeHtml((await eve.get("/@nina")).text);
    expect(profile).toContain("Verified clinician: Nurse");
    expect(profile).toContain("Registration: NMC 12A3456E");
    // The admins' form, filled in with the badge, is theirs alone.
    expect(profile).not.toContain('name="profession"');
    expect(unescapeHtml((await root.get("/@nina")).text)).toContain('value="NMC 12A3456E"');
    // Pat holds a badge for a moment, then loses it: revoking clears it.
    expect((await root.post("/@pat/clinician", { profession: "Cardiologist" })).status).toBe(303);
    expect((await root.post("/@pat/clinician", { verified: "0" })).status).toBe(303);
    const db = instance.runtime.db;
    const badges = await db.selectFrom("clinician_badges").select(["user_id", "profession", "registration"]).execute();
    expect(badges.map((b) => [b.profession, b.registration])).toEqual([["Nurse", "NMC 12A3456E"]]);
    const pat = await db
      .selectFrom("users")
      .innerJoin("actors", "actors.id", "users.actor_id")
      .select("users.is_clinician")
      .where("actors.username", "=", "pat")
      .executeTakeFirstOrThrow();
    expect(pat.is_clinician).toBe(0);
    expect(unescapeHtml((await eve.get("/@pat")).text)).not.toContain("Verified clinician");
  });

  it("the composer marks a thread as a question; listings say Question", async () => {
    const asker = await loggedIn(instance, "asker");
    const compose = await asker.get("/@heart/submit");
    expect(compose.text).toContain('name="question"');
    const posted = await asker.post("/@heart/submit", {
      title: "When should I take my diuretic?",
      body: "Mornings make me run to the loo all day.",
      question: "1",
    });
    expect(posted.status).toBe(303);
    questionId = posted.headers.get("location")!.split("/").pop()!;
    const listing = await asker.get("/@heart");
    expect(listing.text).toMatch(/When should I take my diuretic\?<\/a> <span class="tag">Question<\/span>/);

    for (const [who, key] of [
      ["eve", "early"],
      ["pat", "peer"],
      ["nina", "nurse"],
    ] as const) {
      const client = await loggedIn(instance, who);
      expect((await client.post(`/posts/${questionId}/replies`, { body: texts[key] })).status).toBe(303);
      ids[key] = await replyId(instance, texts[key]);
    }
  });

  it("only the asker or a moderator marks accepted answers; others get 403", async () => {
    const eve = await loggedIn(instance, "eve");
    const refused = await eve.post(`/posts/${ids.peer}/answer`, { kind: "accepted" });
    expect(refused.status).toBe(403);
    // Nor may the reply's own author accept it.
    const pat = await loggedIn(instance, "pat");
    expect((await pat.post(`/posts/${ids.peer}/answer`, { kind: "accepted" })).status).toBe(403);
    expect((await eve.post(`/posts/${ids.peer}/answer`, { kind: "nonsense" })).status).toBe(400);
    const asker = await loggedIn(instance, "asker");
    expect((await asker.post(`/posts/${ids.peer}/answer`, { kind: "accepted" })).status).toBe(303);
    // A moderator may mark another as accepted too: several answers can be.
    const root = await loggedIn(instance, "root");
    expect((await root.post(`/posts/${ids.early}/answer`, { kind: "accepted" })).status).toBe(303);
    expect((await asker.post(`/posts/${ids.early}/answer`, { kind: "accepted", marked: "0" })).status).toBe(303);
    const marks = await instance.runtime.db.selectFrom("answer_marks").select(["post_id", "kind"]).execute();
    expect(marks).toEqual([{ post_id: ids.peer, kind: "accepted" }]);
  });

  it("only a moderator marks a clinician answer, and only on a verified clinician's reply", async () => {
    const asker = await loggedIn(instance, "asker");
    const byAsker = await asker.post(`/posts/${ids.nurse}/answer`, { kind: "clinician" });
    expect(byAsker.status).toBe(403);
    const root = await loggedIn(instance, "root");
    const notClinician = await root.post(`/posts/${ids.peer}/answer`, { kind: "clinician" });
    expect(notClinician.status).toBe(403);
    expect(notClinician.text).toContain("verified clinician");
    expect((await root.post(`/posts/${ids.nurse}/answer`, { kind: "clinician" })).status).toBe(303);
  });

  it("marked answers come first under the question, clinician answers leading, with their labels", async () => {
    const visitor = await loggedIn(instance, "eve");
    const page = unescapeHtml((await visitor.get(`/posts/${questionId}`)).text);
    expect(page).toContain('<span class="tag">Answered</span>');
    const at = (text: string) => page.indexOf(text);
    // The unmarked reply was written first, yet both marked answers come before it.
    expect(at(texts.nurse)).toBeGreaterThan(-1);
    expect(at(texts.nurse)).toBeLessThan(at(texts.peer));
    expect(at(texts.peer)).toBeLessThan(at(texts.early));
    const section = page.slice(page.indexOf('class="marked-answers"'), page.indexOf('id="replies-h"'));
    expect(section).toContain("Clinician answer");
    expect(section).toContain("Accepted answer");
    expect(section).toContain("Verified clinician: Nurse");
    expect(section).not.toContain(texts.early);
    // Only those who may mark see the buttons.
    expect(page).not.toContain("Mark as accepted answer");
    const asker = unescapeHtml((await (await loggedIn(instance, "asker")).get(`/posts/${questionId}`)).text);
    expect(asker).toContain("Unmark accepted answer");
    expect(asker).toContain("Mark as accepted answer");
    expect(asker).not.toContain("Mark as clinician answer");
    const listing = await visitor.get("/@heart");
    expect(listing.text).toMatch(/When should I take my diuretic\?<\/a> <span class="tag answered">Answered<\/span>/);
  });

  it("a thread becomes a question later, by its author only; a discussion's replies can't be marked", async () => {
    const author = await instance.runtime.db
      .selectFrom("actors")
      .select("id")
      .where("username", "=", "eve")
      .executeTakeFirstOrThrow();
    const thread = await seedThread(instance, community, { actorId: author.id } as never, "Salt and fluid limits");
    const pat = await loggedIn(instance, "pat");
    expect((await pat.post(`/posts/${thread.id}/replies`, { body: "I weigh myself daily." })).status).toBe(303);
    const reply = await replyId(instance, "I weigh myself daily.");
    const eve = await loggedIn(instance, "eve");
    expect((await eve.post(`/posts/${reply}/answer`, { kind: "accepted" })).status).toBe(403);
    expect((await pat.post(`/posts/${thread.id}/question`, { question: "1" })).status).toBe(403);
    expect((await eve.post(`/posts/${thread.id}/question`, { question: "1" })).status).toBe(303);
    expect((await eve.get(`/posts/${thread.id}`)).text).toContain('<span class="tag">Question</span>');
    expect((await eve.post(`/posts/${reply}/answer`, { kind: "accepted" })).status).toBe(303);
    expect((await eve.get(`/posts/${thread.id}`)).text).toContain('<span class="tag">Answered</span>');
    expect((await eve.post(`/posts/${thread.id}/question`, { question: "0" })).status).toBe(303);
    const page = (await eve.get(`/posts/${thread.id}`)).text;
    expect(page).not.toContain("Answered");
    expect(page).not.toContain("Accepted answer");
  });
});
