// Controlled registrations (issue 13): the four sign-up modes, the approval
// queue on the admin page and in the CLI, invite links with expiry and use
// counts, and acceptance of the rules and privacy notice. Real instance, real
// HTTP, rows checked in its database, on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateSettings } from "../../src/instance/settings.ts";
import { runMain } from "../helpers/cli.ts";
import type { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { ClientAt, countRows, loggedIn, PASSWORD, seedUser, unescapeHtml } from "../helpers/seed.ts";

describe.each(dialects)("registrations (%s)", (dialect) => {
  let instance: TestInstance;
  let admin: WebClient;
  let address = 0;
  // Each sign-up from an address of its own: 10 an hour per address is the limit.
  const visitor = () => new ClientAt(instance.url, `198.51.100.${++address}`);
  /**
   * A visitor of their own posts the sign-up form. The CSRF token comes from the log-in page, which always has a
   * form: the sign-up page has none when sign-ups are closed, and the server must refuse such requests too.
   */
  const signUp = async (fields: Record<string, string>, web: WebClient = visitor()) => {
    await web.get("/login");
    return web.post("/signup", fields);
  };
  const mode = (registrations: "open" | "approval" | "invite" | "closed", extra = {}) =>
    updateSettings(instance.runtime.db, { registrations, ...extra });
  const accountExists = async (key: string) =>
    (await instance.runtime.db
      .selectFrom("actors")
      .select("id")
      .where("username_key", "=", key)
      .where("local", "=", 1)
      .executeTakeFirst()) !== undefined;
  const cli = (...args: string[]) =>
    runMain(
      { DATABASE_URL: instance.config.databaseUrl, DATA_DIR: instance.config.dataDir, ORIGIN: instance.url },
      args,
    );

  beforeAll(async () => {
    instance = await startTestInstance({ dialect, env: { TRUST_PROXY: "true" } });
    await seedUser(instance, "root", { role: "admin" });
    admin = await loggedIn(instance, "root");
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("approval: the applicant answers the question; no account until an admin approves, who is notified", async () => {
    await mode("approval", { applicationQuestion: "What brings you to this community?" });
    const web = visitor();
    const form = await web.get("/signup");
    expect(form.text).toContain("What brings you to this community?");
    const noAnswer = await web.post("/signup", { username: "hopeful", password: PASSWORD, answer: "  " });
    expect(noAnswer.status).toBe(422);
    expect(noAnswer.text).toContain("answer the question");
    const applied = await web.post("/signup", { username: "hopeful", password: PASSWORD, answer: "My sister has ME" });
    expect(applied.status).toBe(202);
    expect(applied.text).toContain("An admin will read your application");
    expect(await accountExists("hopeful")).toBe(false);
    // Nothing of the applicant is public: no profile, no WebFinger.
    expect((await web.get("/@hopeful")).status).toBe(404);
    const finger = await fetch(
      `${instance.url}/.well-known/webfinger?resource=acct:hopeful@${new URL(instance.url).host}`,
    );
    expect(finger.status).toBe(404);
    // The name is held: nobody else takes it meanwhile.
    const twin = await signUp({ username: "Hopeful", password: PASSWORD, answer: "me too" });
    expect(twin.status).toBe(409);
    // Logging in says where things stand (with the right password only).
    const early = await visitor().logIn("hopeful", PASSWORD);
    expect(early.status).toBe(403);
    expect(unescapeHtml(early.text)).toContain("waiting for an admin");
    const wrong = await visitor().logIn("hopeful", "not the password");
    expect(unescapeHtml(wrong.text)).not.toContain("waiting for an admin");

    const notes = await admin.get("/notifications");
    expect(notes.text).toContain("New sign-up to review");
    const queue = await admin.get("/admin/registrations");
    expect(queue.text).toContain("My sister has ME");
    const approved = await admin.post("/admin/registrations/hopeful/approve", {});
    expect(approved.status).toBe(303);
    expect(await accountExists("hopeful")).toBe(true);
    expect(await countRows(instance, "registration_applications")).toBe(0);
    // The password chosen when applying works.
    expect((await visitor().logIn("hopeful", PASSWORD)).status).toBe(303);
  });

  it("approval: a rejected application leaves nothing behind and frees the name; members can't review", async () => {
    await mode("approval");
    await signUp({ username: "spammer", password: PASSWORD, answer: "buy pills" });
    await seedUser(instance, "plainmember");
    const member = await loggedIn(instance, "plainmember");
    expect((await member.get("/admin/registrations")).status).toBe(403);
    expect((await member.post("/admin/registrations/spammer/approve", {})).status).toBe(403);
    expect(await accountExists("spammer")).toBe(false);
    expect((await admin.post("/admin/registrations/spammer/reject", {})).status).toBe(303);
    expect(await countRows(instance, "registration_applications")).toBe(0);
    expect(await accountExists("spammer")).toBe(false);
    // Approving what is gone is a 404, not a 500.
    expect((await admin.post("/admin/registrations/spammer/approve", {})).status).toBe(404);
  });

  it("invite only: no sign-up without a link; a link works within its uses and until it expires or is revoked", async () => {
    await mode("invite");
    // The page offers no form; a request made by hand (with a token from another page) is refused too.
    expect((await visitor().get("/signup")).text).toContain("by invitation");
    const crafted = visitor();
    await crafted.get("/login");
    const refused = await crafted.post("/signup", { username: "uninvited", password: PASSWORD });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("by invitation");
    const made = await admin.post("/admin/invites", { uses: "1", expires: "1d" });
    expect(made.status).toBe(200);
    const link = /\/invite\/([A-Za-z0-9_-]+)/.exec(made.text)?.[1];
    expect(link).toBeDefined();
    const web = visitor();
    const redirect = await web.get(`/invite/${link}`);
    expect(redirect.status).toBe(302);
    const page = await web.get(`/signup?invite=${link}`);
    expect(page.text).toContain(`name="invite" value="${link}"`);
    const joined = await web.post("/signup", { username: "invited1", password: PASSWORD, invite: link! });
    expect(joined.status).toBe(303);
    expect(await accountExists("invited1")).toBe(true);
    // Its one use is spent.
    const again = await signUp({ username: "invited2", password: PASSWORD, invite: link! });
    expect(again.status).toBe(422);
    expect(again.text).toContain("used up");
    expect(await accountExists("invited2")).toBe(false);
    // Expired and revoked links are refused too.
    const expired = await admin.post("/admin/invites", { uses: "", expires: "30m" });
    const old = /\/invite\/([A-Za-z0-9_-]+)/.exec(expired.text)?.[1] as string;
    await instance.runtime.db
      .updateTable("invites")
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("code", "=", old)
      .execute();
    expect((await signUp({ username: "late", password: PASSWORD, invite: old })).status).toBe(422);
    const revocable = await admin.post("/admin/invites", { uses: "", expires: "never" });
    const code = /\/invite\/([A-Za-z0-9_-]+)/.exec(revocable.text)?.[1] as string;
    expect((await admin.post(`/admin/invites/${code}/revoke`, {})).status).toBe(303);
    expect((await signUp({ username: "revoked", password: PASSWORD, invite: code })).status).toBe(422);
    // Bad choices are a 422 with the reason.
    const bad = await admin.post("/admin/invites", { uses: "0", expires: "1d" });
    expect(bad.status).toBe(422);
  });

  it("an invite link's last use goes to one of two racing sign-ups only", async () => {
    await mode("closed");
    const made = await admin.post("/admin/invites", { uses: "1", expires: "1d" });
    const code = /\/invite\/([A-Za-z0-9_-]+)/.exec(made.text)?.[1] as string;
    const [a, b] = await Promise.all([
      signUp({ username: "racer_a", password: PASSWORD, invite: code }),
      signUp({ username: "racer_b", password: PASSWORD, invite: code }),
    ]);
    expect([a.status, b.status].sort()).toEqual([303, 422]);
    const invite = await instance.runtime.db
      .selectFrom("invites")
      .select("uses")
      .where("code", "=", code)
      .executeTakeFirst();
    expect(invite?.uses).toBe(1);
    expect(Number(await accountExists("racer_a")) + Number(await accountExists("racer_b"))).toBe(1);
  });

  it("closed: the page says so; the rules and privacy notice must be accepted where required", async () => {
    await mode("closed");
    expect((await visitor().get("/signup")).text).toContain("Sign-ups are closed");
    const crafted = visitor();
    await crafted.get("/login");
    expect((await crafted.post("/signup", { username: "nobody", password: PASSWORD })).status).toBe(403);
    await mode("open", { requireAgreement: true, rules: "1. Be **kind**." });
    const rules = await visitor().get("/rules");
    expect(rules.text).toContain("Be <strong>kind</strong>.");
    const privacy = await visitor().get("/privacy");
    expect(privacy.text).toContain("how long backups are kept");
    const web = visitor();
    expect((await web.get("/signup")).text).toContain('href="/privacy"');
    const unticked = await web.post("/signup", { username: "careless", password: PASSWORD });
    expect(unticked.status).toBe(422);
    expect(await accountExists("careless")).toBe(false);
    const ticked = await web.post("/signup", { username: "careful", password: PASSWORD, agree: "1" });
    expect(ticked.status).toBe(303);
    const row = await instance.runtime.db
      .selectFrom("users")
      .innerJoin("actors", "actors.id", "users.actor_id")
      .select("users.agreed_at")
      .where("actors.username_key", "=", "careful")
      .executeTakeFirst();
    expect(row?.agreed_at).toBeTruthy();
    await mode("open", { requireAgreement: false });
  });

  it("the admin page sets the mode, question, rules and notice; the CLI lists, approves and makes invites", async () => {
    const saved = await admin.post("/admin", {
      description: "Patients helping patients",
      communityCreation: "admins",
      registrations: "approval",
      applicationQuestion: "Which condition?",
      rules: "No medical advice.",
      privacyNotice: "Backups are kept 30 days.",
    });
    expect(saved.status).toBe(303);
    expect((await visitor().get("/privacy")).text).toContain("Backups are kept 30 days.");
    expect((await visitor().get("/signup")).text).toContain("Which condition?");
    await signUp({ username: "clifan", password: PASSWORD, answer: "Long COVID" });
    const list = await cli("signup", "list");
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("clifan");
    expect(list.stdout).toContain("Long COVID");
    const approved = await cli("signup", "approve", "clifan");
    expect(approved.stdout).toContain("approved clifan");
    expect(await accountExists("clifan")).toBe(true);
    const missing = await cli("signup", "approve", "clifan");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("not found");
    const invite = await cli("invite", "create", "--uses", "3", "--expires", "1h");
    expect(invite.stdout).toMatch(/\/invite\/[A-Za-z0-9_-]+\n$/);
    const badExpiry = await cli("invite", "create", "--expires", "3y");
    expect(badExpiry.code).toBe(2);
    expect((await cli("invite", "list")).stdout).toContain("0/3");
    const closed = await cli("signup", "mode", "closed");
    expect(closed.stdout).toContain("closed");
    expect((await visitor().get("/signup")).text).toContain("Sign-ups are closed");
  });
});
