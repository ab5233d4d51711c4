// Issue 13 in Chromium, at desktop and phone widths: a draft holding a crisis
// keyword shows the crisis notice before anything is posted, and is posted
// only once the author confirms, every request going to our own server; an
// applicant waits while sign-ups need approval, an admin approves them on the
// admin page, and the applicant logs in.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateSettings } from "../../src/instance/settings.ts";
import { CHROMIUM_PATH, launchChromium } from "../helpers/browser.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, PASSWORD, seedCommunity, seedUser } from "../helpers/seed.ts";

const chromiumAvailable = existsSync(CHROMIUM_PATH);

describe.skipIf(!chromiumAvailable)("browser: crisis notice and sign-up approval", () => {
  let instance: TestInstance;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kindred-safety-browser-"));
    [instance, browser] = await Promise.all([startTestInstance(), launchChromium()]);
    const admin = await seedUser(instance, "root", { role: "admin" });
    await seedCommunity(instance, admin, { slug: "nights", name: "Long nights" });
    for (const name of ["writer_desktop", "writer_phone"]) {
      await seedUser(instance, name);
      expect((await (await loggedIn(instance, name)).post("/@nights/join", {})).status).toBe(303);
    }
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await instance?.stop();
  });

  async function logIn(page: Page, username: string, password = PASSWORD) {
    await page.goto(`${instance.url}/login`);
    await page.fill("#username", username);
    await page.fill("#password", password);
    await page.getByRole("button", { name: "Log in" }).click();
  }

  it.each([
    ["desktop", 1280, 800],
    ["phone", 390, 844],
  ] as const)(
    "shows the crisis notice before a draft with a crisis keyword is posted, on a %s",
    async (label, width, height) => {
      const context = await browser.newContext({ viewport: { width, height } });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const requested: string[] = [];
      page.on("request", (r) => requested.push(r.url()));
      try {
        await logIn(page, `writer_${label}`);
        await page.goto(`${instance.url}/@nights/submit`);
        const title = `Tonight (${label})`;
        await page.fill("#title", title);
        await page.fill("#body", "Honestly, some nights I want to die.");
        await page.getByRole("button", { name: "Post thread" }).click();
        await page.getByRole("heading", { name: "Before you post" }).waitFor();
        expect(await page.locator('aside[aria-label="Support in a crisis"]').textContent()).toContain(
          "You're not alone",
        );
        await page.screenshot({ path: join(dir, `crisis-${label}.png`), fullPage: true });
        const before = await instance.runtime.db.selectFrom("posts").select("id").where("title", "=", title).execute();
        expect(before, "nothing is posted before the author confirms").toEqual([]);
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
        await page.getByRole("button", { name: "Post it" }).click();
        await page.waitForURL(/\/posts\//);
        expect(await page.locator("h1").first().textContent()).toContain(title);
        const origin = new URL(instance.url).origin;
        expect(requested.filter((u) => new URL(u).origin !== origin)).toEqual([]);
      } finally {
        await context.close();
      }
    },
  );

  it("an applicant waits; an admin approves on the admin page; the applicant logs in", async () => {
    await updateSettings(instance.runtime.db, {
      registrations: "approval",
      applicationQuestion: "What brings you here?",
    });
    const applicant = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    const admin = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    try {
      await applicant.goto(`${instance.url}/signup`);
      await applicant.fill("#username", "newcomer");
      await applicant.fill("#password", PASSWORD);
      await applicant.fill("#answer", "My mother has ALS and I care for her.");
      await applicant.getByRole("button", { name: "Apply" }).click();
      await applicant.getByRole("heading", { name: "Application sent" }).waitFor();
      await logIn(applicant, "newcomer");
      expect(await applicant.locator("main").textContent()).toContain("waiting for an admin");

      await logIn(admin, "root");
      await admin.goto(`${instance.url}/admin/registrations`);
      expect(await admin.locator("main").textContent()).toContain("My mother has ALS");
      await admin.screenshot({ path: join(dir, "approval-queue.png"), fullPage: true });
      await admin.getByRole("button", { name: "Approve" }).click();
      await admin.getByText("Approved: the account exists now.").waitFor();

      await logIn(applicant, "newcomer");
      await applicant.waitForURL(`${instance.url}/`);
      expect(await applicant.locator("header.site").textContent()).toContain("@newcomer");
    } finally {
      await applicant.context().close();
      await admin.context().close();
    }
  });
});
