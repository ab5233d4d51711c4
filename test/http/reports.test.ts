// Reports (DSA Art. 16) through the real app over real HTTP: members report
// posts and people, visitors report public posts with an optional contact
// address; the reports reach the community's moderators and the admins, and
// nobody else; reporters' identities and addresses stay with the reviewers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser, type LocalUser } from "../../src/accounts/service.ts";
import { upsertRemoteActor } from "../../src/actors/remote.ts";
import { createCommunity, getCommunity } from "../../src/communities/service.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { createThread } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { type LoggedServer, startLoggedServer } from "../helpers/logged-server.ts";
import {
  alertText,
  element,
  loggedIn,
  PASSWORD,
  seedCommunity,
  seedThread,
  seedUser,
  unescapeHtml,
} from "../helpers/seed.ts";

const SENT = /^\/posts\/[0-9a-f-]{36}\/report\/sent$/;

describe.each(dialects)("reports over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let author: LocalUser;
  let modThreadId: string;
  let threadId: string;
  let privateThreadId: string;
  let adminWeb: WebClient;
  let modWeb: WebClient;
  let reporterWeb: WebClient;
  let authorWeb: WebClient;
  let bystanderWeb: WebClient;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    const db = instance.runtime.db;
    const admin = await seedUser(instance, "root", { role: "admin" });
    const mod = await seedUser(instance, "nurse");
    author = await seedUser(instance, "author");
    await Promise.all(["reporter", "bystander"].map((u) => seedUser(instance, u)));
    const pots = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    const hidden = await seedCommunity(instance, admin, { slug: "hidden", name: "Hidden", visibility: "members" });
    [adminWeb, modWeb, reporterWeb, authorWeb, bystanderWeb] = await Promise.all([
      loggedIn(instance, "root"),
      loggedIn(instance, "nurse"),
      loggedIn(instance, "reporter"),
      loggedIn(instance, "author"),
      loggedIn(instance, "bystander"),
    ]);
    for (const web of [modWeb, reporterWeb, authorWeb, bystanderWeb])
      expect((await web.post("/@pots/join", {})).status).toBe(303);
    await addModerator(db, instance.url, { role: "admin", actorId: admin.actorId }, pots.id, mod.actorId);
    threadId = (await seedThread(instance, pots, author, "Salt loading", "Take 10 g of salt a day")).id;
    privateThreadId = (await seedThread(instance, hidden, admin, "Members only")).id;
    modThreadId = (await seedThread(instance, pots, mod, "Moderator's advice", "Stop your medication")).id;
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const report = async (web: WebClient, postId: string, fields: Record<string, string>) => {
    const form = await web.get(`/posts/${postId}/report`);
    expect(form.status, form.text.slice(0, 300)).toBe(200);
    return web.post(`/posts/${postId}/report`, fields);
  };
  const card = (html: string, marker: string) => {
    const at = html.indexOf(marker);
    const start = html.lastIndexOf('<article class="card report"', at);
    return start < 0 || at < 0 ? undefined : element(html.slice(start), '<article class="card report"');
  };

  it("a member's report reaches the community's moderators and admins, and nobody else", async () => {
    const form = await reporterWeb.get(`/posts/${threadId}/report`);
    expect(form.text).toContain("Medical misinformation");
    expect(form.text).toContain("the moderators of POTS");
    // Everything here is local: there is no other server to send a copy to.
    expect(form.text).not.toContain('name="forward"');
    const res = await reporterWeb.post(`/posts/${threadId}/report`, {
      category: "medical_misinformation",
      comment: "Dangerous dosing advice zqcomment1",
    });
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    const sent = res.headers.get("location") ?? "";
    expect(sent).toMatch(SENT);
    const confirmation = await reporterWeb.get(sent);
    expect(unescapeHtml(confirmation.text)).toContain("The moderators of POTS will review it");

    const queue = await modWeb.get("/@pots/reports");
    expect(queue.status).toBe(200);
    const item = card(queue.text, "zqcomment1");
    expect(item).toBeDefined();
    expect(item).toContain("@reporter");
    expect(item).toContain("Medical misinformation");
    expect(item).toContain("Salt loading");
    expect(item).toContain("@author");
    expect(item).toContain(`/posts/${threadId}/remove?report=`);
    expect(item).toMatch(/\/@pots\/ban\/[0-9a-f-]{36}\?report=/);
    expect((await adminWeb.get("/admin/reports")).text).toContain("zqcomment1");
    // The person reported, another member and a visitor cannot see it.
    for (const web of [authorWeb, bystanderWeb]) {
      const denied = await web.get("/@pots/reports");
      expect(denied.status).toBe(403);
      expect(denied.text).not.toContain("zqcomment1");
      expect((await web.get("/admin/reports")).status).toBe(403);
    }
    expect((await new WebClient(instance.url).get("/@pots/reports")).status).toBe(302);
    // The moderators' notification leads to the queue, without the reporter's name.
    const notes = await modWeb.get("/notifications");
    expect(notes.text).toContain("New report to review");
    expect(notes.text).toContain('href="/@pots/reports"');
    expect(notes.text).not.toContain("@reporter");
  });

  it("a visitor reports a public post; the contact address is for the reviewers only", async () => {
    const visitor = new WebClient(instance.url);
    const form = await visitor.get(`/posts/${threadId}/report`);
    expect(form.text).toContain('name="contact"');
    const res = await visitor.post(`/posts/${threadId}/report`, {
      category: "spam",
      comment: "zqvisitor advertising",
      contact: "worried@example.org",
    });
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    const sent = await visitor.get(res.headers.get("location") ?? "");
    expect(sent.status).toBe(200);
    expect(sent.text).not.toContain("worried@example.org");
    const item = card((await modWeb.get("/@pots/reports")).text, "zqvisitor");
    expect(item).toContain("a visitor");
    expect(item).toContain("worried@example.org");
    for (const web of [authorWeb, bystanderWeb, reporterWeb]) {
      for (const path of ["/@pots/reports", "/admin/reports", "/notifications", "/@author", `/posts/${threadId}`])
        expect((await web.get(path)).text).not.toContain("worried@example.org");
    }
  });

  it("a visitor cannot report a members-only post nor a person", async () => {
    const visitor = new WebClient(instance.url);
    expect((await visitor.get(`/posts/${privateThreadId}/report`)).status).toBe(404);
    await visitor.get(`/posts/${threadId}/report`);
    const res = await visitor.post(`/posts/${privateThreadId}/report`, { category: "spam" });
    expect(res.status).toBe(404);
    const person = await visitor.get("/@author/report");
    expect(person.status).toBe(302);
    expect(person.headers.get("location")).toBe("/login?next=%2F%40author%2Freport");
    // Nor can a member who may not read it.
    expect((await reporterWeb.get(`/posts/${privateThreadId}/report`)).status).toBe(404);
  });

  it("bad input is refused with the reason, the form kept", async () => {
    const res = await report(reporterWeb, threadId, { category: "boring", comment: "zqkept" });
    expect(res.status).toBe(422);
    expect(alertText(res.text)).toBe("category: choose a reason");
    expect(res.text).toContain("zqkept");
    const visitor = new WebClient(instance.url);
    const bad = await report(visitor, threadId, { category: "spam", contact: "not an address" });
    expect(bad.status).toBe(422);
    expect(alertText(bad.text)).toBe("contact: must be an email address");
    const own = await authorWeb.get(`/posts/${threadId}/report`);
    expect(own.status).toBe(403);
    expect(own.text).toContain("you cannot report your own post");
  });

  it("a member reports a person to the admins", async () => {
    const profile = await reporterWeb.get("/@author");
    expect(profile.text).toContain('href="/@author/report"');
    expect((await reporterWeb.get("/@reporter")).text).not.toContain('href="/@reporter/report"');
    const form = await reporterWeb.get("/@author/report");
    expect(form.text).toContain("the admins of");
    const res = await reporterWeb.post("/@author/report", { category: "harassment", comment: "zqperson" });
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    expect(res.headers.get("location")).toBe("/@author/report/sent");
    expect((await modWeb.get("/@pots/reports")).text).not.toContain("zqperson");
    const item = card((await adminWeb.get("/admin/reports")).text, "zqperson");
    expect(item).toContain('href="/@author"');
    expect(item).toContain("Harassment");
    expect((await reporterWeb.get("/@reporter/report")).status).toBe(403);
    expect((await reporterWeb.get("/@nobody/report")).status).toBe(404);
  });

  it("a person on another server: the form offers a copy to their server, without the reporter's name", async () => {
    const remoteId = await upsertRemoteActor(instance.runtime.db, {
      iri: "https://far.example/users/troll",
      type: "Person",
      username: "troll",
      host: "far.example",
      name: null,
      summaryHtml: null,
      url: null,
      inboxUrl: "https://far.example/users/troll/inbox",
      sharedInboxUrl: null,
      outboxUrl: null,
      followersUrl: null,
      followingUrl: null,
      featuredUrl: null,
      avatarUrl: null,
      manuallyApprovesFollowers: false,
      discoverable: true,
    });
    const form = await reporterWeb.get("/@troll@far.example/report");
    expect(form.status).toBe(200);
    expect(form.text).toContain("Also send to far.example");
    expect(form.text).toContain("without your name");
    const res = await reporterWeb.post("/@troll@far.example/report", { category: "spam", forward: "1" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/@troll@far.example/report/sent?forwarded=1");
    const sent = await reporterWeb.get(res.headers.get("location") ?? "");
    expect(sent.text).toContain("A copy goes to far.example, sent by this instance without your name.");
    const stored = await instance.runtime.db
      .selectFrom("reports")
      .select(["forward", "community_id"])
      .where("target_actor_id", "=", remoteId)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ forward: 1, community_id: null });
  });

  it("a moderator who is reported does not see who reported them, and cannot close it", async () => {
    expect(
      (await report(reporterWeb, modThreadId, { category: "medical_misinformation", comment: "zqaboutmod" })).status,
    ).toBe(303);
    expect((await modWeb.get("/@pots/reports")).text).not.toContain("zqaboutmod");
    const seen = await adminWeb.get("/@pots/reports");
    const id = /id="report-([0-9a-f-]{36})"/.exec(card(seen.text, "zqaboutmod") ?? "")?.[1];
    expect(id).toBeDefined();
    await modWeb.get("/");
    const closing = await modWeb.post(`/@pots/reports/${id}`, { outcome: "dismissed" });
    expect(closing.status).toBe(403);
    expect(closing.text).toContain("this report is about you");
  });

  it("reviewers close reports into tabs, and the queue pages by cursor", async () => {
    const queue = await modWeb.get("/@pots/reports");
    const id = /id="report-([0-9a-f-]{36})"/.exec(card(queue.text, "zqcomment1") ?? "")?.[1];
    expect(id).toBeDefined();
    // A member of the community cannot close it, nor can a moderator through another community's address.
    await bystanderWeb.get("/");
    expect((await bystanderWeb.post(`/@pots/reports/${id}`, { outcome: "dismissed" })).status).toBe(403);
    expect((await modWeb.post(`/@pots/reports/${id}`, { outcome: "maybe" })).status).toBe(422);
    const closed = await modWeb.post(`/@pots/reports/${id}`, { outcome: "dismissed", note: "zqnote fine" });
    expect(closed.status).toBe(303);
    expect((await modWeb.post(`/@pots/reports/${id}`, { outcome: "resolved" })).status).toBe(409);
    expect((await modWeb.get("/@pots/reports")).text).not.toContain("zqcomment1");
    const dismissed = await modWeb.get("/@pots/reports?status=dismissed");
    expect(card(dismissed.text, "zqcomment1")).toContain("zqnote fine");
    expect((await modWeb.get("/@pots/reports?status=lost")).status).toBe(422);

    // Newest first; the cursor is the last id of a page.
    const open = await adminWeb.get("/admin/reports");
    const ids = [...open.text.matchAll(/id="report-([0-9a-f-]{36})"/g)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const older = await adminWeb.get(`/admin/reports?status=open&cursor=${ids[0]}`);
    expect([...older.text.matchAll(/id="report-([0-9a-f-]{36})"/g)].map((m) => m[1])).toEqual(ids.slice(1));
  });
});

