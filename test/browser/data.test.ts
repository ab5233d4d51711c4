// Settings → "Your data" in a real browser, on one real instance: a member logs
// in through the form, finds the page by following links, asks for an archive,
// watches the page refresh itself until the archive is ready, downloads it,
// is told when the next one may be asked for, then erases the account (a wrong
// password first), keeps the deletion receipt and finds the account gone.
// Every page only ever talks to the instance.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join as joinCommunity } from "../../src/communities/membership.ts";
import { CHROMIUM_PATH, launchChromium } from "../helpers/browser.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { ROOT } from "../helpers/processes.ts";
import { PASSWORD, seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";

const SCREENSHOTS = join(ROOT, "test-output", "screenshots");

const chromiumAvailable = existsSync(CHROMIUM_PATH);
if (!chromiumAvailable) {
  console.warn(`data browser test skipped: ${CHROMIUM_PATH} not found (install Debian's chromium package)`);
}

describe.skipIf(!chromiumAvailable)("browser: Settings → Your data (archive download and account erasure)", () => {
  let instance: TestInstance | undefined;
  let origin: string;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  /** Every URL the browser asked for. */
  const requested: string[] = [];
  /** Every answer of 400 or more, as "STATUS METHOD path" (some are expected: 429, 403, 410, 401). */
  const errorAnswers: string[] = [];
  /** Console errors, uncaught page errors and failed requests. */
  const pageProblems: string[] = [];
  /** Thread title, looked for inside the archive. */
  const THREAD_TITLE = "Morning routine with a wearable";

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const [started, launched] = await Promise.all([startTestInstance(), launchChromium()]);
    instance = started;
    browser = launched;
    origin = instance.url;

    const admin = await seedUser(instance, "admin", { role: "admin" });
    const robin = await seedUser(instance, "robin");
    const community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    await joinCommunity(instance.runtime.db, origin, community, robin.actorId);
    await seedThread(instance, community, robin, THREAD_TITLE, "Compression socks first, then salt and water.");

    context = await browser.newContext({
      colorScheme: "light",
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    context.setDefaultTimeout(15_000);
    context.on("request", (r) => requested.push(r.url()));
    page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
        pageProblems.push(`${page.url()}: console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => pageProblems.push(`${page.url()}: page error: ${e.message}`));
    page.on("response", (r) => {
      const path = new URL(r.url()).pathname;
      if (r.status() >= 400 && path !== "/favicon.ico")
        errorAnswers.push(`${r.status()} ${r.request().method()} ${path}`);
    });
    page.on("requestfailed", (r) => {
      // A download is handed to the download manager, which Chromium reports as an aborted request.
      // So is a page's last request when the test navigates on at once (the icon, say).
      if (
        !new URL(r.url()).pathname.startsWith("/settings/data/exports/") &&
        r.failure()?.errorText !== "net::ERR_ABORTED"
      )
        pageProblems.push(`${page.url()}: request failed: ${r.url()} (${r.failure()?.errorText})`);
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await instance?.stop();
  }, 30_000);

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
  const alert = () => page.locator("main div.alert[role=alert]");
  const exportSection = () => page.locator("section[aria-labelledby=export-h]");
  const eraseForm = () => page.locator("main form[action='/settings/erase']");

  it("logs in, finds Your data through Settings, waits for the archive, downloads it and is told when the next one may be requested", {
    timeout: 40_000,
  }, async () => {
    // ---- log in through the form, starting from the home page ----
    await page.goto(`${origin}/`);
    await page.locator("header.site").getByRole("link", { name: "Log in" }).click();
    await page.waitForURL(`${origin}/login`);
    await page.fill("#username", "robin");
    await page.fill("#password", PASSWORD);
    await page.locator("main form").getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${origin}/`);
    expect(await page.locator("header.site").textContent()).toContain("@robin");

    // ---- Settings → Your data, by following links ----
    await page.locator("header.site").getByRole("link", { name: "Settings" }).click();
    await page.waitForURL(`${origin}/settings`);
    await page.getByRole("link", { name: "Your data: download or erase it" }).click();
    await page.waitForURL(`${origin}/settings/data`);
    expect(await page.locator("main h1").textContent()).toBe("Your data");
    expect(await page.getByRole("heading", { name: "Download your data" }).isVisible()).toBe(true);
    expect(await page.getByRole("heading", { name: "Erase your account" }).isVisible()).toBe(true);
    // Nothing asked for yet: no table, no refresh, the button is enabled.
    expect(await exportSection().locator("table").count()).toBe(0);
    expect(await page.locator("meta[http-equiv=refresh]").count()).toBe(0);
    const requestButton = page.getByRole("button", { name: "Request an archive" });
    expect(await requestButton.isEnabled()).toBe(true);

    // ---- ask for an archive ----
    const dataPageLoadsBefore = requested.filter((u) => u === `${origin}/settings/data`).length;
    await requestButton.click();
    // Back on the same address (303 to /settings/data), now with one row in the table.
    const status = exportSection().locator("td.export-status");
    await status.waitFor();
    expect(page.url()).toBe(`${origin}/settings/data`);
    expect(await status.count()).toBe(1);
    const firstStatus = await status.getAttribute("data-status");
    expect(["queued", "running", "ready"]).toContain(firstStatus);
    if (firstStatus !== "ready") {
      // While the archive is built the page says so and reloads itself (no JavaScript).
      expect(await page.locator("meta[http-equiv=refresh]").getAttribute("content")).toBe("5");
      expect(await page.getByRole("button", { name: "Request an archive" }).isDisabled()).toBe(true);
      const text = (await status.textContent()) ?? "";
      if (firstStatus === "queued") expect(text).toContain("waiting to start");
      else {
        expect(await status.locator("progress").count()).toBe(1);
        expect(text).toMatch(/\d+ of \d+ items/);
      }
    }

    // ---- the Download link appears on its own: the page refreshes itself, the test never reloads ----
    await exportSection()
      .locator("td.export-status[data-status=ready], td.export-status[data-status=failed]")
      .waitFor({ timeout: 20_000 });
    expect(await status.getAttribute("data-status"), `the archive was not built: ${await status.textContent()}`).toBe(
      "ready",
    );
    const download = exportSection().getByRole("link", { name: "Download" });
    expect(await status.textContent()).toMatch(/available until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(await page.locator("meta[http-equiv=refresh]").count()).toBe(0);
    const href = await download.getAttribute("href");
    expect(href).toMatch(/^\/settings\/data\/exports\/[0-9a-f-]{36}$/);
    const dataPageLoads = requested.filter((u) => u === `${origin}/settings/data`).length - dataPageLoadsBefore;
    console.info(`archive: first seen as "${firstStatus}", /settings/data loaded ${dataPageLoads} time(s) until ready`);
    await shot("data-01-archive-ready.png");

    // ---- download it: a gzip file named after the day ----
    const [file] = await Promise.all([page.waitForEvent("download"), download.click()]);
    expect(file.suggestedFilename()).toMatch(/^kindred-archive-\d{4}-\d{2}-\d{2}\.tar\.gz$/);
    expect(await file.failure()).toBeNull();
    const bytes = readFileSync((await file.path())!);
    expect(bytes[0]).toBe(0x1f);
    expect(bytes[1]).toBe(0x8b);
    // The tar inside names the Mastodon-style files and holds the member's thread.
    const tar = gunzipSync(bytes).toString("latin1");
    expect(tar).toContain("outbox.json");
    expect(tar).toContain("README.html");
    expect(tar).toContain(THREAD_TITLE);
    expect(page.url()).toBe(`${origin}/settings/data`);

    // ---- a second archive the same day is not offered: the button is off and says when ----
    expect(await page.getByRole("button", { name: "Request an archive" }).isDisabled()).toBe(true);
    expect(await exportSection().textContent()).toMatch(
      /The next archive can be requested after \d{4}-\d{2}-\d{2} \d{2}:\d{2}/,
    );
    // Asked anyway (a stale tab), the server refuses with the same time.
    const fields = await exportSection()
      .locator("form input[type=hidden]")
      .evaluateAll((inputs) =>
        Object.fromEntries(inputs.map((i) => [(i as HTMLInputElement).name, (i as HTMLInputElement).value])),
      );
    const refused = await page.request.post(`${origin}/settings/data/exports`, {
      form: fields,
      headers: { origin },
      maxRedirects: 0,
    });
    expect(refused.status()).toBe(429);
    expect(await refused.text()).toMatch(
      /one archive a day; the next one can be requested after \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/,
    );
    // The ready archive is still offered.
    expect(await exportSection().getByRole("link", { name: "Download" }).count()).toBe(1);
    await shot("data-02-archive-rate-limited.png");
    expect(errorAnswers).toEqual([]);
  });

  it("refuses a wrong password, then erases the account, shows the receipt, and the profile and log-in are gone", {
    timeout: 30_000,
  }, async () => {
    // Your data → the erase page, by its link.
    await page.goto(`${origin}/settings/data`);
    await page.locator("section[aria-labelledby=erase-h]").getByRole("link", { name: "Erase your account" }).click();
    await page.waitForURL(`${origin}/settings/erase`);
    // What goes, counted: one thread, one membership, nothing else; no other server has anything.
    const listed = (await page.locator("main ul").first().textContent())?.replace(/\s+/g, " ") ?? "";
    expect(listed).toContain("1 thread and 0 replies");
    expect(listed).toContain("0 direct messages you sent, 0 likes and 1 community membership;");
    expect(await page.locator("main").textContent()).toContain("(0 servers known so far)");
    // The community does not allow anonymizing: no choice of mode.
    expect(await eraseForm().locator("input[name=mode]").count()).toBe(0);
    // This page never reloads itself (it would clear the form).
    expect(await page.locator("meta[http-equiv=refresh]").count()).toBe(0);

    // ---- a wrong password: the page comes back with the error, once; still logged in ----
    await eraseForm().getByLabel("Your password").fill("not-my-password");
    await eraseForm()
      .getByRole("checkbox", { name: /I understand/ })
      .check();
    await eraseForm().getByRole("button", { name: "Erase my account" }).click();
    await alert().waitFor();
    expect(await alert().textContent()).toBe("the password is not correct");
    expect(await page.locator("main").textContent()).not.toContain("is not correct.");
    expect(await page.locator("meta[http-equiv=refresh]").count()).toBe(0);
    expect(await page.locator("header.site").textContent()).toContain("@robin");
    await shot("data-03-erase-wrong-password.png");
    expect(errorAnswers.at(-1)).toBe("403 POST /settings/erase");
    // Nothing was erased: the profile still answers.
    const profile = await page.request.get(`${origin}/@robin`);
    expect(profile.status()).toBe(200);

    // ---- the right password and the checkbox: logged out, on the receipt ----
    await page.goto(`${origin}/settings/erase`);
    await eraseForm().getByLabel("Your password").fill(PASSWORD);
    await eraseForm()
      .getByRole("checkbox", { name: /I understand/ })
      .check();
    await eraseForm().getByRole("button", { name: "Erase my account" }).click();
    await page.waitForURL(/\/erasures\/[A-Za-z0-9_-]{32}\?erased=1$/);
    const receiptUrl = page.url();
    expect(await page.locator("main h1").textContent()).toBe("Deletion receipt");
    expect(await page.locator("main .notice[role=status]").textContent()).toContain("Keep this page's address");
    expect(await page.locator("main strong").first().textContent()).toContain("robin");
    expect(await page.locator("main").textContent()).toContain(
      "No other server had received anything from this account.",
    );
    expect(await page.locator("header.site").textContent()).not.toContain("@robin");
    expect(await page.locator("header.site").getByRole("link", { name: "Log in" }).count()).toBe(1);
    await shot("data-04-receipt.png");

    // The receipt stays readable at its address, without the one-time notice.
    await page.goto(receiptUrl.replace(/\?erased=1$/, ""));
    expect(await page.locator("main h1").textContent()).toBe("Deletion receipt");
    expect(await page.locator("main .notice").count()).toBe(0);

    // ---- the profile is gone (410) ----
    const gone = await page.goto(`${origin}/@robin`);
    expect(gone?.status()).toBe(410);
    expect(await page.locator("main").textContent()).toContain("This account was erased by its owner.");

    // ---- and logging in as robin fails ----
    await page.locator("header.site").getByRole("link", { name: "Log in" }).click();
    await page.waitForURL(`${origin}/login`);
    await page.fill("#username", "robin");
    await page.fill("#password", PASSWORD);
    await page.locator("main form").getByRole("button", { name: "Log in" }).click();
    await alert().waitFor();
    expect(await alert().textContent()).toBe("wrong username or password");
    expect(page.url()).toBe(`${origin}/login`);
    expect(await page.locator("header.site").textContent()).not.toContain("@robin");

    // The settings pages now ask for a log-in instead.
    await page.goto(`${origin}/settings/data`);
    expect(new URL(page.url()).pathname).toBe("/login");

    expect(errorAnswers).toEqual(["403 POST /settings/erase", "410 GET /@robin", "401 POST /login"]);
  });

  it("never asked any origin but the instance, and no page reported an error", () => {
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(pageProblems).toEqual([]);
  });
});
