// Pages a new user found too wide for a phone, in a real Chromium at 390 px
// (an iPhone 12-15 in portrait): an admin's header, with every link of the
// site's navigation, and a deletion receipt naming the servers told of it.
// Also how danger buttons and form fields look: red buttons are buttons
// (no underline), link-styled danger actions are links (no red pill), and
// input borders stand out from the page (WCAG 1.4.11 asks 3:1).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH, launchChromium } from "../helpers/browser.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, Peer, uuid, waitFor } from "../helpers/peer.ts";
import { ROOT } from "../helpers/processes.ts";
import { loggedIn, PASSWORD, seedUser } from "../helpers/seed.ts";

const SCREENSHOTS = join(ROOT, "test-output", "screenshots");
const chromiumAvailable = existsSync(CHROMIUM_PATH);

/** WCAG's contrast ratio of two `rgb(r, g, b)` colours as getComputedStyle reports them. */
function contrast(a: string, b: string): number {
  const luminance = (rgb: string) => {
    const [r, g, bl] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

describe.skipIf(!chromiumAvailable)("browser: a phone's width and the look of controls", () => {
  let instance: TestInstance;
  let mastodon: Peer;
  let browser: Browser;
  let receiptPath: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [instance, mastodon, browser] = await Promise.all([startTestInstance(), Peer.start("mastodon"), launchChromium()]);
    await seedUser(instance, "kindred_instance_administrator", { role: "admin" });
    // An erased member followed by people on another server: the receipt lists that server.
    await seedUser(instance, "neighbour");
    await seedUser(instance, "leaving-member");
    const fan = await mastodon.addActor("a-follower-with-a-long-name");
    const follow = fixture("mastodon/follow.json", {
      origin: mastodon.origin,
      uuid: uuid(),
      actor: fan.id,
      object: `${instance.url}/@leaving-member`,
    });
    expect((await mastodon.send(fan, `${instance.url}/@leaving-member/inbox`, follow)).status).toBe(202);
    await mastodon.waitForDelivery((b) => b.type === "Accept", { label: "Accept of the follow" });
    const leaving = await loggedIn(instance, "leaving-member");
    await leaving.get("/settings/erase");
    const erased = await leaving.post("/settings/erase", { password: PASSWORD, confirm: "yes" });
    expect(erased.status, erased.text.slice(0, 300)).toBe(303);
    receiptPath = new URL(erased.headers.get("location")!, instance.url).pathname;
    // The receipt lists the server once the Delete(Person) was handed over.
    await waitFor(async () => ((await leaving.get(receiptPath)).text.includes(mastodon.host) ? true : undefined), {
      label: "the follower's server on the receipt",
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await mastodon?.stop();
    await instance?.stop();
  });

  async function phone(scheme: "light" | "dark"): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: scheme });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.goto(`${instance.url}/login`);
    await page.fill("#username", "kindred_instance_administrator");
    await page.fill("#password", PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${instance.url}/`);
    return page;
  }
  /** How much wider than the screen the page is (0: no horizontal scrolling). */
  const overflow = (page: Page) =>
    page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  it("fits an admin's pages and a deletion receipt into 390 px", { timeout: 60_000 }, async () => {
    const page = await phone("light");
    for (const [path, name] of [
      ["/admin", "narrow-01-admin.png"],
      ["/admin/federation", "narrow-02-federation.png"],
      ["/admin/reports", "narrow-02-reports.png"],
      ["/settings/data", "narrow-03-your-data.png"],
      [receiptPath, "narrow-04-receipt.png"],
    ] as const) {
      await page.goto(`${instance.url}${path}`);
      await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
      expect(await overflow(page), `${path} scrolls sideways at 390 px`).toBeLessThanOrEqual(0);
    }
    // The receipt really has its table (with the server) at that width.
    expect(await page.locator("main table").textContent()).toContain(mastodon.host);
    await page.context().close();
  });

  it("draws danger buttons as buttons, danger links as links, and input borders at 3:1 or more", {
    timeout: 60_000,
  }, async () => {
    for (const scheme of ["light", "dark"] as const) {
      const page = await phone(scheme);
      await page.goto(`${instance.url}/settings/erase`);
      const button = await page
        .getByRole("button", { name: "Erase my account" })
        .evaluate((e) => getComputedStyle(e).textDecorationLine);
      expect(button, "a red button is not underlined").toBe("none");
      const border = await page.locator("#erase-password").evaluate((e) => {
        const s = getComputedStyle(e);
        return {
          border: s.borderTopColor,
          field: s.backgroundColor,
          page: getComputedStyle(document.body).backgroundColor,
        };
      });
      expect(contrast(border.border, border.page), `${scheme}: border against the page`).toBeGreaterThanOrEqual(3);
      expect(contrast(border.border, border.field), `${scheme}: border against the field`).toBeGreaterThanOrEqual(3);
      // A danger action drawn as a link (Block, on a person's profile): a link, not a red pill.
      await page.goto(`${instance.url}/@neighbour`);
      const block = await page.getByRole("button", { name: "Block" }).evaluate((e) => {
        const s = getComputedStyle(e);
        return { background: s.backgroundColor, color: s.color, page: getComputedStyle(document.body).backgroundColor };
      });
      await page.screenshot({ path: join(SCREENSHOTS, `narrow-05-profile-${scheme}.png`), fullPage: true });
      expect(block.background, `${scheme}: no pill behind a link-styled button`).toBe("rgba(0, 0, 0, 0)");
      expect(contrast(block.color, block.page), `${scheme}: its red reads on the page`).toBeGreaterThanOrEqual(4.5);
      await page.context().close();
    }
  });
});
