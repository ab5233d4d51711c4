// A report handled end to end in Chromium against a real server process: a
// member reports a post, the moderator finds it in the queue and removes the
// post with a reason on its confirmation page, the author reads the
// statement of reasons in their notifications and appeals, and the moderator
// grants the appeal, which brings the post back. At desktop and phone widths,
// with no request leaving the instance.
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH, launchChromium } from "../helpers/browser.ts";
import { freePort, ROOT, runCli, spawnServer, stopProcess, waitUntilServing } from "../helpers/processes.ts";

const SCREENSHOTS = join(ROOT, "test-output", "screenshots");
const PASSWORD = "correct horse battery staple";
const POST_TEXT = "Stop your medication and drink colloidal silver instead";

describe.skipIf(!existsSync(CHROMIUM_PATH))("browser: a moderator handles a report end to end", () => {
  let dir: string;
  let origin: string;
  let env: NodeJS.ProcessEnv;
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  const requested: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kindred-browser-mod-"));
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

  async function cli(args: string[], input?: string) {
    const r = await runCli(env, args, input);
    expect(r.code, `kindred ${args.join(" ")}: ${r.stdout}${r.stderr}`).toBe(0);
    return r.stdout;
  }

  async function logIn(username: string, width = 1280): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width, height: 900 } });
    context.setDefaultTimeout(15_000);
    context.on("request", (r) => requested.push(r.url()));
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`${page.url()}: ${e.message}`));
    page.on("response", (r) => {
      if (r.status() >= 500) problems.push(`${page.url()}: HTTP ${r.status()} for ${r.url()}`);
    });
    await page.goto(`${origin}/login`);
    await page.fill("#username", username);
    await page.fill("#password", PASSWORD);
    await page.locator("main form").getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${origin}/`);
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
  /** No horizontal scrolling: the page fits a phone's width. */
  const fitsWidth = (page: Page) =>
    page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1);

  it("report, queue, removal with a reason, statement of reasons, appeal, appeal granted", {
    timeout: 180_000,
  }, async () => {
    await cli(["user", "create", "admin", "--admin", "--password-stdin"], `${PASSWORD}\n`);
    for (const name of ["ann", "rae"]) await cli(["user", "create", name, "--password-stdin"], `${PASSWORD}\n`);
    await cli(["community", "create", "long-covid", "--name", "Long COVID", "--owner", "admin"]);
    const posted = await cli([
      "post",
      "create",
      "--as",
      "ann",
      "--community",
      "long-covid",
      "--title",
      "What worked for me",
      "--body",
      POST_TEXT,
    ]);
    const threadUrl = posted.trim().split("\n").at(-1) ?? "";
    expect(threadUrl).toMatch(/\/posts\/[0-9a-f-]{36}$/);

    // ---- Rae reports the thread ----
    const rae = await logIn("rae");
    await rae.goto(threadUrl);
    await rae.locator("article.thread").getByRole("link", { name: "Report" }).click();
    await rae.waitForURL(/\/report$/);
    await rae.getByLabel("Medical misinformation").check();
    await rae.fill("#comment", "Tells people to stop their treatment");
    await rae.getByRole("button", { name: "Send report" }).click();
    await rae.waitForURL(/\/report\/sent$/);
    expect(await rae.locator("main").textContent()).toContain("moderators");

    // ---- the moderator sees it in the header, opens the queue, removes the thread ----
    const mod = await logIn("admin");
    expect(await mod.locator("header.site").textContent()).toMatch(/Notifications \(1\)/);
    await mod.goto(`${origin}/@long-covid/reports`);
    const report = mod.locator("main article").filter({ hasText: "Tells people to stop their treatment" });
    expect(await report.textContent()).toContain("@rae");
    await shot(mod, "mod-01-report-queue.png");
    await report.getByRole("link", { name: "Remove…" }).click();
    await mod.waitForURL(/\/remove\?report=/);
    expect(await mod.locator("main").textContent()).toContain("Remove this thread?");
    await mod.fill("#reason", "Advice to stop treatment endangers members (rule 2)");
    await shot(mod, "mod-02-confirm-removal.png");
    await mod.getByRole("button", { name: "Remove the thread" }).click();
    await mod.waitForURL(/\/posts\//);
    // The moderator still sees it, marked removed.
    expect(await mod.locator("article.thread").textContent()).toContain("Removed by the moderators");

    // A visitor sees the placeholder only.
    const visitor = await (await browser!.newContext()).newPage();
    await visitor.goto(threadUrl);
    expect(await visitor.locator("main").textContent()).not.toContain(POST_TEXT);
    expect(await visitor.locator("main").textContent()).toContain("removed by a moderator");

    // Rae is told the outcome.
    await rae.goto(`${origin}/notifications`);
    expect(await rae.locator("main").textContent()).toContain("The post was removed");

    // ---- Ann reads the statement of reasons on a phone and appeals ----
    const ann = await logIn("ann", 390);
    expect(await ann.locator("header.site").textContent()).toMatch(/Notifications \(1\)/);
    await ann.goto(`${origin}/notifications`);
    await ann
      .locator("main")
      .getByRole("link", { name: /moderator/i })
      .first()
      .click();
    await ann.waitForURL(/\/moderation\/actions\//);
    const statement = (await ann.locator("main").textContent()) ?? "";
    expect(statement).toContain("Advice to stop treatment endangers members (rule 2)");
    const wide = await ann.evaluate(() =>
      [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((e) => `${e.tagName}.${e.className}`)
        .slice(0, 8),
    );
    await shot(ann, "mod-03-statement-phone.png");
    expect(wide).toEqual([]);
    expect(await fitsWidth(ann)).toBe(true);
    await ann.fill("#text", "I shared my own experience, not advice");
    await shot(ann, "mod-03-appeal-phone.png");
    await ann.getByRole("button", { name: "Send appeal" }).click();
    await ann.waitForURL(/\/moderation\/actions\//);
    expect(await ann.locator("main").textContent()).toMatch(/appeal/i);

    // ---- the moderator grants it: the thread is back for everyone ----
    await mod.goto(`${origin}/@long-covid/appeals`);
    const appeal = mod.locator("main article").filter({ hasText: "I shared my own experience" });
    await appeal.locator("textarea").fill("Fair: reworded as experience");
    await appeal.getByRole("button", { name: "Grant (reverse the decision)" }).click();
    await mod.waitForURL(/\/appeals/);
    await visitor.goto(threadUrl);
    expect(await visitor.locator("main").textContent()).toContain(POST_TEXT);
    await ann.goto(`${origin}/notifications`);
    expect(await ann.locator("main").textContent()).toMatch(/appeal/i);

    // ---- the modlog tells the story ----
    await visitor.goto(`${origin}/@long-covid/modlog`);
    const log = (await visitor.locator("main").textContent()) ?? "";
    expect(log).toContain("Removed a post");
    expect(log).toContain("Restored a post");

    expect(problems).toEqual([]);
    expect(requested.filter((u) => !u.startsWith(origin))).toEqual([]);
  });
});
