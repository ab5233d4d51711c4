// Account recovery without email (issue 13): ten one-time codes shown once
// after sign-up, a new password set with one of them (every session ends),
// codes made anew in the settings behind the password, and guessing bounded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queuedDeliveriesOf } from "../../src/context.ts";
import { eraseAccount } from "../../src/erasure/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { ClientAt, countRows, PASSWORD, unescapeHtml } from "../helpers/seed.ts";

const codesOf = (html: string) =>
  [...html.matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map((m) => m[1] as string);

describe.each(dialects)("recovery codes (%s)", (dialect) => {
  let instance: TestInstance;
  let address = 0;
  const visitor = () => new ClientAt(instance.url, `203.0.113.${++address}`);

  beforeAll(async () => {
    instance = await startTestInstance({ dialect, env: { TRUST_PROXY: "true" } });
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("sign-up shows ten codes once; one resets the password once, ending every session", async () => {
    const web = visitor();
    await web.signUp("forgetful", PASSWORD);
    const welcome = await web.get("/welcome");
    expect(welcome.status).toBe(200);
    expect(welcome.headers.get("cache-control")).toContain("no-store");
    const codes = codesOf(welcome.text);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    // Only hashes are kept: no code appears in the database.
    const stored = await instance.runtime.db.selectFrom("recovery_codes").select("code_hash").execute();
    expect(stored).toHaveLength(10);
    for (const row of stored) expect(codes.map((c) => c.replaceAll("-", ""))).not.toContain(row.code_hash);
    // A reload doesn't show them again.
    expect((await web.get("/welcome")).status).toBe(303);

    const helper = visitor();
    await helper.get("/recover");
    const wrong = await helper.post("/recover", {
      username: "forgetful",
      code: "AAAA-BBBB-CCCC-DDDD",
      password: "new pass 1",
    });
    expect(wrong.status).toBe(422);
    expect(unescapeHtml(wrong.text)).toContain("don't match");
    const unknown = await helper.post("/recover", { username: "nobody", code: codes[0]!, password: "new pass 1" });
    expect(unknown.status).toBe(422);
    expect(unescapeHtml(unknown.text)).toContain("don't match");
    // Typed in lower case, without dashes: still the code.
    const typed = (codes[0] as string).toLowerCase().replaceAll("-", " ");
    const ok = await helper.post("/recover", { username: "Forgetful", code: typed, password: "a brand new password" });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/settings?recovered=9");
    // The old session is gone; the new password works; the spent code doesn't.
    expect((await web.get("/settings")).status).toBe(302);
    expect((await visitor().logIn("forgetful", "a brand new password")).status).toBe(303);
    const again = visitor();
    await again.get("/recover");
    expect(
      (await again.post("/recover", { username: "forgetful", code: codes[0]!, password: "yet another one" })).status,
    ).toBe(422);
    const settings = await helper.get("/settings");
    expect(settings.text).toContain("You have 9 unused recovery codes");
  });

  it("new codes need the password and replace the old ones", async () => {
    const web = visitor();
    await web.signUp("careful2", PASSWORD);
    const old = codesOf((await web.get("/welcome")).text);
    await web.get("/settings");
    const refused = await web.post("/settings/recovery-codes", { current: "not my password" });
    expect(refused.status).toBe(422);
    const made = await web.post("/settings/recovery-codes", { current: PASSWORD });
    expect(made.status).toBe(200);
    const fresh = codesOf(made.text);
    expect(fresh).toHaveLength(10);
    const helper = visitor();
    await helper.get("/recover");
    expect(
      (await helper.post("/recover", { username: "careful2", code: old[1]!, password: "a new long password" })).status,
    ).toBe(422);
    expect(
      (await helper.post("/recover", { username: "careful2", code: fresh[1]!, password: "a new long password" }))
        .status,
    ).toBe(303);
  });

  it("guessing is bounded: the 11th try in an hour from one address is refused with 429", async () => {
    const web = visitor();
    await web.signUp("target", PASSWORD);
    const guesser = visitor();
    await guesser.get("/recover");
    for (let i = 0; i < 10; i++) {
      const res = await guesser.post("/recover", { username: "target", code: `GUESS-${i}`, password: "whatever123" });
      expect(res.status).toBe(422);
    }
    const blocked = await guesser.post("/recover", { username: "target", code: "GUESS-X", password: "whatever123" });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBeTruthy();
    // Another address is still bounded per account.
    const other = visitor();
    await other.get("/recover");
    expect(
      (await other.post("/recover", { username: "target", code: "GUESS-Y", password: "whatever123" })).status,
    ).toBe(429);
  });

  it("an erased member's codes go with the account", async () => {
    const web = visitor();
    await web.signUp("leaving", PASSWORD);
    await web.get("/welcome");
    const user = await instance.runtime.db
      .selectFrom("actors")
      .select("id")
      .where("username_key", "=", "leaving")
      .executeTakeFirstOrThrow();
    expect(await countRows(instance, "recovery_codes", ["user_id", user.id])).toBe(10);
    await eraseAccount(instance.runtime.db, instance.url, user.id, { queued: queuedDeliveriesOf(instance.runtime) });
    expect(await countRows(instance, "recovery_codes", ["user_id", user.id])).toBe(0);
  });
});
