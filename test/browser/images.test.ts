// Attaching an image through the real new-thread form in Chromium, on a
// desktop (1280 px) and a phone (390 px): the image is uploaded with its
// description, loads on the thread page, the page doesn't overflow, and
// every request the page makes goes to our own server.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH, launchChromium } from "../helpers/browser.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, PASSWORD, seedCommunity, seedUser } from "../helpers/seed.ts";

const chromiumAvailable = existsSync(CHROMIUM_PATH);

describe.skipIf(!chromiumAvailable)("browser: images in posts", () => {
  let instance: TestInstance;
  let browser: Browser;
  let dir: string;
  let photo: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kindred-images-browser-"));
    [instance, browser] = await Promise.all([startTestInstance(), launchChromium()]);
    const admin = await seedUser(instance, "admin_b", { role: "admin" });
    await seedUser(instance, "photographer");
    await seedCommunity(instance, admin, { slug: "gardens", name: "Healing gardens" });
    const web = await loggedIn(instance, "photographer");
    expect((await web.post("/@gardens/join", {})).status).toBe(303);
    // A wide photo with GPS, as a phone takes it: larger than a phone's screen.
    photo = join(dir, "garden.jpg");
    writeFileSync(
      photo,
      await sharp({ create: { width: 2400, height: 1600, channels: 3, background: { r: 60, g: 140, b: 70 } } })
        .jpeg()
        .withExif({ IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1" } })
        .toBuffer(),
    );
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await instance?.stop();
    // The screenshots stay in the test's temp folder for a person to look at; the photo goes.
    if (photo) rmSync(photo, { force: true });
  });

  it.each([
    ["desktop", 1280, 800],
    ["phone", 390, 844],
  ] as const)(
    "posts an image with its description through the form on a %s",
    async (label, width, height) => {
      const context = await browser.newContext({ viewport: { width, height } });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const requested: string[] = [];
      page.on("request", (r) => requested.push(r.url()));
      try {
        await page.goto(`${instance.url}/login`);
        await page.fill("#username", "photographer");
        await page.fill("#password", PASSWORD);
        await page.getByRole("button", { name: "Log in" }).click();
        await page.waitForURL(`${instance.url}/`);

        await page.goto(`${instance.url}/@gardens/submit`);
        await page.fill("#title", `The garden behind the clinic (${label})`);
        await page.fill("#body", "It helps to sit here after appointments.");
        await page.getByText("Add images").click();
        await page.setInputFiles("#new-image1", photo);
        await page.fill("#new-alt1", "A green lawn with a bench under a tree");
        // The form with its image fields open fits the screen too.
        const formOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(formOverflow).toBeLessThanOrEqual(0);
        await page.screenshot({ path: join(dir, `compose-${label}.png`), fullPage: true });
        await page.getByRole("button", { name: "Post thread" }).click();
        await page.waitForURL(/\/posts\/[0-9a-f-]{36}$/);

        const image = page.locator("figure.media-item img").first();
        await image.scrollIntoViewIfNeeded();
        await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(2048);
        expect(await image.getAttribute("alt")).toBe("A green lawn with a bench under a tree");
        // The description is readable by everyone, behind the ALT badge.
        await page.locator("details.alt-text summary").first().click();
        await expect.poll(() => page.locator("details.alt-text p").first().isVisible()).toBe(true);
        // Nothing wider than the screen: the image scales down to fit.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow).toBeLessThanOrEqual(0);
        const box = await image.boundingBox();
        expect(box!.width).toBeLessThanOrEqual(width);

        await page.screenshot({ path: join(dir, `images-${label}.png`), fullPage: true });
        expect(existsSync(join(dir, `images-${label}.png`))).toBe(true);
        expect(requested.length).toBeGreaterThan(0);
        for (const url of requested) expect(new URL(url).origin, url).toBe(instance.url);
      } finally {
        await context.close();
      }
    },
    60_000,
  );

  it("blurs a sensitive post's images on a phone until the reader opens them", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    try {
      await page.goto(`${instance.url}/login`);
      await page.fill("#username", "photographer");
      await page.fill("#password", PASSWORD);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL(`${instance.url}/`);
      await page.goto(`${instance.url}/@gardens/submit`);
      await page.fill("#title", "After the operation");
      await page.getByText("Add images").click();
      await page.setInputFiles("#new-image1", photo);
      await page.fill("#new-alt1", "A healing scar on a knee");
      await page.getByLabel("Sensitive images: blur them until opened").check();
      await page.getByRole("button", { name: "Post thread" }).click();
      await page.waitForURL(/\/posts\/[0-9a-f-]{36}$/);

      const preview = page.locator("details.media.sensitive > summary img.blurred-image");
      await expect
        .poll(() => preview.evaluate((img: HTMLImageElement) => getComputedStyle(img).filter))
        .toMatch(/^blur\(/);
      const image = page.locator("details.media.sensitive figure.media-item img");
      expect(await image.isVisible()).toBe(false);
      await page.screenshot({ path: join(dir, "images-sensitive-closed.png"), fullPage: true });
      await page.getByText("Sensitive image: show").click();
      await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(2048);
      expect(await preview.isVisible()).toBe(false);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(dir, "images-sensitive-open.png"), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);
});
