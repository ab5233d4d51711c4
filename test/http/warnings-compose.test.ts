// Content warnings and the crisis notice in the composer (issue 13), end to
// end: a required category refuses a post without it; a chosen one goes to a
// Mastodon-shaped follower as `summary` + `sensitive`; an incoming warned Note
// keeps its warning; members' choices expand or hide posts; a draft with a
// crisis keyword shows the notice first and is posted only once confirmed,
// filing a report where the community asked; posting caps answer 429.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "../../src/communities/membership.ts";
import { addCategory, setCrisisOptions, setRequirement, setWarningChoice } from "../../src/warnings/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor } from "../helpers/peer.ts";
import { countRows, loggedIn, seedCommunity, seedUser, threadTitles, unescapeHtml } from "../helpers/seed.ts";
import { idOf, mastodonFollow, mastodonNote } from "../policy/support.ts";

describe.each(dialects)("warnings and the crisis notice in the composer (%s)", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;
  let alice: PeerActor;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let selfHarm: string;
  let loss: string;
  const db = () => instance.runtime.db;
  const postRow = (title: string) => db().selectFrom("posts").selectAll().where("title", "=", title).executeTakeFirst();

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance({ dialect }), Peer.start("mastodon")]);
    const admin = await seedUser(instance, "root", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "grief", name: "Grief" });
    const mira = await seedUser(instance, "mira");
    await join(db(), instance.url, community, mira.actorId);
    selfHarm = await addCategory(db(), community.id, { label: "Self-harm", crisis: true });
    loss = await addCategory(db(), community.id, { label: "Pregnancy loss" });
    await setRequirement(db(), community.id, "threads");
    alice = await mastodon.addActor("alice");
    await mastodon.send(alice, `${community.iri}/inbox`, mastodonFollow(mastodon, alice, community.iri));
    await mastodon.waitForDelivery((b) => b.type === "Accept" && b.actor === community.iri);
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  it("a required category refuses a thread without it, with the reason in the form", async () => {
    const mira = await loggedIn(instance, "mira");
    const form = await mira.get("/@grief/submit");
    expect(form.text).toContain("Pregnancy loss");
    expect(form.text).toContain("required in this community");
    const refused = await mira.post("/@grief/submit", { title: "No warning", body: "text", warning: "" });
    expect(refused.status).toBe(422);
    expect(unescapeHtml(refused.text)).toContain("choose a category: this community requires one");
    expect(await postRow("No warning")).toBeUndefined();
  });

  it("a chosen category goes out as Mastodon's summary + sensitive, with the author's words", async () => {
    const mira = await loggedIn(instance, "mira");
    await mira.get("/@grief/submit");
    const res = await mira.post("/@grief/submit", {
      title: "Twelve weeks",
      body: "What helped me in the first days.",
      warning: loss,
      cw: "my story",
    });
    expect(res.status).toBe(303);
    const row = await postRow("Twelve weeks");
    expect(row).toMatchObject({ summary: "Pregnancy loss: my story", sensitive: 1, warning_category_id: loss });
    const announce = await mastodon.waitForDelivery(
      (b) => b.type === "Announce" && idOf(b.object) === row!.iri && typeof b.object === "object",
      { label: "the Announce of the warned thread" },
    );
    expect(announce.body.object.summary).toBe("Pregnancy loss: my story");
    expect(announce.body.object.sensitive).toBe(true);
  });

  it("an incoming Mastodon Note with a warning keeps it", async () => {
    const note = mastodonNote(mastodon, alice, {
      text: "Some days are very hard",
      mentioned: { iri: community.iri, name: "grief" },
    });
    note.object.summary = "loss, grief";
    note.object.sensitive = true;
    const sent = await mastodon.send(alice, `${instance.url}/inbox`, note);
    expect(sent.status).toBe(202);
    let stored: { summary: string | null; sensitive: number } | undefined;
    for (let i = 0; i < 200 && !stored; i++) {
      stored = await db()
        .selectFrom("posts")
        .select(["summary", "sensitive"])
        .where("iri", "=", note.object.id)
        .executeTakeFirst();
      if (!stored) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored).toEqual({ summary: "loss, grief", sensitive: 1 });
  });

  it("members choose: 'expand' opens the warning, 'hide' keeps such threads out of their lists", async () => {
    const mira = await loggedIn(instance, "mira");
    const row = await postRow("Twelve weeks");
    const member = await db()
      .selectFrom("actors")
      .select("id")
      .where("username_key", "=", "mira")
      .executeTakeFirstOrThrow();
    await setWarningChoice(db(), member.id, loss, "expand");
    expect((await mira.get(`/posts/${row!.id}`)).text).toMatch(/<details class="cw" open>/);
    await setWarningChoice(db(), member.id, loss, "hide");
    expect(threadTitles((await mira.get("/@grief")).text)).not.toContain("Twelve weeks");
    await setWarningChoice(db(), member.id, loss, "collapse");
    expect(threadTitles((await mira.get("/@grief")).text)).toContain("Twelve weeks");
    expect((await mira.get(`/posts/${row!.id}`)).text).toMatch(/<details class="cw">/);
  });

  it("a draft with a crisis keyword shows the notice first; it is posted only once confirmed", async () => {
    await setCrisisOptions(db(), community.id, { addition: "Our group's helpline: 0800 123", alert: true });
    const mira = await loggedIn(instance, "mira");
    await mira.get("/@grief/submit");
    const draft = { title: "Tonight", body: "I keep thinking I want to die.", warning: loss };
    const notice = await mira.post("/@grief/submit", draft);
    expect(notice.status).toBe(200);
    const text = unescapeHtml(notice.text);
    expect(text).toContain("You're not alone");
    expect(text).toContain("Our group's helpline: 0800 123");
    expect(text).toContain('name="crisisSeen" value="1"');
    expect(await postRow("Tonight"), "nothing is posted before the author confirms").toBeUndefined();
    const reportsBefore = await countRows(instance, "reports");
    const posted = await mira.post("/@grief/submit", { ...draft, crisisSeen: "1" });
    expect(posted.status).toBe(303);
    const row = await postRow("Tonight");
    expect(row?.source).toBe("I keep thinking I want to die.");
    // The community asked to be told: a "Risk of self-harm" report, filed by no one.
    const reports = await db().selectFrom("reports").select(["category", "reporter_id"]).execute();
    expect(reports.length).toBe(reportsBefore + 1);
    expect(reports.at(-1)).toEqual({ category: "self_harm", reporter_id: null });
  });

  it("a thread whose category asks for it shows the crisis resources", async () => {
    const mira = await loggedIn(instance, "mira");
    await mira.get("/@grief/submit");
    await mira.post("/@grief/submit", { title: "Scars", body: "Healing slowly.", warning: selfHarm });
    const row = await postRow("Scars");
    const page = unescapeHtml((await mira.get(`/posts/${row!.id}`)).text);
    expect(page).toContain('aria-label="Support in a crisis"');
    expect(page).toContain("Our group's helpline: 0800 123");
    const other = await postRow("Twelve weeks");
    expect(unescapeHtml((await mira.get(`/posts/${other!.id}`)).text)).not.toContain("Support in a crisis");
  });
});

