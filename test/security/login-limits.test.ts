// Issue 10, part B, written as the attack: failed log-ins must slow guessing
// down without handing an attacker a way to lock the owner (or an admin) out.
// Real instance over real HTTP (TRUST_PROXY, so each client speaks from an
// address of its own). Nobody sleeps through a delay: the limits read
// `limitClock`, which these tests move forward instead.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { delayAfter, FREE_FAILURES, LOGIN_PER_IP, MAX_DELAY_MS } from "../../src/accounts/login-limits.ts";
import { limitClock } from "../../src/web/rate-limit.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { alertText, ClientAt, PASSWORD, seedUser } from "../helpers/seed.ts";

let offsetMs = 0;
/** Moves the limits' clock forward, as if `ms` had passed. */
const pass = (ms: number) => {
  offsetMs += ms;
};
const retryAfterMs = (res: Response) => Number(res.headers.get("retry-after")) * 1000;

describe.each(dialects)("log-in limits under attack (%s)", (dialect) => {
  let instance: TestInstance;

  beforeAll(async () => {
    instance = await startTestInstance({ dialect, env: { TRUST_PROXY: "true" } });
    limitClock.now = () => Date.now() + offsetMs;
  });
  afterEach(() => {
    // Every test starts in windows of its own.
    pass(60 * 60_000);
  });
  afterAll(async () => {
    limitClock.now = () => Date.now();
    await instance?.stop();
  });

  it("lets the owner in after a short wait while 50 failures come from 50 addresses and keep coming", async () => {
    await seedUser(instance, "owner", { role: "admin" });
    const attackers = Array.from({ length: 50 }, (_, i) => new ClientAt(instance.url, `203.0.113.${i + 1}`));
    const guess = (web: ClientAt, i: number) => web.logIn("owner", `guess ${i}`);
    // Five failures cost nothing; every other address then has to queue for a turn.
    const first = await Promise.all(attackers.map((web, i) => guess(web, i)));
    expect(first.filter((r) => r.status === 401).length).toBe(FREE_FAILURES);
    expect(first.filter((r) => r.status === 429).length).toBe(50 - FREE_FAILURES);
    pass(Math.max(...first.map(retryAfterMs)));
    // Their turns come: 45 more failures, 50 in all.
    const queued = attackers.filter((_, i) => first[i]?.status === 429);
    const second = await Promise.all(queued.map((web, i) => guess(web, 100 + i)));
    expect(second.map((r) => r.status)).toEqual(second.map(() => 401));

    // The owner, from home, is told to wait: a short, bounded delay, never a lock-out.
    const owner = new ClientAt(instance.url, "198.51.100.20");
    const told = await owner.logIn("owner", PASSWORD);
    expect(told.status).toBe(429);
    expect(retryAfterMs(told)).toBeLessThanOrEqual(MAX_DELAY_MS);
    expect(alertText(told.text)).toMatch(/^this account has had too many failed log-ins: wait \d+ seconds?/);
    pass(retryAfterMs(told));
    // The attack goes on, from every address, right as the owner comes back.
    const [, ...more] = await Promise.all([
      owner.logIn("owner", PASSWORD).then((res) => {
        expect(res.status, alertText(res.text)).toBe(303);
        return res;
      }),
      ...attackers.map((web, i) => guess(web, 200 + i)),
    ]);
    expect(more.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    expect((await owner.get("/settings")).status).toBe(200);
  });

  it("doubles the wait with every further failure, up to the cap", () => {
    expect([4, 5, 6, 7, 8].map(delayAfter)).toEqual([0, 1_000, 2_000, 4_000, 8_000]);
    expect(delayAfter(50)).toBe(MAX_DELAY_MS);
  });

  it("makes one client wait after its own failures, and lets it try again once the delay has passed", async () => {
    await seedUser(instance, "patient");
    const web = new ClientAt(instance.url, "198.51.100.30");
    for (let i = 0; i < FREE_FAILURES; i++) expect((await web.logIn("patient", `nope ${i}`)).status).toBe(401);
    const early = await web.logIn("patient", PASSWORD);
    expect(early.status).toBe(429);
    pass(retryAfterMs(early));
    expect((await web.logIn("patient", PASSWORD)).status).toBe(303);
  });

  it("never counts successes: 40 log-ins in a row from one address all get in", async () => {
    await seedUser(instance, "regular");
    const web = new ClientAt(instance.url, "198.51.100.40");
    for (let i = 1; i <= 40; i++) expect((await web.logIn("regular", PASSWORD)).status, `log-in ${i}`).toBe(303);
    // And the failures that follow are still the free ones.
    for (let i = 0; i < FREE_FAILURES; i++) expect((await web.logIn("regular", `typo ${i}`)).status).toBe(401);
  });

  it("still limits one address to 30 attempts in the window, whichever accounts it tries", async () => {
    await seedUser(instance, "victim");
    const web = new ClientAt(instance.url, "198.51.100.50");
    for (let i = 1; i <= LOGIN_PER_IP; i++) {
      expect((await web.logIn(`someone${i}`, "guess")).status, `attempt ${i}`).toBe(401);
    }
    const res = await web.logIn("victim", PASSWORD);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(alertText(res.text)).toMatch(/^too many attempts; try again in \d+ minute\(s\)$/);
    // The account itself is untouched: from elsewhere its owner gets straight in.
    expect((await new ClientAt(instance.url, "198.51.100.51").logIn("victim", PASSWORD)).status).toBe(303);
  });
});
