// A member's everyday use of Kindred across instances, in Chromium: pat, a
// member of instance B, finds a community hosted on instance A by its handle,
// reads its existing threads before joining (backfill), joins, replies in a
// thread from A, is told when a member of A answers, finds the thread again
// by a word of its body, and sees the community on the home page. At desktop
// width, then the read-only pages again at phone width, with no request from
// a page on B going anywhere but B.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join as joinCommunity } from "../../src/communities/membership.ts";
import { createReply, createThread } from "../../src/posts/service.ts";
import { CHROMIUM_PATH, launchChromium } from "../helpers/browser.ts";
import { eventually, Peer } from "../helpers/federation.ts";
import { ROOT } from "../helpers/processes.ts";
import { PASSWORD, seedCommunity, seedUser } from "../helpers/seed.ts";

const SCREENSHOTS = join(ROOT, "test-output", "screenshots");
/** Generous: two instances, their queues and Chromium share two noisy cores. */
const DEADLINE_MS = 45_000;
const THREAD_TITLE = "Waking at 4 am every night";
/** A word of the thread's body only (not of its title), for search. */
const BODY_WORD = "magnesium";
const PAT_REPLY = "Same here: a fixed wake-up time helped me more than anything.";
const ALICE_ANSWER = "Thank you pat, I will try a fixed wake-up time this week.";

