// Password reset by email (issue 13), against a real SMTP server on loopback
// and a real instance on each database: the login page offers it only when
// the instance sends mail; the form answers alike for members, strangers and
// members without an address; the mailed link is single-use, expires, sets a
// new password and ends every session; only the token's hash is stored; and
// asking is rate-limited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { ClientAt, loggedIn, PASSWORD, seedUser, unescapeHtml } from "../helpers/seed.ts";
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from "../helpers/smtp.ts";

const LINK = /https?:\/\/[^\s]+\/reset-password\/([A-Za-z0-9_-]{43})/;

describe.each(dialects)("password reset by email (%s)", (dialect) => {
  let smtp: TestSmtpServer;
  let instance: TestInstance;
  let plain: TestInstance;
  let address = 0;
  const visitor = () => new ClientAt(instance.url, `198.51.100.${++address}`);

  beforeAll(async () => {
    smtp = await startSmtpServer();
    instance = await startTestInstance({
      dialect,
      env: { SMTP_URL: smtp.url, INSTANCE_NAME: "Kindred test", TRUST_PROXY: "true" },
    });
    plain = await startTestInstance({ dialect });
  });
  afterAll(async () => {
    await instance?.stop();
    await plain?.stop();
    await smtp?.stop();
  });

  const db = () => instance.runtime.db;
  const setEmail = (user: LocalUser, email: string | null) =>
    db().updateTable("users").set({ email }).where("actor_id", "=", user.actorId).execute();
  const mailsTo = (to: string) => smtp.received.filter((m) => m.to.some((t) => t.toLowerCase() === to));

  /** Waits (generously) for the `n`th mail to `to`: the instance sends it after answering. */
  async function mailTo(to: string, n = 1): Promise<ReceivedMail> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const mail = mailsTo(to)[n - 1];
      if (mail) return mail;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no mail number ${n} to ${to}`);
  }

  async function ask(identifier: string) {
    const web = visitor();
    await web.get("/forgot-password");
    return web.post("/forgot-password", { identifier });
  }

  it("is offered on the login page only when the instance sends mail", async () => {
    const withMail = await new ClientAt(instance.url, "198.51.100.250").get("/login");
    expect(withMail.text).toContain('href="/forgot-password"');
    const without = await fetch(new URL("/login", plain.url)).then((r) => r.text());
    expect(without).not.toContain('href="/forgot-password"');
    expect(without).toContain('href="/recover"');
    const off = await fetch(new URL("/forgot-password", plain.url)).then((r) => r.text());
    expect(off).toContain("does not send email");
  });

  it("mails a single-use link that sets a new password and ends every session", async () => {
    const user = await seedUser(instance, "mailer1");
    await setEmail(user, "Mailer1@Mail.Example");
    const session = await loggedIn(instance, "mailer1");

    // By username, and by address (any case): the same answer as for nobody, and as for a member with no address.
    const byName = await ask("mailer1");
    expect(byName.status).toBe(200);
    const sameAnswer = unescapeHtml(byName.text).match(/If an account[^<]+/)?.[0];
    expect(sameAnswer).toBeTruthy();
    await seedUser(instance, "noaddress");
    for (const other of ["nobody-here", "noaddress", "ghost@mail.example"]) {
      const res = await ask(other);
      expect(res.status).toBe(200);
      expect(unescapeHtml(res.text)).toContain(sameAnswer);
    }
    const first = await mailTo("mailer1@mail.example");
    expect(first.headers.get("subject")).toContain("Kindred test");
    const token1 = LINK.exec(first.text)?.[1];
    expect(token1).toBeTruthy();
    // Only a hash of the token is stored.
    const rows = await db().selectFrom("password_resets").selectAll().where("user_id", "=", user.actorId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).not.toBe(token1);
    expect(JSON.stringify(rows)).not.toContain(token1);

    // Asking again replaces the first link.
    await ask("MAILER1@mail.example");
    const second = await mailTo("mailer1@mail.example", 2);
    const token2 = LINK.exec(second.text)?.[1] as string;
    expect(token2).not.toBe(token1);
    expect((await visitor().get(`/reset-password/${token1}`)).status).toBe(404);

    const web = visitor();
    const form = await web.get(`/reset-password/${token2}`);
    expect(form.status).toBe(200);
    expect(form.headers.get("cache-control")).toContain("no-store");
    const short = await web.post(`/reset-password/${token2}`, { password: "short" });
    expect(short.status).toBe(422);
    const done = await web.post(`/reset-password/${token2}`, { password: "a whole new password" });
    expect(done.status).toBe(303);
    // Every session ended; the old password no longer works, the new one does; the link is spent.
    expect((await session.get("/settings")).status).toBe(302);
    expect((await visitor().logIn("mailer1", PASSWORD)).status).not.toBe(303);
    expect((await visitor().logIn("mailer1", "a whole new password")).status).toBe(303);
    const again = visitor();
    await again.get("/forgot-password");
    expect((await again.get(`/reset-password/${token2}`)).status).toBe(404);
    const reuse = await again.post(`/reset-password/${token2}`, { password: "yet another password" });
    expect(reuse.status).toBe(404);
  });

  it("refuses an expired link", async () => {
    const user = await seedUser(instance, "mailer2");
    await setEmail(user, "mailer2@mail.example");
    await ask("mailer2");
    const token = LINK.exec((await mailTo("mailer2@mail.example")).text)?.[1] as string;
    await db()
      .updateTable("password_resets")
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("user_id", "=", user.actorId)
      .execute();
    const web = visitor();
    await web.get("/forgot-password");
    const page = await web.get(`/reset-password/${token}`);
    expect(page.status).toBe(404);
    expect(page.text).toContain("expired");
    expect((await web.post(`/reset-password/${token}`, { password: "a whole new password" })).status).toBe(404);
    expect((await visitor().logIn("mailer2", PASSWORD)).status).toBe(303);
  });

  it("is rate-limited per account", async () => {
    const user = await seedUser(instance, "mailer3");
    await setEmail(user, "mailer3@mail.example");
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await ask("mailer3")).status);
    expect(answers.slice(0, 3)).toEqual([200, 200, 200]);
    expect(answers[3]).toBe(429);
    await mailTo("mailer3@mail.example", 3);
    // The refused fourth request mailed nothing.
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo("mailer3@mail.example")).toHaveLength(3);
  });
});
