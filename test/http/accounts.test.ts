// Accounts through the real app over real HTTP: sign-up, sessions, log-in and
// its rate limit, profiles (Markdown bio, avatar upload) and password changes.
// Each dialect gets an instance of its own; rows are checked in its database.
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { alertText, ClientAt, countRows, loggedIn, PASSWORD, seedUser, tinyPng } from "../helpers/seed.ts";

const sessionCookieLine = (res: Response) =>
  res.headers.getSetCookie().find((line) => line.startsWith("kindred_session="));

describe.each(dialects)("accounts over HTTP (%s)", (dialect) => {
  let instance: TestInstance;

  // Sign-ups are limited to 10 per client address per hour and log-ins to 30
  // per address per 15 minutes (successful log-ins excepted): only the sign-up
  // tests sign up over the web, the others seed their users the way the CLI
  // does. TRUST_PROXY lets the rate-limit tests speak from addresses of their
  // own (X-Forwarded-For), so they do not use up the budget of 127.0.0.1.
  beforeAll(async () => {
    instance = await startTestInstance({ dialect, env: { TRUST_PROXY: "true" } });
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const userRow = (key: string) =>
    instance.runtime.db
      .selectFrom("users")
      .innerJoin("actors", "actors.id", "users.actor_id")
      .select(["actors.id", "actors.username", "users.password_hash", "users.role"])
      .where("actors.username_key", "=", key)
      .executeTakeFirst();

  describe("sign-up", () => {
    it("creates the user and a session whose cookie is HttpOnly and SameSite=Lax", async () => {
      const web = new WebClient(instance.url);
      const form = await web.get("/signup");
      expect(form.status).toBe(200);
      const res = await web.post("/signup", { username: "Newcomer_1", password: PASSWORD, email: "" });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/welcome");

      const line = sessionCookieLine(res);
      expect(line, "Set-Cookie for kindred_session").toBeDefined();
      const attributes = line!.split(";").map((a) => a.trim().toLowerCase());
      expect(attributes).toContain("httponly");
      expect(attributes).toContain("samesite=lax");
      expect(attributes).toContain("path=/");
      // Plain http origin: no Secure flag that the browser would refuse.
      expect(attributes).not.toContain("secure");

      const user = await userRow("newcomer_1");
      expect(user?.username).toBe("Newcomer_1");
      expect(user?.role).toBe("member");
      expect(await countRows(instance, "sessions", ["user_id", user!.id])).toBe(1);

      const settings = await web.get("/settings");
      expect(settings.status).toBe(200);
      expect(settings.text).toContain('<a href="/@Newcomer_1">@Newcomer_1</a>');
    });

    it("stores an Argon2id hash and never the password itself", async () => {
      const user = await userRow("newcomer_1");
      expect(user).toBeDefined();
      expect(user!.password_hash.startsWith("$argon2id$")).toBe(true);
      expect(user!.password_hash).not.toContain(PASSWORD);
      const everything = JSON.stringify(await instance.runtime.db.selectFrom("users").selectAll().execute());
      expect(everything).not.toContain(PASSWORD);
    });

    it("refuses a taken username, case-insensitively, with 409 and writes one user only", async () => {
      const first = new WebClient(instance.url);
      await first.signUp("Alice");
      const second = new WebClient(instance.url);
      await second.get("/signup");
      const res = await second.post("/signup", { username: "alice", password: PASSWORD, email: "" });
      expect(res.status).toBe(409);
      expect(alertText(res.text)).toBe('the name "alice" is already taken');
      expect(res.text).toContain('<p class="error" id="username-error" role="alert">is already taken</p>');
      expect(sessionCookieLine(res)).toBeUndefined();
      expect(await countRows(instance, "actors", ["username_key", "alice"])).toBe(1);
      expect(await countRows(instance, "users")).toBe(2);
    });

    it.each([
      ["a b", "may contain only letters, digits, '_' and '-' (not at the start or end)"],
      ["-x", "may contain only letters, digits, '_' and '-' (not at the start or end)"],
      ["u".repeat(31), "must be at most 30 characters"],
    ])("rejects the username %j with 422 naming the field, writing nothing", async (username, reason) => {
      const users = await countRows(instance, "users");
      const actors = await countRows(instance, "actors");
      const web = new WebClient(instance.url);
      await web.get("/signup");
      const res = await web.post("/signup", { username, password: PASSWORD, email: "" });
      expect(res.status).toBe(422);
      expect(alertText(res.text)).toBe(`username: ${reason}`);
      expect(res.text).toContain('id="username-error"');
      expect(sessionCookieLine(res)).toBeUndefined();
      expect(await countRows(instance, "users")).toBe(users);
      expect(await countRows(instance, "actors")).toBe(actors);
    });

    it("rejects a password shorter than 8 characters with 422", async () => {
      const users = await countRows(instance, "users");
      const web = new WebClient(instance.url);
      await web.get("/signup");
      const res = await web.post("/signup", { username: "shorty", password: "1234567", email: "" });
      expect(res.status).toBe(422);
      expect(alertText(res.text)).toBe("password: must be at least 8 characters");
      expect(res.text).toContain('id="password-error"');
      // The form comes back with the username, never the password.
      expect(res.text).toContain('value="shorty"');
      expect(res.text).not.toContain("1234567");
      expect(await countRows(instance, "users")).toBe(users);
    });

    it("refuses the reserved name admin with 409", async () => {
      const users = await countRows(instance, "users");
      const web = new WebClient(instance.url);
      await web.get("/signup");
      const res = await web.post("/signup", { username: "admin", password: PASSWORD, email: "" });
      expect(res.status).toBe(409);
      expect(alertText(res.text)).toBe('the name "admin" is reserved');
      expect(await countRows(instance, "users")).toBe(users);
      expect(await countRows(instance, "actors", ["username_key", "admin"])).toBe(0);
    });
  });

  describe("sessions and log-in", () => {
    beforeAll(async () => {
      await seedUser(instance, "bea");
      await seedUser(instance, "limited");
    });

    it("logs out: the old session cookie no longer opens /settings", async () => {
      const web = await loggedIn(instance, "bea");
      const token = web.cookie("kindred_session")!;
      expect((await web.get("/settings")).status).toBe(200);

      const out = await web.post("/logout", {});
      expect(out.status).toBe(303);
      expect(sessionCookieLine(out)).toMatch(/max-age=0/i);
      expect(web.cookie("kindred_session")).toBeUndefined();

      // Replay the old cookie by hand, as a thief who copied it would.
      const replay = await fetch(new URL("/settings", instance.url), {
        redirect: "manual",
        headers: { cookie: `kindred_session=${token}` },
      });
      expect(replay.status).toBe(302);
      expect(replay.headers.get("location")).toBe("/login?next=%2Fsettings");
      const bea = await userRow("bea");
      expect(await countRows(instance, "sessions", ["user_id", bea!.id])).toBe(0);
    });

    it("answers a wrong password with 401 and no session", async () => {
      const bea = await userRow("bea");
      const before = await countRows(instance, "sessions", ["user_id", bea!.id]);
      const web = new WebClient(instance.url);
      const res = await web.logIn("bea", "not the password");
      expect(res.status).toBe(401);
      expect(alertText(res.text)).toBe("wrong username or password");
      expect(sessionCookieLine(res)).toBeUndefined();
      expect(await countRows(instance, "sessions", ["user_id", bea!.id])).toBe(before);
      expect((await web.get("/settings")).status).toBe(302);
    });

    it("answers an unknown user with the very same message", async () => {
      const sessions = await countRows(instance, "sessions");
      const web = new WebClient(instance.url);
      const res = await web.logIn("nobody_here", PASSWORD);
      expect(res.status).toBe(401);
      expect(alertText(res.text)).toBe("wrong username or password");
      expect(sessionCookieLine(res)).toBeUndefined();
      expect(await countRows(instance, "sessions")).toBe(sessions);
    });

    it("logs in case-insensitively with the right password", async () => {
      const web = new WebClient(instance.url);
      const res = await web.logIn("BEA", PASSWORD);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/");
      expect((await web.get("/settings")).status).toBe(200);
    });

    it("goes back to a same-site `next` after log-in, never to another site", async () => {
      for (const [next, location] of [
        ["/settings", "/settings"],
        ["//evil.example/phish", "/"],
        ["https://evil.example/phish", "/"],
        ["/\\evil.example", "/"],
      ] as const) {
        const web = new WebClient(instance.url);
        await web.get(`/login?next=${encodeURIComponent(next)}`);
        const res = await web.post("/login", { username: "bea", password: PASSWORD, next });
        expect(res.status, next).toBe(303);
        expect(res.headers.get("location"), next).toBe(location);
      }
    });

    it("makes the 6th attempt for one username within the window wait (429, Retry-After), even with the right password", async () => {
      // From an address of its own, so the per-address limit (30) is not what stops it.
      // Five failures cost nothing; then each attempt waits (test/security/login-limits.test.ts).
      const web = new ClientAt(instance.url, "198.51.100.7");
      for (let i = 1; i <= 5; i++) {
        const res = await web.logIn("limited", `wrong password ${i}`);
        expect(res.status, `attempt ${i}`).toBe(401);
      }
      const res = await web.logIn("Limited", PASSWORD);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(alertText(res.text)).toMatch(
        /^this account has had too many failed log-ins: wait \d+ seconds?, then try again$/,
      );
      expect(sessionCookieLine(res)).toBeUndefined();
      const limited = await userRow("limited");
      expect(await countRows(instance, "sessions", ["user_id", limited!.id])).toBe(0);
    });

    it("keeps the per-account limit under concurrent attempts", async () => {
      // An attacker does not wait for one answer before sending the next
      // guess. Each attempt comes from its own address, so only the
      // per-account rule (5 failures, then a wait) stands in the way.
      await seedUser(instance, "hammered");
      const web = new WebClient(instance.url);
      await web.get("/login");
      const cookie = `kindred_csrf=${web.cookie("kindred_csrf")}`;
      const attempt = (i: number) =>
        fetch(new URL("/login", instance.url), {
          method: "POST",
          redirect: "manual",
          headers: {
            cookie,
            "content-type": "application/x-www-form-urlencoded",
            "x-forwarded-for": `203.0.113.${i + 1}`,
          },
          body: new URLSearchParams({ _csrf: web.csrf, username: "hammered", password: `guess ${i}` }),
        }).then(async (r) => {
          await r.text();
          return r.status;
        });
      const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(i)));
      expect(statuses.filter((s) => s === 401).length, `statuses: ${statuses.join(",")}`).toBe(5);
      expect(statuses.filter((s) => s === 429).length).toBe(15);
    });
  });

  describe("profile", () => {
    let painter: WebClient;
    beforeAll(async () => {
      await seedUser(instance, "bio_writer");
      await seedUser(instance, "painter");
      painter = await loggedIn(instance, "painter");
    });
    const painterRow = () =>
      instance.runtime.db
        .selectFrom("actors")
        .select(["avatar_url", "name"])
        .where("username_key", "=", "painter")
        .executeTakeFirstOrThrow();

    it("renders the Markdown bio sanitized on the profile: **bold** becomes <strong>, <script> never appears", async () => {
      const web = await loggedIn(instance, "bio_writer");
      await web.get("/settings");
      const form = new FormData();
      form.set("displayName", "Bio <Writer>");
      form.set("bio", "I like **bold** claims.\n\n<script>alert('owned')</script>\n\n<img src=x onerror=alert(1)>");
      form.set("email", "");
      const res = await web.postMultipart("/settings/profile", form);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/settings?saved=1");

      const profile = await new WebClient(instance.url).get("/@bio_writer", { accept: "text/html" });
      expect(profile.status).toBe(200);
      expect(profile.text).toContain("<strong>bold</strong>");
      expect(profile.text).not.toMatch(/<script/i);
      expect(profile.text).not.toMatch(/<img src="?x/i);
      expect(profile.text).toContain("&lt;script&gt;");
      expect(profile.text).toContain("<h1>Bio &lt;Writer&gt;</h1>");

      // The settings form shows the source back, escaped inside the textarea.
      const settings = await web.get("/settings?saved=1");
      expect(settings.text).toContain('<div class="notice" role="status">Saved.</div>');
      expect(settings.text).toContain("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;");
      expect(settings.text).not.toMatch(/<script/i);
    });

    it("serves an uploaded PNG avatar back as image/png, re-encoded (no metadata kept)", async () => {
      const web = painter;
      await web.get("/settings");
      const png = tinyPng();
      const form = new FormData();
      form.set("displayName", "Painter");
      form.set("bio", "");
      form.set("email", "");
      form.set("avatar", new File([png], "me.png", { type: "image/png" }));
      const res = await web.postMultipart("/settings/profile", form);
      expect(res.status).toBe(303);

      const stored = await painterRow();
      expect(stored.avatar_url).toMatch(new RegExp(`^${instance.url}/media/avatars/[0-9a-f-]{36}\\.png$`));
      const image = await fetch(stored.avatar_url!);
      expect(image.status).toBe(200);
      expect(image.headers.get("content-type")).toBe("image/png");
      expect(image.headers.get("x-content-type-options")).toBe("nosniff");
      const served = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
      expect([served.format, served.width, served.height]).toEqual(["png", 1, 1]);

      const profile = await new WebClient(instance.url).get("/@painter", { accept: "text/html" });
      expect(profile.text).toContain(`<img class="avatar large" src="${stored.avatar_url}"`);
    });

    it.each([
      ["a text file", new File(["just some notes\n"], "notes.txt", { type: "text/plain" })],
      ["text posing as a PNG", new File(["definitely not a png"], "fake.png", { type: "image/png" })],
    ])("refuses %s as avatar with 422 naming the avatar field", async (_label, file) => {
      const web = painter;
      await web.get("/settings");
      const before = await painterRow();
      const form = new FormData();
      form.set("displayName", "Painter");
      form.set("bio", "");
      form.set("email", "");
      form.set("avatar", file);
      const res = await web.postMultipart("/settings/profile", form);
      expect(res.status).toBe(422);
      expect(alertText(res.text)).toBe("avatar: must be a PNG, JPEG, GIF or WebP image");
      expect(res.text).toContain(
        '<p class="error" id="avatar-error" role="alert">must be a PNG, JPEG, GIF or WebP image</p>',
      );
      const after = await painterRow();
      expect(after.avatar_url).toBe(before.avatar_url);
    });

    it("a refused avatar leaves the rest of the profile unchanged too (the 422 form means nothing was saved)", async () => {
      await painter.get("/settings");
      const before = await painterRow();
      expect(before.name).toBe("Painter");
      const form = new FormData();
      form.set("displayName", "Renamed by a failed save");
      form.set("bio", "New bio from a failed save");
      form.set("email", "");
      form.set("avatar", new File(["not an image"], "notes.txt", { type: "text/plain" }));
      const res = await painter.postMultipart("/settings/profile", form);
      expect(res.status).toBe(422);
      const after = await painterRow();
      expect(after.name).toBe("Painter");
      const profile = await new WebClient(instance.url).get("/@painter", { accept: "text/html" });
      expect(profile.text).not.toContain("New bio from a failed save");
    });
  });

  describe("password change", () => {
    beforeAll(async () => {
      await seedUser(instance, "changer");
    });

    it("requires the right current password, then signs every other session out", async () => {
      const laptop = await loggedIn(instance, "changer");
      const phone = await loggedIn(instance, "changer");
      const changer = await userRow("changer");
      expect(await countRows(instance, "sessions", ["user_id", changer!.id])).toBe(2);

      await laptop.get("/settings");
      const wrong = await laptop.post("/settings/password", {
        current: "not my password",
        password: "a brand new secret",
      });
      expect(wrong.status).toBe(422);
      expect(wrong.text).toContain("the current password is wrong");
      expect((await userRow("changer"))!.password_hash).toBe(changer!.password_hash);
      expect((await phone.get("/settings")).status).toBe(200);

      const tooShort = await laptop.post("/settings/password", { current: PASSWORD, password: "short" });
      expect(tooShort.status).toBe(422);
      expect((await userRow("changer"))!.password_hash).toBe(changer!.password_hash);

      const ok = await laptop.post("/settings/password", { current: PASSWORD, password: "a brand new secret" });
      expect(ok.status).toBe(303);
      expect(ok.headers.get("location")).toBe("/settings?saved=1");

      // The device that changed it stays in; the other one is out.
      expect((await laptop.get("/settings")).status).toBe(200);
      const phoneAfter = await phone.get("/settings");
      expect(phoneAfter.status).toBe(302);
      expect(phoneAfter.headers.get("location")).toBe("/login?next=%2Fsettings");
      expect(await countRows(instance, "sessions", ["user_id", changer!.id])).toBe(1);

      expect((await new WebClient(instance.url).logIn("changer", PASSWORD)).status).toBe(401);
      expect((await new WebClient(instance.url).logIn("changer", "a brand new secret")).status).toBe(303);
    });
  });
});
