// Communities through the real app over real HTTP: creation rights and input,
// membership (open, approval, members-only), moderation and pagination.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import {
  alertText,
  countRows,
  element,
  loggedIn,
  nextLink,
  seedCommunity,
  seedThread,
  seedUser,
  threadTitles,
} from "../helpers/seed.ts";

describe.each(dialects)("communities over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let boss: LocalUser;
  let carol: LocalUser;
  let bob: LocalUser;
  let admin: WebClient;
  let alice: WebClient;
  let bobWeb: WebClient;
  let carolWeb: WebClient;
  let anonymous: WebClient;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    boss = await seedUser(instance, "boss", { role: "admin" });
    await seedUser(instance, "alice");
    bob = await seedUser(instance, "bob");
    carol = await seedUser(instance, "carol");
    [admin, alice, bobWeb, carolWeb] = await Promise.all([
      loggedIn(instance, "boss"),
      loggedIn(instance, "alice"),
      loggedIn(instance, "bob"),
      loggedIn(instance, "carol"),
    ]);
    anonymous = new WebClient(instance.url);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const db = () => instance.runtime.db;
  const actorId = (key: string) =>
    db()
      .selectFrom("actors")
      .select("id")
      .where("username_key", "=", key)
      .executeTakeFirstOrThrow()
      .then((r) => r.id);
  const followStatus = async (community: string, member: string) =>
    (
      await db()
        .selectFrom("follows")
        .select("status")
        .where("followee_id", "=", await actorId(community))
        .where("follower_id", "=", await actorId(member))
        .executeTakeFirst()
    )?.status ?? null;
  const page = (web: WebClient, path: string) => web.get(path, { accept: "text/html" });

  /** Creates a community through the form, as its admin would. */
  async function createViaWeb(fields: Record<string, string>) {
    await admin.get("/communities/new");
    const res = await admin.post("/communities", {
      name: fields.slug ?? "",
      description: "",
      rules: "",
      visibility: "public",
      join: "open",
      federation: "federated",
      ...fields,
    });
    expect(res.status, res.text.slice(0, 500)).toBe(303);
    return res;
  }

  describe("creation", () => {
    it("forbids non-admins (403) and writes nothing", async () => {
      const form = await page(alice, "/communities/new");
      expect(form.status).toBe(403);
      const communities = await countRows(instance, "communities");
      const actors = await countRows(instance, "actors");
      const res = await alice.post("/communities", {
        slug: "alices_place",
        name: "Alice's place",
        visibility: "public",
        join: "open",
        federation: "federated",
      });
      expect(res.status).toBe(403);
      expect(res.text).toContain("only admins may create communities on this instance");
      expect(await countRows(instance, "communities")).toBe(communities);
      expect(await countRows(instance, "actors")).toBe(actors);
    });

    it("lets an admin create one; the creator is its first moderator and member", async () => {
      const res = await createViaWeb({
        slug: "Migraine",
        name: "Migraine support",
        description: "For people living with **migraine**.",
        rules: "1. Be kind",
      });
      expect(res.headers.get("location")).toBe("/@migraine");
      const row = await db()
        .selectFrom("communities")
        .innerJoin("actors", "actors.id", "communities.actor_id")
        .select([
          "actors.id",
          "actors.username",
          "actors.type",
          "actors.iri",
          "communities.visibility",
          "communities.join_policy",
          "communities.federation",
        ])
        .where("actors.username_key", "=", "migraine")
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        username: "migraine",
        type: "Group",
        iri: `${instance.url}/@migraine`,
        visibility: "public",
        join_policy: "open",
        federation: "federated",
      });
      expect(await countRows(instance, "community_moderators", ["community_id", row.id])).toBe(1);
      expect(await followStatus("migraine", "boss")).toBe("accepted");

      const view = await page(anonymous, "/@migraine");
      expect(view.status).toBe(200);
      expect(view.text).toContain("<h1>Migraine support</h1>");
      expect(view.text).toContain("For people living with <strong>migraine</strong>.");
      expect(view.text).toContain("@migraine · 1 member");
      expect(view.text).toContain("<p>No threads yet.</p>");
    });

    it.each([
      ["bad slug", "may contain only letters, digits, '_' and '-' (not at the start or end)"],
      ["-dash", "may contain only letters, digits, '_' and '-' (not at the start or end)"],
      ["c".repeat(31), "must be at most 30 characters"],
      ["", "is required"],
    ])("rejects the slug %j with 422 and writes nothing", async (slug, reason) => {
      const communities = await countRows(instance, "communities");
      const actors = await countRows(instance, "actors");
      await admin.get("/communities/new");
      const res = await admin.post("/communities", {
        slug,
        name: "Whatever",
        visibility: "public",
        join: "open",
        federation: "federated",
      });
      expect(res.status).toBe(422);
      // The form calls the field "Handle": so does the error.
      expect(alertText(res.text)).toBe(`Handle: ${reason}`);
      expect(res.text).toContain('id="slug-error"');
      expect(await countRows(instance, "communities")).toBe(communities);
      expect(await countRows(instance, "actors")).toBe(actors);
    });

    it.each([
      ["MIGRAINE", "a community (other case)"],
      ["alice", "a user: one namespace"],
      ["Carol", "a user, other case"],
    ])("refuses the taken slug %j (%s) with 409 and writes nothing", async (slug) => {
      const communities = await countRows(instance, "communities");
      const actors = await countRows(instance, "actors");
      await admin.get("/communities/new");
      const res = await admin.post("/communities", {
        slug,
        name: "Duplicate",
        visibility: "public",
        join: "open",
        federation: "federated",
      });
      expect(res.status).toBe(409);
      expect(alertText(res.text)).toBe(`the name "${slug}" is already taken`);
      expect(res.text).toContain('<p class="error" id="slug-error" role="alert">is already taken</p>');
      expect(await countRows(instance, "communities")).toBe(communities);
      expect(await countRows(instance, "actors")).toBe(actors);
    });

    it("rejects an unknown visibility with 422", async () => {
      const communities = await countRows(instance, "communities");
      await admin.get("/communities/new");
      const res = await admin.post("/communities", {
        slug: "oddity",
        name: "Odd",
        visibility: "secret",
        join: "open",
        federation: "federated",
      });
      expect(res.status).toBe(422);
      expect(alertText(res.text)).toMatch(/^visibility: /);
      expect(await countRows(instance, "communities")).toBe(communities);
    });
  });

  describe("membership", () => {
    beforeAll(async () => {
      await createViaWeb({ slug: "approvals", name: "Approval needed", join: "approval" });
    });

    it("joins and leaves an open community", async () => {
      const before = await page(bobWeb, "/@migraine");
      expect(before.text).toContain('<form method="post" action="/@migraine/join" class="inline">');
      expect(before.text).toContain("<button>Join</button>");

      const joined = await bobWeb.post("/@migraine/join", {});
      expect(joined.status).toBe(303);
      expect(joined.headers.get("location")).toBe("/@migraine");
      expect(await followStatus("migraine", "bob")).toBe("accepted");
      const member = await page(bobWeb, "/@migraine");
      expect(member.text).toContain('<form method="post" action="/@migraine/leave" class="inline">');
      expect(member.text).toContain("@migraine · 2 members");

      // Joining twice changes nothing.
      expect((await bobWeb.post("/@migraine/join", {})).status).toBe(303);
      expect(await countRows(instance, "follows", ["follower_id", bob.actorId])).toBe(1);

      const left = await bobWeb.post("/@migraine/leave", {});
      expect(left.status).toBe(303);
      expect(await followStatus("migraine", "bob")).toBeNull();
      const after = await page(bobWeb, "/@migraine");
      expect(after.text).toContain("<button>Join</button>");
      expect(after.text).toContain("@migraine · 1 member");
    });

    it("asks anonymous visitors to log in instead of joining", async () => {
      const view = await page(anonymous, "/@migraine");
      expect(view.text).toContain('<a class="button" href="/login?next=/@migraine">Log in to join</a>');
      await anonymous.get("/login"); // a page with a form, for the CSRF token
      const res = await anonymous.post("/@migraine/join", {});
      expect(res.status).toBe(401);
      expect(await countRows(instance, "follows", ["followee_id", await actorId("migraine")])).toBe(1);
    });

    it("approval community: a join is pending until a moderator approves it on the moderation page, and the log records it", async () => {
      const res = await carolWeb.post("/@approvals/join", {});
      expect(res.status).toBe(303);
      expect(await followStatus("approvals", "carol")).toBe("pending");
      const pending = await page(carolWeb, "/@approvals");
      expect(pending.text).toContain('<span class="tag">Request pending</span>');

      const modView = await page(admin, "/@approvals");
      expect(modView.text).toContain('<a href="/@approvals/moderation">Moderation (1 pending)</a>');
      const moderation = await page(admin, "/@approvals/moderation");
      expect(moderation.status).toBe(200);
      const entry = element(moderation.text, '<section aria-labelledby="pending-h">');
      expect(entry).toContain("@carol");
      const approve = /action="(\/@approvals\/members\/[^"]+\/approve)"/.exec(entry ?? "")?.[1];
      expect(approve).toBe(`/@approvals/members/${carol.actorId}/approve`);

      const decided = await admin.post(approve!, {});
      expect(decided.status).toBe(303);
      expect(decided.headers.get("location")).toBe("/@approvals/moderation");
      expect(await followStatus("approvals", "carol")).toBe("accepted");
      expect((await page(carolWeb, "/@approvals")).text).toContain(
        '<form method="post" action="/@approvals/leave" class="inline">',
      );

      const log = await page(admin, "/@approvals/moderation");
      expect(log.text).toContain("<p>No pending requests.</p>");
      // Readable words, not the log's code (the route's ACTION_LABELS wording, or the code made readable).
      expect(log.text).toMatch(/<td>boss<\/td><td>(Approved a join request|Approve member)<\/td><td>carol<\/td>/);
      expect(log.text).not.toContain("approve_member");
      const actions = await db()
        .selectFrom("moderation_actions")
        .select(["action", "moderator_id", "target_actor_id"])
        .where("target_actor_id", "=", carol.actorId)
        .execute();
      expect(actions).toEqual([
        { action: "approve_member", moderator_id: boss.actorId, target_actor_id: carol.actorId },
      ]);
    });

    it("approval community: a moderator can reject a request", async () => {
      expect((await bobWeb.post("/@approvals/join", {})).status).toBe(303);
      expect(await followStatus("approvals", "bob")).toBe("pending");
      const moderation = await page(admin, "/@approvals/moderation");
      expect(moderation.text).toContain(`action="/@approvals/members/${bob.actorId}/reject"`);
      const res = await admin.post(`/@approvals/members/${bob.actorId}/reject`, {});
      expect(res.status).toBe(303);
      expect(await followStatus("approvals", "bob")).toBeNull();
      const log = await page(admin, "/@approvals/moderation");
      expect(log.text).toMatch(/<td>boss<\/td><td>(Refused a join request|Reject member)<\/td><td>bob<\/td>/);
      expect((await page(bobWeb, "/@approvals")).text).toContain("<button>Request to join</button>");
    });

    it("keeps non-moderators out of moderation (403) and deciding a request that does not exist is a 404", async () => {
      expect((await page(carolWeb, "/@approvals/moderation")).status).toBe(403);
      expect((await carolWeb.post(`/@approvals/members/${bob.actorId}/approve`, {})).status).toBe(403);
      expect(await followStatus("approvals", "bob")).toBeNull();
      expect((await admin.post(`/@approvals/members/${bob.actorId}/approve`, {})).status).toBe(404);
      expect(await followStatus("approvals", "bob")).toBeNull();
    });

    it("the last moderator cannot leave (403) and stays moderator and member", async () => {
      const res = await admin.post("/@migraine/leave", {});
      expect(res.status).toBe(403);
      expect(res.text).toContain("the last moderator cannot leave");
      expect(await followStatus("migraine", "boss")).toBe("accepted");
      const community = await actorId("migraine");
      expect(await countRows(instance, "community_moderators", ["community_id", community])).toBe(1);
    });
  });

  describe("members-only community", () => {
    let threadId: string;
    const title = "Our private check-in thread";

    beforeAll(async () => {
      await createViaWeb({
        slug: "private_circle",
        name: "Private circle",
        description: "A closed circle for **long covid**.",
        visibility: "members",
      });
      await admin.get("/@private_circle/submit");
      const res = await admin.post("/@private_circle/submit", {
        title,
        body: "Only members should read this. #privatetag",
        cw: "",
      });
      expect(res.status).toBe(303);
      threadId = /^\/posts\/([0-9a-f-]{36})$/.exec(res.headers.get("location") ?? "")![1]!;
    });

    it("shows anonymous visitors the about section but not the threads", async () => {
      const view = await page(anonymous, "/@private_circle");
      expect(view.status).toBe(200);
      expect(view.text).toContain("A closed circle for <strong>long covid</strong>.");
      expect(view.text).toContain("This community is for members only.");
      expect(view.text).not.toContain(title);
      expect(view.text).not.toContain(threadId);
    });

    it("shows a logged-in non-member the about section but not the threads", async () => {
      const view = await page(alice, "/@private_circle");
      expect(view.status).toBe(200);
      expect(view.text).toContain("A closed circle for <strong>long covid</strong>.");
      expect(view.text).toContain("<button>Request to join</button>");
      expect(view.text).not.toContain(title);
      expect(view.text).not.toContain(threadId);
    });

    it("shows members the threads", async () => {
      const view = await page(admin, "/@private_circle");
      expect(threadTitles(view.text)).toEqual([title]);
      const thread = await page(admin, `/posts/${threadId}`);
      expect(thread.status).toBe(200);
      expect(thread.text).toContain(`<h1>${title}</h1>`);
    });

    it("answers 404 for the thread page to anonymous visitors and non-members", async () => {
      for (const web of [anonymous, alice]) {
        const res = await page(web, `/posts/${threadId}`);
        expect(res.status).toBe(404);
        expect(res.text).not.toContain(title);
      }
    });

    it("does not leak the thread through the tag page or the author's profile", async () => {
      for (const web of [anonymous, alice]) {
        const tag = await page(web, "/tags/privatetag");
        expect(tag.status).toBe(200);
        expect(tag.text).not.toContain(title);
        expect(tag.text).not.toContain(threadId);
        const profile = await page(web, "/@boss");
        expect(profile.status).toBe(200);
        expect(profile.text).not.toContain(title);
        expect(profile.text).not.toContain(threadId);
      }
      // Its author still sees it on their own profile.
      expect((await page(admin, "/@boss")).text).toContain(title);
    });

    it("never serves the thread as ActivityPub JSON to an unsigned request", async () => {
      const res = await fetch(new URL(`/posts/${threadId}`, instance.url), {
        headers: { accept: "application/activity+json" },
      });
      const text = await res.text();
      // 401: only requests signed from a member's server may fetch it (as Lemmy's private communities).
      expect(res.status).toBe(401);
      expect(text).not.toContain(title);
    });

    it("a pending request does not open it; approval does", async () => {
      expect((await alice.post("/@private_circle/join", {})).status).toBe(303);
      expect(await followStatus("private_circle", "alice")).toBe("pending");
      const pending = await page(alice, "/@private_circle");
      expect(pending.text).toContain("Your request to join is waiting for a moderator.");
      expect(pending.text).not.toContain(title);
      const aliceId = await actorId("alice");
      expect((await admin.post(`/@private_circle/members/${aliceId}/approve`, {})).status).toBe(303);
      const member = await page(alice, "/@private_circle");
      expect(threadTitles(member.text)).toEqual([title]);
      expect((await page(alice, `/posts/${threadId}`)).status).toBe(200);
    });
  });

  describe("pagination", () => {
    it("follows the Older link through 30 threads, seeing each title exactly once, newest first", async () => {
      const community = await seedCommunity(instance, boss, { slug: "paged", name: "Paged" });
      for (let i = 1; i <= 30; i++) await seedThread(instance, community, boss, `Thread number ${i}`);

      const seen: string[] = [];
      let path: string | undefined = "/@paged";
      let pages = 0;
      while (path) {
        const res = await page(anonymous, path);
        expect(res.status).toBe(200);
        seen.push(...threadTitles(res.text));
        path = nextLink(res.text);
        pages++;
        expect(pages, "pagination does not end").toBeLessThanOrEqual(5);
      }
      expect(pages).toBe(2);
      expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `Thread number ${30 - i}`));
    });
  });
});
