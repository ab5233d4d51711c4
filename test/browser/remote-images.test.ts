// A remote image in a real browser: a Mastodon-shaped server's post carries
// an image held on another loopback origin (its media host). Kindred's thread
// page shows it from Kindred's own cache, so the browser never asks a third
// party for anything (the privacy rule): every request the page makes goes to
// Kindred's origin, and the image still loads. A sensitive post's image stays
// blurred until the reader opens it, from the same cache.
import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH, launchChromium } from "../helpers/browser.ts";
import { ImageHost, jpeg } from "../helpers/image-host.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { postByIri } from "../interop/support.ts";
import { mastodonNote } from "../policy/support.ts";

const chromiumAvailable = existsSync(CHROMIUM_PATH);
if (!chromiumAvailable) console.warn(`remote images browser test skipped: ${CHROMIUM_PATH} not found`);

describe.skipIf(!chromiumAvailable)("remote images in the browser come from our origin only", () => {
  let instance: TestInstance;
  let mastodon: Peer;
  let cdn: ImageHost;
  let browser: Browser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let alice: PeerActor;
  let seq = 0;

  beforeAll(async () => {
    [instance, mastodon, cdn, browser] = await Promise.all([
      startTestInstance(),
      Peer.start("mastodon"),
      ImageHost.start(),
      launchChromium(),
    ]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "pacing", name: "Pacing" });
    alice = await mastodon.addActor("alice");
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([mastodon?.stop(), cdn?.stop()]);
    await instance?.stop();
  });

  /** Alice's post with one image on the media host; its page on Kindred, and the image's key. */
  async function remotePost(alt: string, sensitive: boolean) {
    const url = cdn.put(`/media_attachments/${++seq}/original.jpg`, {
      kind: "bytes",
      body: await jpeg(120, 80),
      contentType: "image/jpeg",
    });
    const create = mastodonNote(mastodon, alice, {
      text: "My week",
      mentioned: { iri: community.iri, name: "pacing" },
    });
    create.object.sensitive = sensitive;
    create.object.summary = sensitive ? "Medical photo" : null;
    create.object.attachment = [{ type: "Document", mediaType: "image/jpeg", url, name: alt, width: 120, height: 80 }];
    expect((await mastodon.send(alice, `${instance.url}/inbox`, create)).status).toBe(202);
    const post = await waitFor(() => postByIri(instance, create.object.id), { label: "the Mastodon post" });
    const media = await instance.runtime.db
      .selectFrom("media")
      .select("key")
      .where("post_id", "=", post.id)
      .executeTakeFirstOrThrow();
    return { path: `/posts/${post.id}`, key: media.key, url };
  }

  /** A page that records every request it makes. */
  async function recordingPage(): Promise<{ page: Page; requests: string[] }> {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    return { page, requests };
  }

  const loaded = (page: Page, selector: string) =>
    page.waitForFunction(
      (s) => {
        const img = document.querySelector<HTMLImageElement>(s);
        return img?.complete === true && img.naturalWidth > 0 ? img.naturalWidth : false;
      },
      selector,
      { timeout: 15_000 },
    );

  it("a thread page shows the remote image from our cache, and makes no cross-origin request", async () => {
    const { path, key, url } = await remotePost("A line chart of steps per day", false);
    expect(cdn.hits(url)).toBe(0);
    const { page, requests } = await recordingPage();
    try {
      await page.goto(`${instance.url}${path}`, { waitUntil: "load" });
      const img = `img[src="/media/remote/${key}"]`;
      const width = await (await loaded(page, img)).jsonValue();
      expect(width).toBe(120);
      expect(await page.getAttribute(img, "alt")).toBe("A line chart of steps per day");
      expect(requests).toContain(`${instance.url}/media/remote/${key}`);
      expect(
        requests.filter((r) => new URL(r).origin !== instance.url),
        "requests to another origin",
      ).toEqual([]);
      // Kindred fetched it, once, for the page.
      expect(cdn.hits(url)).toBe(1);
      expect(cdn.requests.every((r) => r.referer === null)).toBe(true);
    } finally {
      await page.close();
    }
  });

  it("a sensitive post's image stays blurred until opened, then loads from our origin", async () => {
    const { path, key } = await remotePost("A photo of a rash", true);
    const { page, requests } = await recordingPage();
    try {
      await page.goto(`${instance.url}${path}`, { waitUntil: "load" });
      const full = `details.media.sensitive .media-grid img[src="/media/remote/${key}"]`;
      expect(await page.locator(full).isVisible()).toBe(false);
      await page.locator("details.media.sensitive > summary").click();
      const width = await (await loaded(page, full)).jsonValue();
      expect(width).toBe(120);
      expect(await page.locator(full).isVisible()).toBe(true);
      expect(requests.filter((r) => new URL(r).origin !== instance.url)).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
