// Email digests of unread notifications (issue 12) against a real SMTP server
// on loopback and a real instance on each database: one digest with counts
// and nothing anyone wrote, nothing twice, nothing for Off, no address or no
// SMTP_URL, an unsubscribe link that works without login (RFC 8058), a
// refusing or stopped server that leaves the digest due, and two workers
// racing on one database that send it once. The job runs at chosen times.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/connect.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { queuedDeliveriesOf } from "../../src/context.ts";
import { eraseAccount } from "../../src/erasure/service.ts";
import { createMailer, serverFailure } from "../../src/mail/mailer.ts";
import { sendDueDigests } from "../../src/notifications/digest-job.ts";
import { createReply, like } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from "../helpers/smtp.ts";

const HOUR = 3_600_000;
/** A time `hours` from now: digests fall due by the clock the job is given, not by waiting. */
const later = (hours: number) => new Date(Date.now() + hours * HOUR);

describe.each(dialects)("email digests (%s)", (dialect) => {
  let smtp: TestSmtpServer;
  let instance: TestInstance;
  let admin: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let ben: LocalUser;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    instance = await startTestInstance({ dialect, env: { SMTP_URL: smtp.url, INSTANCE_NAME: "Kindred test" } });
    admin = await seedUser(instance, "root", { role: "admin" });
    ben = await seedUser(instance, "ben");
    community = await seedCommunity(instance, admin, { slug: "potsclub", name: "Dysautonomia circle" });
  });
  afterAll(async () => {
    await instance?.stop();
    await smtp?.stop();
  });

  const db = () => instance.runtime.db;
  const round = (hours: number) => sendDueDigests(instance.runtime, { at: later(hours) });
  const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));
  const setEmail = (user: LocalUser, email: string | null) =>
    db().updateTable("users").set({ email }).where("actor_id", "=", user.actorId).execute();
  const digestRow = (user: LocalUser) =>
    db().selectFrom("email_digests").selectAll().where("user_id", "=", user.actorId).executeTakeFirst();

  /** A member with an address, logged in, who chose `frequency` on the settings page. */
  async function member(name: string, frequency: "off" | "daily" | "weekly" = "daily") {
    const user = await seedUser(instance, name);
    const web = await loggedIn(instance, name);
    await web.get("/settings");
    const saved = await web.post("/settings/profile", { displayName: "", bio: "", email: `${name}@mail.example` });
    expect(saved.status, saved.text.slice(0, 300)).toBe(303);
    await web.get("/settings/notifications");
    const chose = await web.post("/settings/notifications/digest", { digest: frequency });
    expect(chose.status, chose.text.slice(0, 300)).toBe(303);
    return { user, web, email: `${name}@mail.example` };
  }

  /** Dates the member's notifications written since `since` `hours` from now, as if written then. */
  const writtenAt = (user: LocalUser, since: string, hours: number) =>
    db()
      .updateTable("notifications")
      .set({ created_at: later(hours).toISOString() })
      .where("user_id", "=", user.actorId)
      .where("created_at", ">=", since)
      .where("created_at", "<=", new Date().toISOString())
      .execute();

  /** Replies by ben to a thread of `user`'s, each reply's text given. */
  async function repliesTo(user: LocalUser, title: string, texts: string[]) {
    const thread = await seedThread(instance, community, user, title, "The opening post's own words.");
    for (const body of texts) await createReply(db(), instance.url, community, ben.actorId, thread.id, { body });
    return thread;
  }

  it("offers the digest on the settings page only with an address, and refuses it without one", async () => {
    await seedUser(instance, "nomail");
    const web = await loggedIn(instance, "nomail");
    const page = await web.get("/settings/notifications");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Email digest");
    expect(page.text).toContain("your account has no email address");
    expect(page.text).not.toContain('name="digest"');
    const refused = await web.post("/settings/notifications/digest", { digest: "daily" });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain("add an email address");

    const { web: withMail } = await member("withmail", "off");
    const offered = await withMail.get("/settings/notifications");
    expect(offered.text).toMatch(/<input type="radio" name="digest" value="off" checked>/);
    expect(offered.text).toContain('value="daily"');
    expect(offered.text).toContain('value="weekly"');
    expect((await withMail.post("/settings/notifications/digest", { digest: "hourly" })).status).toBe(422);
    expect((await withMail.post("/settings/notifications/digest", { digest: "weekly" })).status).toBe(303);
    expect((await withMail.get("/settings/notifications")).text).toMatch(/value="weekly" checked>/);
    expect(await db().selectFrom("email_digests").select("frequency").execute()).toEqual([{ frequency: "weekly" }]);
    // Off leaves no digest behind.
    expect((await withMail.post("/settings/notifications/digest", { digest: "off" })).status).toBe(303);
    expect(await db().selectFrom("email_digests").selectAll().execute()).toEqual([]);
  });

  it("sends a daily member one digest with counts per kind and nothing anyone wrote, then nothing more", async () => {
    const { user: ana, web, email } = await member("ana");
    const cara = await member("cara", "off");
    const dan = await member("dan");
    await setEmail(dan.user, null);
    const thread = await repliesTo(ana, "Salt loading and beta blockers", [
      "PRIVATE-REPLY-ONE about my tachycardia",
      "PRIVATE-REPLY-TWO",
      "PRIVATE-REPLY-THREE",
    ]);
    await repliesTo(cara.user, "Cara's thread", ["PRIVATE-REPLY-TO-CARA"]);
    await repliesTo(dan.user, "Dan's thread", ["PRIVATE-REPLY-TO-DAN"]);
    const dm = new WebClient(instance.url);
    await dm.logIn("ben", "correct horse battery");
    await dm.get("/messages/ana");
    expect((await dm.post("/messages/ana", { body: "PRIVATE-MESSAGE my new diagnosis" })).status).toBe(303);
    await like(db(), instance.url, thread.id, ben.actorId);
    await like(db(), instance.url, thread.id, admin.actorId);
    // Read notifications are not in a digest: only what still waits.
    expect((await web.get("/notifications")).status).toBe(200);

    const before = smtp.received.length;
    // Not yet a day on: nothing is due.
    expect(await round(12)).toEqual({ sent: 0, failed: 0 });
    expect(await round(25)).toEqual({ sent: 1, failed: 0 });
    expect(smtp.received.length).toBe(before + 1);
    const [mail] = mailsTo(email) as [ReceivedMail];
    expect(mail.to).toEqual([email]);
    expect(mail.from).toBe("noreply@127.0.0.1");
    expect(mail.headers.get("subject")).toBe("6 unread notifications on Kindred test");
    expect(mail.text).toContain("3 replies, 1 direct message and 2 likes");
    expect(mail.html).toContain("<li>3 replies</li>");
    expect(mail.text).toContain(`${instance.url}/notifications`);
    for (const secret of ["PRIVATE", "Salt loading", "Dysautonomia", "potsclub", "diagnosis", "tachycardia"]) {
      expect(mail.raw, secret).not.toContain(secret);
    }
    // Nor who did it, or whom it is for (beyond the envelope): names checked as words, the link's random key aside.
    const words = `${mail.headers.get("subject")} ${mail.text} ${mail.html}`.replace(/token=[\w-]+/g, "");
    for (const name of ["ben", "root", "ana"]) expect(words, name).not.toMatch(new RegExp(`\\b${name}\\b`));
    expect(mail.headers.get("list-unsubscribe")).toMatch(
      new RegExp(`^<${instance.url}/email/unsubscribe\\?token=[\\w-]{43}>$`),
    );
    expect(mail.headers.get("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
    expect((await digestRow(ana))?.last_sent_at).not.toBeNull();

    // Off, and no address: nothing (and the digest of the member who removed their address is gone).
    expect(mailsTo(cara.email)).toEqual([]);
    expect(mailsTo(dan.email)).toEqual([]);
    expect(await digestRow(dan.user)).toBeUndefined();
    // A second round, then the next day with nothing new unread: nothing.
    expect(await round(25)).toEqual({ sent: 0, failed: 0 });
    expect(await round(50)).toEqual({ sent: 0, failed: 0 });
    expect(mailsTo(email)).toHaveLength(1);
    // Something new (written, on the job's clock, after the last digest) and unread: counted alone.
    let since = new Date().toISOString();
    await repliesTo(ana, "Another thread", ["PRIVATE-NEW-REPLY"]);
    await writtenAt(ana, since, 60);
    expect(await round(75)).toEqual({ sent: 1, failed: 0 });
    expect(mailsTo(email).at(-1)?.text).toContain("You have 1 unread notification on Kindred test: 1 reply.");
    // Something new but read before the digest: nothing.
    expect((await web.post("/notifications/read", {})).status).toBe(303);
    since = new Date().toISOString();
    await repliesTo(ana, "A third thread", ["PRIVATE-READ-REPLY"]);
    await writtenAt(ana, since, 90);
    expect((await web.post("/notifications/read", {})).status).toBe(303);
    expect(await round(100)).toEqual({ sent: 0, failed: 0 });
    expect(mailsTo(email)).toHaveLength(2);
  });

  it("unsubscribes from the link without login: GET asks, POST (one-click) turns the digest off", async () => {
    const { user, email } = await member("eve", "weekly");
    await repliesTo(user, "Eve's thread", ["PRIVATE-EVE"]);
    expect(await round(24 * 7 + 1)).toEqual({ sent: 1, failed: 0 });
    const link = /^<([^>]+)>$/.exec(mailsTo(email)[0]?.headers.get("list-unsubscribe") ?? "")?.[1] ?? "";
    expect(link).toContain("/email/unsubscribe?token=");
    expect(mailsTo(email)[0]?.text).toContain(link);

    const stranger = new WebClient(instance.url);
    const confirm = await stranger.get(link);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain("Stop email digests?");
    expect(confirm.text).toContain("weekly");
    expect(await digestRow(user)).toBeDefined();
    // The mail provider's one-click POST: no cookie, no CSRF token.
    const oneClick = await fetch(link, {
      method: "POST",
      body: "List-Unsubscribe=One-Click",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      redirect: "manual",
    });
    expect(oneClick.status).toBe(200);
    expect(await digestRow(user)).toBeUndefined();
    // Repeating it is harmless; the link then says it turns nothing off; a wrong key is a 400.
    expect((await fetch(link, { method: "POST" })).status).toBe(200);
    expect((await stranger.get(link)).status).toBe(404);
    expect((await stranger.get("/email/unsubscribe?token=short")).status).toBe(400);
    await repliesTo(user, "Eve's second thread", ["PRIVATE-EVE-2"]);
    expect(await round(24 * 30)).toEqual({ sent: 0, failed: 0 });
    expect(mailsTo(email)).toHaveLength(1);
  });

  it("leaves the digest due when the server refuses the recipient or is down, and sends it later", async () => {
    const { user, email } = await member("fay");
    await repliesTo(user, "Fay's thread", ["PRIVATE-FAY", "PRIVATE-FAY-2"]);
    smtp.refused.add(email);
    expect(await round(25)).toEqual({ sent: 0, failed: 1 });
    const after = await digestRow(user);
    expect(after?.failures).toBe(1);
    expect(after?.last_sent_at).toBeNull();
    // Backing off: not again in the same minute.
    expect(await round(25)).toEqual({ sent: 0, failed: 0 });
    smtp.refused.delete(email);

    await smtp.stop();
    try {
      expect(await round(26)).toEqual({ sent: 0, failed: 1 });
    } finally {
      await smtp.start();
    }
    expect((await digestRow(user))?.failures).toBe(2);
    expect(mailsTo(email)).toEqual([]);
    expect(await round(28)).toEqual({ sent: 1, failed: 0 });
    expect(mailsTo(email)).toHaveLength(1);
    expect(mailsTo(email)[0]?.text).toContain("2 replies");
    expect((await digestRow(user))?.failures).toBe(0);
  });

  it("sends nothing without SMTP_URL, and an erasure removes the digest", async () => {
    const { user, email } = await member("gus");
    await repliesTo(user, "Gus's thread", ["PRIVATE-GUS"]);
    const noMail = { ...instance.runtime, config: { ...instance.config, smtpUrl: null } };
    expect(await sendDueDigests(noMail, { at: later(25) })).toEqual({ sent: 0, failed: 0 });
    expect(mailsTo(email)).toEqual([]);

    await eraseAccount(db(), instance.url, user.actorId, { queued: queuedDeliveriesOf(instance.runtime) });
    expect(await digestRow(user)).toBeUndefined();
    expect(await round(25)).toEqual({ sent: 0, failed: 0 });
    expect(mailsTo(email)).toEqual([]);
  });

  it("sends each digest once when two workers on the same database run at the same moment", async () => {
    const members = [];
    for (const name of ["hal", "ida", "jon", "kim", "lou"]) {
      const m = await member(name);
      await repliesTo(m.user, `${name}'s thread`, ["PRIVATE-RACE"]);
      members.push(m);
    }
    const second = await openDatabase(instance.database.url);
    try {
      const at = later(25);
      const rounds = await Promise.all([
        sendDueDigests(instance.runtime, { at }),
        sendDueDigests({ db: second.db, config: instance.config }, { at }),
        sendDueDigests({ db: second.db, config: instance.config }, { at }),
      ]);
      expect(rounds.reduce((n, r) => n + r.sent, 0)).toBe(members.length);
      for (const m of members) expect(mailsTo(m.email), m.email).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

describe("email digests without SMTP_URL", () => {
  let instance: TestInstance;
  beforeAll(async () => {
    instance = await startTestInstance();
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("says on the settings page that this server sends no email, and refuses a digest", async () => {
    const user = await seedUser(instance, "ana");
    await instance.runtime.db
      .updateTable("users")
      .set({ email: "ana@mail.example" })
      .where("actor_id", "=", user.actorId)
      .execute();
    const web = await loggedIn(instance, "ana");
    const page = await web.get("/settings/notifications");
    expect(page.text).toContain("this server does not send email");
    expect(page.text).not.toContain('name="digest"');
    const refused = await web.post("/settings/notifications/digest", { digest: "daily" });
    expect(refused.status).toBe(422);
    expect(await instance.runtime.db.selectFrom("email_digests").selectAll().execute()).toEqual([]);
  });
});

describe("the mailer", () => {
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await smtp?.stop();
  });
  const config = { origin: "https://kindred.example", smtpFrom: null, smtpUrl: null };

  it("is absent without SMTP_URL, and sends from SMTP_FROM with the caller's headers", async () => {
    expect(createMailer(config)).toBeNull();
    const mailer = createMailer({ ...config, smtpUrl: smtp.url, smtpFrom: "care@kindred.example" });
    expect(mailer?.from).toBe("care@kindred.example");
    expect(createMailer({ ...config, smtpUrl: smtp.url })?.from).toBe("noreply@kindred.example");
    await mailer?.send({ to: "zoe@mail.example", subject: "Hello", text: "Plain words.", headers: { "X-Test": "1" } });
    const mail = smtp.received.at(-1);
    expect(mail?.from).toBe("care@kindred.example");
    expect(mail?.to).toEqual(["zoe@mail.example"]);
    expect(mail?.headers.get("x-test")).toBe("1");
    expect(mail?.text.trim()).toBe("Plain words.");
  });

  it("speaks TLS from the first byte for smtps://, so a plain server is a server failure, not a sent mail", async () => {
    const before = smtp.received.length;
    const mailer = createMailer({ ...config, smtpUrl: `smtps://127.0.0.1:${smtp.port}` });
    const failure = await mailer?.send({ to: "zoe@mail.example", subject: "Hi", text: "x" }).catch((e: unknown) => e);
    expect(serverFailure(failure), String(failure)).toBe(true);
    expect(smtp.received.length).toBe(before);
  });
});