// Someone's words about someone's health must not end up in an admin's journal,
// even at debug: the server runs as a self-hoster runs it, and its output is kept.
describe("reports in the server's logs", () => {
  let server: LoggedServer;
  afterAll(async () => {
    await server?.stop();
  });

  it("neither a report's comment, its contact address nor the moderator's note is logged", async () => {
    server = await startLoggedServer("debug");
    const db = server.db.db;
    const admin = await createUser(
      db,
      server.origin,
      { username: "root", password: PASSWORD },
      {
        role: "admin",
        allowReserved: true,
      },
    );
    await createUser(db, server.origin, { username: "member", password: PASSWORD }, { role: "member" });
    await createCommunity(db, server.origin, admin, { slug: "pots", name: "POTS" });
    const thread = await createThread(db, server.origin, await getCommunity(db, "pots"), admin.actorId, {
      title: "Salt",
    });
    const marks = { comment: "zqlogcomment HIV", contact: "zqlogcontact@example.org", note: "zqlognote" };
    const visitor = new WebClient(server.origin);
    await visitor.get(`/posts/${thread.id}/report`);
    const res = await visitor.post(`/posts/${thread.id}/report`, {
      category: "privacy",
      comment: marks.comment,
      contact: marks.contact,
    });
    expect(res.status).toBe(303);
    const member = new WebClient(server.origin);
    expect((await member.logIn("member")).status).toBe(303);
    await member.get(`/posts/${thread.id}/report`);
    expect(
      (await member.post(`/posts/${thread.id}/report`, { category: "privacy", comment: marks.comment })).status,
    ).toBe(303);
    const root = new WebClient(server.origin);
    expect((await root.logIn("root")).status).toBe(303);
    const queue = await root.get("/admin/reports");
    for (const id of [...queue.text.matchAll(/id="report-([0-9a-f-]{36})"/g)].map((m) => m[1]))
      expect((await root.post(`/admin/reports/${id}`, { outcome: "resolved", note: marks.note })).status).toBe(303);
    await root.get("/admin/reports?status=resolved");
    await server.stop();
    const output = server.output();
    expect(output).toContain("/admin/reports");
    for (const mark of Object.values(marks)) expect(output).not.toContain(mark.split(" ")[0]);
  });
});
