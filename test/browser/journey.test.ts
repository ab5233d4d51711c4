// One end-to-end journey through a real browser, a real server process and the
// real CLI, the way a self-hoster and their first members would meet Kindred:
// start `node src/main.ts`, create the admin with `kindred user create`, then
// in Chromium the admin creates a community and a newcomer signs up, joins,
// posts a thread behind a content warning and holds a nested conversation.
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH, launchChromium } from "../helpers/browser.ts";
import { exited, freePort, ROOT, runCli, spawnServer, stopProcess, waitUntilServing } from "../helpers/processes.ts";

const SCREENSHOTS = join(ROOT, "test-output", "screenshots");

const ADMIN_PASSWORD = "correct horse battery staple";
const PATIENT_PASSWORD = "patient-one-secret";

// The browser is a system package, not a dependency: playwright-core never
// downloads one, and these machines are offline. Where Debian's chromium is not
// installed the journey is skipped (loudly) rather than failing.
const chromiumAvailable = existsSync(CHROMIUM_PATH);
if (!chromiumAvailable) {
  console.warn(`browser test skipped: ${CHROMIUM_PATH} not found (install Debian's chromium package)`);
}

describe.skipIf(!existsSync(CHROMIUM_PATH))("browser journey: self-hoster, admin and a patient", () => {
  let dir: string;
  let origin: string;
  let env: NodeJS.ProcessEnv;
  let server: ChildProcess | undefined;
  let serverOutput: { text(): string } = { text: () => "" };
  let browser: Browser | undefined;
  /** Every URL any page asked for, in any context. */
  const requested: string[] = [];
  /** Console errors and uncaught page errors (CSP violations land here). */
  const pageProblems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kindred-browser-"));
    mkdirSync(SCREENSHOTS, { recursive: true });
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      PORT: String(port),
      ORIGIN: origin,
      DATABASE_URL: `sqlite:${join(dir, "kindred.sqlite")}`,
      DATA_DIR: dir,
      LOG_LEVEL: "warning",
    };
    const spawned = spawnServer(env);
    server = spawned.child;
    serverOutput = { text: spawned.output };
    const [, launched] = await Promise.all([
      waitUntilServing(origin, server, spawned.output, 30_000),
      launchChromium(),
    ]);
    browser = launched;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stopProcess(server);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  async function newContext(): Promise<BrowserContext> {
    const context = await browser!.newContext({ colorScheme: "light", viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    context.on("request", (r) => requested.push(r.url()));
    context.on("page", (p) => watch(p));
    return context;
  }

  function watch(page: Page) {
    page.on("console", (m) => {
      // Failed loads are reported below with their URL instead.
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
        pageProblems.push(`${page.url()}: console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => pageProblems.push(`${page.url()}: page error: ${e.message}`));
    page.on("response", (r) => {
      // Chromium asks every site for /favicon.ico on its own; Kindred has none (a 404 is fine).
      if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico")
        pageProblems.push(`${page.url()}: HTTP ${r.status()} for ${r.url()}`);
    });
    page.on("requestfailed", (r) =>
      pageProblems.push(`${page.url()}: request failed: ${r.url()} (${r.failure()?.errorText})`),
    );
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });

  it("an admin made with the CLI opens a community; a patient signs up, joins, posts behind a content warning and gets a nested conversation", {
    timeout: 120_000,
  }, async () => {
    // ---- the self-hoster creates the first admin with the CLI ----
    const created = await runCli(
      env,
      ["user", "create", "admin", "--admin", "--password-stdin"],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(created.code, `kindred user create failed:\n${created.stdout}${created.stderr}`).toBe(0);
    expect(created.stdout).toContain("created admin admin");

    // ---- the admin logs in and creates a community ----
    const adminContext = await newContext();
    const admin = await adminContext.newPage();
    await admin.goto(`${origin}/login`);
    await admin.fill("#username", "admin");
    await admin.fill("#password", ADMIN_PASSWORD);
    await admin.locator("main form").getByRole("button", { name: "Log in" }).click();
    await admin.waitForURL(`${origin}/`);
    expect(await admin.locator("header.site").textContent()).toContain("@admin");

    await admin.getByRole("link", { name: "Create a community" }).click();
    await admin.waitForURL(`${origin}/communities/new`);
    await admin.fill("#slug", "long-covid");
    await admin.fill("#name", "Long COVID");
    await admin.fill(
      "#description",
      "Peer support for people living with **long COVID**: pacing, sleep, getting back to work.",
    );
    await admin.fill(
      "#rules",
      "1. Be kind.\n2. No medical advice presented as fact; share experience.\n3. Keep others' stories private.",
    );
    await admin.getByRole("button", { name: "Create community" }).click();
    await admin.waitForURL(`${origin}/@long-covid`);
    expect(await admin.locator("main h1").textContent()).toBe("Long COVID");
    expect(await admin.locator("aside").textContent()).toContain("Be kind.");
    expect(await admin.locator("aside strong").first().textContent()).toBe("long COVID");
    await shot(admin, "01-admin-community-page.png");

    // ---- someone else, in a browser of their own, signs up ----
    const patientContext = await newContext();
    const patient = await patientContext.newPage();
    await patient.goto(`${origin}/signup`);
    await patient.fill("#username", "patient1");
    await patient.fill("#password", PATIENT_PASSWORD);
    await patient.getByRole("button", { name: "Sign up" }).click();
    // Ten recovery codes, shown once, then home.
    await patient.waitForURL(`${origin}/welcome`);
    expect(await patient.locator("ol.recovery-codes li").count()).toBe(10);
    await patient.getByRole("link", { name: "I have saved them: continue" }).click();
    await patient.waitForURL(`${origin}/`);
    expect(await patient.locator("header.site").textContent()).toContain("@patient1");

    // ---- finds the community on the home page and joins ----
    await patient.locator("ul.cards").getByRole("link", { name: "Long COVID" }).click();
    await patient.waitForURL(`${origin}/@long-covid`);
    await patient.getByRole("button", { name: "Join", exact: true }).click();
    await patient.getByRole("button", { name: "Leave" }).waitFor();
    expect(await patient.locator("header.community .meta").textContent()).toContain("2 members");

    // ---- posts a thread with Markdown, a hashtag and a content warning ----
    await patient.getByRole("link", { name: "New thread" }).click();
    await patient.waitForURL(`${origin}/@long-covid/submit`);
    await patient.fill("#title", "Pacing tips that actually helped me");
    await patient.fill(
      "#body",
      "After my **third crash** I started *heart-rate pacing*.\n\n- rest before you feel tired\n- keep a symptom diary\n\n#pacing works for me.",
    );
    await patient.fill("#cw", "post-exertional malaise, relapse");
    await patient.getByRole("button", { name: "Post thread" }).click();
    await patient.waitForURL(/\/posts\/[0-9a-f-]{36}$/);
    const threadUrl = patient.url();
    expect(await patient.locator("main h1").textContent()).toBe("Pacing tips that actually helped me");

    // The content warning hides the body until the reader chooses to open it.
    const cw = patient.locator("article.thread details.cw");
    const body = cw.locator(".content");
    expect(await cw.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await cw.locator(":scope > summary").textContent()).toBe(
      "Content warning: post-exertional malaise, relapse",
    );
    expect(await body.isVisible()).toBe(false);
    expect(await patient.getByText("heart-rate pacing").isVisible()).toBe(false);
    await cw.locator(":scope > summary").click();
    await body.waitFor({ state: "visible" });
    expect(await cw.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(await body.locator("strong").textContent()).toBe("third crash");
    expect(await body.locator("em").textContent()).toBe("heart-rate pacing");
    expect(await body.locator("li").allTextContents()).toEqual(["rest before you feel tired", "keep a symptom diary"]);
    const hashtag = body.locator("a.hashtag");
    expect(await hashtag.textContent()).toBe("#pacing");
    expect(await hashtag.getAttribute("href")).toBe(`${origin}/tags/pacing`);

    // ---- replies to the thread ----
    const rootForm = patient.locator("section.discussion > form.reply-form");
    await rootForm.getByLabel("Your reply").fill("Update: two weeks of pacing and **fewer crashes**.");
    await rootForm.getByRole("button", { name: "Reply" }).click();
    const topLevel = patient.locator("section.discussion > ol.replies > li");
    await topLevel.first().waitFor();
    expect(await topLevel.count()).toBe(1);
    const firstReply = topLevel.first();
    expect(await firstReply.locator(":scope > article.reply .content").textContent()).toContain(
      "Update: two weeks of pacing and fewer crashes.",
    );
    expect(await firstReply.locator(":scope > article.reply .content strong").textContent()).toBe("fewer crashes");
    expect(await patient.locator("#replies-h").textContent()).toBe("1 reply");

    // ---- and answers that reply: the answer nests under it ----
    const replyBox = firstReply.locator(":scope > article.reply details.reply-box");
    expect(await replyBox.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await replyBox.locator(":scope > summary").click();
    await replyBox.getByLabel("Your reply").fill("Also: lying down for 10 minutes after a shower helps.");
    await replyBox.getByRole("button", { name: "Reply" }).click();
    const nested = patient.locator("section.discussion > ol.replies > li > ol.replies > li");
    await nested.first().waitFor();
    expect(await nested.count()).toBe(1);
    expect(await nested.first().locator("article.reply .content").textContent()).toContain(
      "lying down for 10 minutes after a shower",
    );
    expect(await topLevel.count()).toBe(1);
    expect(await patient.locator("#replies-h").textContent()).toBe("2 replies");
    expect(patient.url().startsWith(threadUrl)).toBe(true);

    // Screenshot with the warning opened, so the rendered Markdown shows too.
    await cw.locator(":scope > summary").click();
    await body.waitFor({ state: "visible" });
    await shot(patient, "02-thread-with-replies.png");

    // ---- the home page now lists the community with its activity ----
    await patient.goto(`${origin}/`);
    const card = patient.locator("ul.cards > li.card", { hasText: "Long COVID" });
    expect(await card.locator(".meta").textContent()).toContain("2 members");
    expect(await card.locator(".meta").textContent()).toContain("1 thread");
    await shot(patient, "03-home-page.png");

    await adminContext.close();
    await patientContext.close();

    // ---- nothing was loaded from anywhere but the instance ----
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(pageProblems).toEqual([]);
    expect(exited(server!), `the server died:\n${serverOutput.text()}`).toBe(false);
  });
});
