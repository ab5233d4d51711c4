// Attacks on issue 13's sign-ups and recovery codes, as an attacker:
// - a name someone has applied for is taken by an invite sign-up meanwhile, so
//   the application can never be approved (and two people hold one name's password);
// - the per-account bound on recovery-code guesses is keyed by what was typed,
//   so "@alice" gets a second allowance for alice's account;
// - /welcome mints recovery codes, without the password, for any account that
//   has none yet (approved applicants, CLI-made accounts never saw it): a
//   stolen session becomes a password change, i.e. the account.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateSettings } from "../../src/instance/settings.ts";
import { createInvite } from "../../src/registrations/invites.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { ClientAt, PASSWORD, seedUser } from "../helpers/seed.ts";

describe.each(dialects)("sign-ups and recovery (%s)", (dialect) => {
  let instance: TestInstance;
  let address = 0;
  const visitor = () => new ClientAt(instance.url, `198.51.100.${++address}`);
  const db = () => instance.runtime.db;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect, env: { TRUST_PROXY: "true" } });
    await seedUser(instance, "root", { role: "admin" });
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("an invite sign-up can't take a name that is waiting in the approval queue", async () => {
    await updateSettings(db(), { registrations: "approval", applicationQuestion: "Why?", requireAgreement: false });
    const applicant = visitor();
    await applicant.get("/signup");
    const applied = await applicant.post("/signup", { username: "dana", password: PASSWORD, answer: "My ME" });
    expect(applied.status).toBe(202);

    const invite = await createInvite(db(), { createdBy: null, maxUses: 1, expiresIn: "1d" });
    const other = visitor();
    await other.get(`/signup?invite=${invite.code}`);
    const taken = await other.post("/signup", {
      username: "Dana",
      password: `${PASSWORD}-other`,
      invite: invite.code,
    });
    // As a second application for the name is refused: "already taken".
    expect(taken.status, "the invite sign-up for a name in the queue").toBe(409);
  });

  it("two applications racing for one name: one is queued, the other told the name is taken (never a 500)", async () => {
    await updateSettings(db(), { registrations: "approval", applicationQuestion: "Why?", requireAgreement: false });
    const apply = async (name: string, i: number) => {
      const web = visitor();
      await web.get("/signup");
      return web.post("/signup", { username: name, password: `${PASSWORD}-${i}`, answer: `Reason ${i}` });
    };
    // A race: a few rounds of ten at once make it likely that two pass the check before either inserts.
    for (const name of ["twin0", "twin1", "twin2"]) {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => apply(name, i)));
      const statuses = results.map((r) => r.status);
      expect(
        statuses.filter((s) => s === 202),
        `${name}: queued once`,
      ).toHaveLength(1);
      expect(
        statuses.filter((s) => s !== 202 && s !== 409),
        `${name}: neither queued nor "taken"`,
      ).toEqual([]);
    }
  });

  it("recovery-code guesses are bounded per account, however the name is written", async () => {
    await seedUser(instance, "alice");
    const guess = async (username: string) => {
      const web = visitor();
      await web.get("/recover");
      return web.post("/recover", { username, code: "AAAA-BBBB-CCCC-DDDD", password: `${PASSWORD}-new` });
    };
    for (let i = 0; i < 10; i++) expect((await guess("alice")).status).toBe(422);
    expect((await guess("alice")).status, "the 11th guess for alice").toBe(429);
    expect((await guess("@alice")).status, "the 12th guess for alice, typed @alice").toBe(429);
  });

  it("a session alone can't mint recovery codes for an account that signed up long ago", async () => {
    // An account made at the command line (as an approved applicant's is): it never saw /welcome.
    await seedUser(instance, "olga");
    const thief = new ClientAt(instance.url, `198.51.100.${++address}`);
    expect((await thief.logIn("olga", PASSWORD)).status).toBe(303);
    const welcome = await thief.get("/welcome");
    const code = /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/.exec(welcome.text)?.[0];
    expect(code, "recovery codes handed to whoever holds the session").toBeUndefined();
  });
});