describe.skipIf(!existsSync(CHROMIUM_PATH))("browser: a member's daily use across two Kindred instances", () => {
  let A: Peer;
  let B: Peer;
  let hostA: string;
  let alice: LocalUser;
  let pat: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let browser: Browser | undefined;
  /** Every request a page made, with the page that made it. */
  const requested: { page: string; url: string }[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const [a, b, launched] = await Promise.all([Peer.start(), Peer.start(), launchChromium()]);
    [A, B, browser] = [a, b, launched];
    hostA = new URL(A.url).host;
    const modA = await seedUser(A, "mod_a", { role: "admin" });
    alice = await seedUser(A, "alice");
    pat = await seedUser(B, "pat");
    community = await seedCommunity(A, modA, { slug: "sleep", name: "Sleep trouble" });
    expect(await joinCommunity(A.db, A.url, community, alice.actorId)).toBe("accepted");
    await createThread(A.db, A.url, community, alice.actorId, {
      title: THREAD_TITLE,
      body: `Does anyone else wake at 4 am? I tried ${BODY_WORD} before bed, with no luck so far.`,
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([A?.destroy(), B?.destroy()]);
  }, 60_000);

  async function logIn(width: number): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser!.newContext({ colorScheme: "light", viewport: { width, height: 900 } });
    context.setDefaultTimeout(20_000);
    context.on("request", (r) => requested.push({ page: r.frame().page().url(), url: r.url() }));
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`${page.url()}: page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
        problems.push(`${page.url()}: console error: ${m.text()}`);
    });
    page.on("response", (r) => {
      // Chromium asks for /favicon.ico on its own; a 404 there is fine.
      if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico")
        problems.push(`${page.url()}: HTTP ${r.status()} for ${r.url()}`);
    });
    page.on("requestfailed", (r) => {
      // Polling reloads the page, which aborts what the previous load still fetched (the icon).
      const error = r.failure()?.errorText ?? "";
      if (error !== "net::ERR_ABORTED") problems.push(`${page.url()}: request failed: ${r.url()} (${error})`);
    });
    await page.goto(`${B.url}/login`);
    await page.fill("#username", "pat");
    await page.fill("#password", PASSWORD);
    await page.locator("main form").getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${B.url}/`);
    expect(await page.locator("header.site").textContent()).toContain("@pat");
    return { context, page };
  }

  /** Reloads `page` until `check` holds: what B learns from A arrives asynchronously. */
  async function reloadUntil(page: Page, what: string, check: () => Promise<boolean>): Promise<void> {
    await eventually(
      what,
      async () => {
        await page.reload();
        return (await check()) ? true : null;
      },
      DEADLINE_MS,
    );
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });

  async function expectNoOverflow(page: Page) {
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(widths.scroll, `horizontal overflow on ${page.url()}`).toBeLessThanOrEqual(widths.client + 1);
  }

  // Filled by the desktop journey, read by the phone-width pass.
  let communityPath = "";
  let threadPath = "";
  const searchPath = `/search?q=${BODY_WORD}`;

  it("at 1280 px: finds A's community, reads its threads, joins, replies, is notified, searches, sees it at home", {
    timeout: 240_000,
  }, async () => {
    const { context, page } = await logIn(1280);

    // ---- the search box takes a link to the remote community to its page on B ----
    // A link, not `@sleep@host`: Fedify resolves handles by WebFinger over https only,
    // and the peers here speak http on loopback. Once B knows the community the
    // handle works too (the phone-width pass searches by handle).
    await page.fill("#site-search", community.iri);
    await page.press("#site-search", "Enter");
    communityPath = `/@sleep@${hostA}`;
    await page.waitForURL(`${B.url}${communityPath}`);
    expect(await page.locator("main h1").textContent()).toContain("Sleep trouble");

    // ---- before joining, A's existing thread is listed (backfilled) ----
    const threadLink = page.locator("article.thread-summary h3 a", { hasText: THREAD_TITLE });
    await reloadUntil(page, "A's thread listed on B before joining", async () => (await threadLink.count()) === 1);
    await shot(page, "daily-01-remote-community-before-joining.png");

    // ---- joins; A accepts asynchronously ----
    await page.getByRole("button", { name: "Join", exact: true }).click();
    const leave = page.getByRole("button", { name: "Leave" });
    await reloadUntil(page, "pat's membership accepted", async () => (await leave.count()) === 1);

    // ---- opens the thread from A and replies in the browser ----
    await threadLink.click();
    await page.waitForURL(/\/posts\/[0-9a-f-]{36}$/);
    threadPath = new URL(page.url()).pathname;
    expect(await page.locator("main h1").textContent()).toBe(THREAD_TITLE);
    const form = page.locator("section.discussion > form.reply-form");
    await form.getByLabel("Your reply").fill(PAT_REPLY);
    await form.getByRole("button", { name: "Reply" }).click();
    const replies = page.locator("section.discussion > ol.replies > li");
    await replies.first().waitFor();
    expect(await replies.first().locator("article.reply .content").textContent()).toContain(PAT_REPLY);

    // ---- a member of A answers pat's reply, on A ----
    const patReplyOnB = await eventually("pat's reply stored on B", () =>
      B.db
        .selectFrom("posts")
        .select("iri")
        .where("author_id", "=", pat.actorId)
        .where("parent_id", "is not", null)
        .executeTakeFirst(),
    );
    const patReplyOnA = await eventually(
      "pat's reply delivered to A",
      () => A.db.selectFrom("posts").select("id").where("iri", "=", patReplyOnB.iri).executeTakeFirst(),
      DEADLINE_MS,
    );
    await createReply(A.db, A.url, community, alice.actorId, patReplyOnA.id, { body: ALICE_ANSWER });

    // ---- pat's header on B counts it; the notifications page names it and links to it ----
    const header = page.locator("header.site");
    await reloadUntil(page, "Notifications (1) in pat's header on B", async () =>
      ((await header.textContent()) ?? "").includes("Notifications (1)"),
    );
    await header.getByRole("link", { name: "Notifications (1)" }).click();
    await page.waitForURL(`${B.url}/notifications`);
    const notification = page.locator("li.notification.unread");
    expect(await notification.count()).toBe(1);
    const headline = notification.locator("p a").first();
    expect(await headline.textContent()).toContain("replied to your reply");
    const href = await headline.getAttribute("href");
    expect(href, "the notification links to the reply on B").toMatch(/^\//);
    await shot(page, "daily-02-notifications.png");
    await headline.click();
    await page.waitForURL((url) => url.pathname !== "/notifications");
    expect(new URL(page.url()).origin).toBe(B.url);
    expect(await page.locator("main").textContent()).toContain(ALICE_ANSWER);
    await shot(page, "daily-03-thread-with-answer.png");

    // ---- searches B for a word of the thread's body and finds the thread, the word marked ----
    await page.fill("#site-search", BODY_WORD);
    await page.press("#site-search", "Enter");
    await page.waitForURL(`${B.url}${searchPath}`);
    const hit = page.locator("main li", { has: page.locator(`a[href="${threadPath}"]`) });
    expect(await hit.count(), "the thread is among the results").toBe(1);
    expect(await hit.locator("a").first().textContent()).toBe(THREAD_TITLE);
    expect((await hit.locator("p.snippet mark").allTextContents()).map((t) => t.toLowerCase())).toContain(BODY_WORD);
    await shot(page, "daily-04-search.png");

    // ---- the home page lists the remote community ----
    await page.goto(`${B.url}/`);
    const joined = page.locator("ul.joined");
    expect(await joined.locator(`a[href="${communityPath}"]`).textContent()).toBe("Sleep trouble");
    expect(await joined.textContent()).toContain(`on ${hostA}`);
    await shot(page, "daily-05-home.png");

    await context.close();
  });

  it("at 390 px: the community, thread, notifications and search pages fit the screen", {
    timeout: 120_000,
  }, async () => {
    expect(threadPath, "the desktop journey ran first").not.toBe("");
    const { context, page } = await logIn(390);
    // B now knows the community, so its handle in the search box leads to it.
    await page.fill("#site-search", `@sleep@${hostA}`);
    await page.press("#site-search", "Enter");
    await page.waitForURL(`${B.url}${communityPath}`);
    const pages: [string, string, string][] = [
      [communityPath, "daily-06-phone-community.png", "Sleep trouble"],
      [threadPath, "daily-07-phone-thread.png", ALICE_ANSWER],
      ["/notifications", "daily-08-phone-notifications.png", "replied to your reply"],
      [searchPath, "daily-09-phone-search.png", THREAD_TITLE],
    ];
    for (const [path, screenshot, expected] of pages) {
      const res = await page.goto(`${B.url}${path}`);
      expect(res?.status(), path).toBe(200);
      expect(await page.locator("main").textContent(), path).toContain(expected);
      await expectNoOverflow(page);
      await shot(page, screenshot);
    }
    expect(await page.locator("main p.snippet mark").count()).toBeGreaterThan(0);
    await context.close();
  });

  it("pages on B made no request anywhere but B, and had no errors", () => {
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((r) => !r.url.startsWith(`${B.url}/`))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