describe("posting caps", () => {
  let instance: TestInstance;
  beforeAll(async () => {
    instance = await startTestInstance({ env: { POSTING_LIMITS: "true" } });
    const admin = await seedUser(instance, "root", { role: "admin" });
    const community = await seedCommunity(instance, admin, { slug: "open", name: "Open" });
    const newbie = await seedUser(instance, "newbie");
    await join(instance.runtime.db, instance.url, community, newbie.actorId);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("a new account's fourth thread in an hour gets 429 with Retry-After; an admin is not capped", async () => {
    const newbie = await loggedIn(instance, "newbie");
    await newbie.get("/@open/submit");
    for (let i = 1; i <= 3; i++)
      expect((await newbie.post("/@open/submit", { title: `Thread ${i}`, body: "hello" })).status).toBe(303);
    await newbie.get("/@open/submit");
    const capped = await newbie.post("/@open/submit", { title: "Thread 4", body: "hello" });
    expect(capped.status).toBe(429);
    expect(Number(capped.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(unescapeHtml(capped.text)).toContain("new accounts get fewer");
    expect(await countRows(instance, "posts", ["title", "Thread 4"])).toBe(0);
    const root = await loggedIn(instance, "root");
    for (let i = 1; i <= 4; i++) {
      await root.get("/@open/submit");
      expect((await root.post("/@open/submit", { title: `Admin ${i}`, body: "notice" })).status).toBe(303);
    }
  });
});
