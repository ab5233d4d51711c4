// Two real Kindred instances federating over loopback, driven end to end in a
// real browser, the way two self-hosters and their members would meet: each
// instance is `node src/main.ts` with its own port, ORIGIN, SQLite file and
// data directory (and ALLOW_PRIVATE_ADDRESS=true, since 127.0.0.1 is private).
// On A an admin (made with the CLI) opens a community and posts; on B a
// newcomer finds that community through the header search, joins it, reads,
// replies, posts and likes across servers, then exchanges direct messages with
// A's admin. Every page only ever talks to its own instance.
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH, launchChromium } from "../helpers/browser.ts";
import { exited, freePort, ROOT, runCli, spawnServer, stopProcess, waitUntilServing } from "../helpers/processes.ts";

const SCREENSHOTS = join(ROOT, "test-output", "screenshots");

const ADMIN_PASSWORD = "correct horse battery staple";
const BOB_PASSWORD = "bob-on-the-other-server";

// The browser is a system package, not a dependency: playwright-core never
// downloads one, and these machines are offline. Where Debian's chromium is not
// installed the journey is skipped (loudly) rather than failing.
const chromiumAvailable = existsSync(CHROMIUM_PATH);
if (!chromiumAvailable) {
  console.warn(`federation browser test skipped: ${CHROMIUM_PATH} not found (install Debian's chromium package)`);
}

/** One self-hosted instance: a `src/main.ts` child process with its own port, database and data dir. */
interface Instance {
  name: string;
  port: number;
  origin: string;
  host: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
  output(): string;
}

async function startInstance(name: string): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), `kindred-fed-${name}-`));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    ORIGIN: origin,
    DATABASE_URL: `sqlite:${join(dir, "kindred.sqlite")}`,
    DATA_DIR: dir,
    LOG_LEVEL: "warning",
    // The two instances federate over loopback, which Kindred refuses by default.
    ALLOW_PRIVATE_ADDRESS: "true",
  };
  const { child, output } = spawnServer(env);
  const instance: Instance = { name, port, origin, host: `127.0.0.1:${port}`, dir, env, child, output };
  await waitUntilServing(origin, child, output, 30_000, `kindred ${name}`);
  return instance;
}

describe.skipIf(!chromiumAvailable)(
  "browser federation: two self-hosted instances, a community and a conversation across them",
  () => {
    let a: Instance | undefined;
    let b: Instance | undefined;
    let browser: Browser | undefined;
    /** Every URL any page asked for, with the origin of the instance that page belongs to. */
    const requested: { own: string; url: string }[] = [];
    /** Console errors, uncaught page errors, failed requests and HTTP errors. */
    const pageProblems: string[] = [];

    beforeAll(async () => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const [startedA, startedB, launched] = await Promise.all([
        startInstance("a"),
        startInstance("b"),
        launchChromium(),
      ]);
      a = startedA;
      b = startedB;
      browser = launched;
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await Promise.all([stopProcess(a?.child), stopProcess(b?.child)]);
      for (const i of [a, b]) if (i) rmSync(i.dir, { recursive: true, force: true });
    }, 30_000);

    /** A browser profile of a member of `instance`: its pages must only ever talk to that instance. */
    async function newContext(instance: Instance): Promise<BrowserContext> {
      const context = await browser!.newContext({ colorScheme: "light", viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(15_000);
      context.on("request", (r) => requested.push({ own: instance.origin, url: r.url() }));
      context.on("page", (p) => watch(p));
      return context;
    }

    function watch(page: Page) {
      page.on("console", (m) => {
        if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
          pageProblems.push(`${page.url()}: console error: ${m.text()}`);
      });
      page.on("pageerror", (e) => pageProblems.push(`${page.url()}: page error: ${e.message}`));
      page.on("response", (r) => {
        if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico")
          pageProblems.push(`${page.url()}: HTTP ${r.status()} for ${r.url()}`);
      });
      page.on("requestfailed", (r) => {
        // Chromium fetches the icon after the load event; navigating on (polling
        // reloads, clicks) cancels that fetch, which is not a problem of the page.
        if (r.failure()?.errorText === "net::ERR_ABORTED" && new URL(r.url()).pathname === "/static/icon.svg") return;
        pageProblems.push(`${page.url()}: request failed: ${r.url()} (${r.failure()?.errorText})`);
      });
    }

    const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });

    /**
     * Federation is asynchronous (queued deliveries): reloads `url` until `ready`
     * holds or the deadline passes. The short pause only paces the reloads.
     */
    async function pollPage(
      page: Page,
      url: string,
      what: string,
      ready: () => Promise<boolean>,
      timeoutMs = 20_000,
    ): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await page.goto(url);
        if (await ready()) return;
        if (Date.now() > deadline) {
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} at ${url}\n--- A ---\n${a?.output()}\n--- B ---\n${b?.output()}`,
          );
        }
        await delay(250);
      }
    }

    const visible = async (l: Locator) => (await l.count()) > 0 && (await l.first().isVisible());

    it("B's member joins A's community, reads, replies, posts and likes there, and exchanges direct messages with A's admin", {
      timeout: 180_000,
    }, async () => {
      const A = a!;
      const B = b!;

      // ================= instance A: the admin opens a community =================
      const created = await runCli(
        A.env,
        ["user", "create", "admin", "--admin", "--password-stdin"],
        `${ADMIN_PASSWORD}\n`,
      );
      expect(created.code, `kindred user create failed:\n${created.stdout}${created.stderr}`).toBe(0);

      const adminContext = await newContext(A);
      const admin = await adminContext.newPage();
      await admin.goto(`${A.origin}/login`);
      await admin.fill("#username", "admin");
      await admin.fill("#password", ADMIN_PASSWORD);
      await admin.locator("main form").getByRole("button", { name: "Log in" }).click();
      await admin.waitForURL(`${A.origin}/`);
      expect(await admin.locator("header.site").textContent()).toContain("@admin");

      await admin.getByRole("link", { name: "Create a community" }).click();
      await admin.waitForURL(`${A.origin}/communities/new`);
      await admin.fill("#slug", "long-covid");
      await admin.fill("#name", "Long COVID");
      await admin.fill("#description", "Peer support for people living with **long COVID**.");
      await admin.fill("#rules", "1. Be kind.\n2. Share experience, not medical advice.");
      await admin.getByRole("button", { name: "Create community" }).click();
      await admin.waitForURL(`${A.origin}/@long-covid`);
      expect(await admin.locator("main h1").textContent()).toBe("Long COVID");

      async function postThread(
        page: Page,
        origin: string,
        communityPath: string,
        thread: { title: string; body: string; cw?: string },
      ): Promise<string> {
        await page.goto(`${origin}${communityPath}`);
        await page.getByRole("link", { name: "New thread" }).click();
        await page.waitForURL(`${origin}${communityPath}/submit`);
        await page.fill("#title", thread.title);
        await page.fill("#body", thread.body);
        if (thread.cw) await page.fill("#cw", thread.cw);
        await page.getByRole("button", { name: "Post thread" }).click();
        await page.waitForURL(new RegExp(`^${origin.replace(/[.]/g, "\\.")}/posts/[0-9a-f-]{36}$`));
        expect(await page.locator("main h1").textContent()).toBe(thread.title);
        return page.url();
      }

      const pacingUrl = await postThread(admin, A.origin, "/@long-covid", {
        title: "Pacing tips",
        body: "Rest **before** you feel tired. Keep a symptom diary.",
        cw: "post-exertional malaise",
      });
      expect(await admin.locator("article.thread details.cw > summary").textContent()).toBe(
        "Content warning: post-exertional malaise",
      );

      // ================= instance B: bob signs up and finds A's community =================
      const bobContext = await newContext(B);
      const bob = await bobContext.newPage();
      await bob.goto(`${B.origin}/signup`);
      await bob.fill("#username", "bob");
      await bob.fill("#password", BOB_PASSWORD);
      await bob.getByRole("button", { name: "Sign up" }).click();
      await bob.waitForURL(`${B.origin}/welcome`);
      await bob.getByRole("link", { name: "I have saved them: continue" }).click();
      await bob.waitForURL(`${B.origin}/`);
      expect(await bob.locator("header.site").textContent()).toContain("@bob");

      // Types A's community URL into the header search box and submits.
      await bob.fill("#site-search", `${A.origin}/@long-covid`);
      await bob.press("#site-search", "Enter");
      const remoteCommunityPath = `/@long-covid@${A.host}`;
      const remoteCommunityUrl = `${B.origin}${remoteCommunityPath}`;
      await bob.waitForURL(remoteCommunityUrl);
      expect(await bob.locator("main h1").textContent()).toBe("Long COVID");
      expect(await bob.locator("header.community .meta").textContent()).toContain(`hosted on ${A.host}`);

      // Joining a remote community is a Follow, pending until A accepts it.
      await bob.getByRole("button", { name: "Join", exact: true }).click();
      await bob.waitForURL(remoteCommunityUrl);
      const leave = bob.locator("header.community").getByRole("button", { name: "Leave" });
      await pollPage(bob, remoteCommunityUrl, "the join to be accepted (Leave button)", () => visible(leave));

      // A's admin sees bob counted as a member on A.
      await pollPage(admin, `${A.origin}/@long-covid`, "bob counted as a member on A", async () =>
        ((await admin.locator("header.community .meta").textContent()) ?? "").includes("2 members"),
      );

      // ---- a new thread on A reaches B ----
      const sleepTitle = "Sleep after a crash";
      const sleepUrlOnA = await postThread(admin, A.origin, "/@long-covid", {
        title: sleepTitle,
        body: "What helps you sleep in the week after a crash? For me: dark room, no screens after 9.",
        cw: "insomnia",
      });
      const sleepLinkOnB = bob.locator("section.threads article.thread-summary h3 a", { hasText: sleepTitle });
      await pollPage(bob, remoteCommunityUrl, `"${sleepTitle}" on B's copy of the community`, () =>
        visible(sleepLinkOnB),
      );
      const sleepSummaryOnB = bob.locator("section.threads article.thread-summary", { hasText: sleepTitle });
      expect(await sleepSummaryOnB.locator(".meta .handle").textContent()).toBe(`@admin@${A.host}`);
      expect(await sleepSummaryOnB.locator(".cw-note").textContent()).toBe("Content warning: insomnia");
      await shot(bob, "fed-01-remote-community-on-b.png");

      // ---- bob opens it on B and replies; the reply reaches A ----
      await sleepLinkOnB.click();
      await bob.waitForURL(new RegExp(`^${B.origin.replace(/[.]/g, "\\.")}/posts/[0-9a-f-]{36}$`));
      const sleepUrlOnB = bob.url();
      expect(await bob.locator("main h1").textContent()).toBe(sleepTitle);
      // The content warning travelled with the thread: B hides the body behind it too.
      const cwOnB = bob.locator("article.thread details.cw");
      expect(await cwOnB.locator(":scope > summary").textContent()).toBe("Content warning: insomnia");
      expect(await cwOnB.locator(".content").isVisible()).toBe(false);
      await cwOnB.locator(":scope > summary").click();
      await cwOnB.locator(".content").waitFor({ state: "visible" });
      expect(await cwOnB.locator(".content").textContent()).toContain("dark room, no screens");
      const bobReply = "Earplugs and an eye mask. And I stopped checking the clock at night.";
      const rootForm = bob.locator("section.discussion > form.reply-form");
      await rootForm.getByLabel("Your reply").fill(bobReply);
      await rootForm.getByRole("button", { name: "Reply" }).click();
      await bob.waitForURL((u) => u.href.startsWith(sleepUrlOnB));
      expect(
        await bob.locator("section.discussion > ol.replies > li article.reply .content").first().textContent(),
      ).toContain("Earplugs and an eye mask");

      const replyOnA = admin.locator("section.discussion > ol.replies > li > article.reply", {
        hasText: "Earplugs and an eye mask",
      });
      await pollPage(admin, sleepUrlOnA, "bob's reply on A's thread page", () => visible(replyOnA));
      expect(await replyOnA.locator(".meta .handle").textContent()).toBe(`@bob@${B.host}`);
      expect(await admin.locator("#replies-h").textContent()).toBe("1 reply");
      await shot(admin, "fed-02-thread-on-a-with-bobs-reply.png");

      // ---- bob posts a new thread into the remote community; it reaches A ----
      const bobTitle = "Returning to work part-time";
      await bob.goto(remoteCommunityUrl);
      await bob.getByRole("link", { name: "New thread" }).click();
      await bob.waitForURL(`${remoteCommunityUrl}/submit`);
      await bob.fill("#title", bobTitle);
      await bob.fill("#body", "I'm trying two mornings a week. Has anyone negotiated a phased return?");
      await bob.getByRole("button", { name: "Post thread" }).click();
      await bob.waitForURL(new RegExp(`^${B.origin.replace(/[.]/g, "\\.")}/posts/[0-9a-f-]{36}$`));
      expect(await bob.locator("main h1").textContent()).toBe(bobTitle);

      const bobThreadOnA = admin.locator("section.threads article.thread-summary", { hasText: bobTitle });
      await pollPage(admin, `${A.origin}/@long-covid`, "bob's thread on A's community page", () =>
        visible(bobThreadOnA),
      );
      expect(await bobThreadOnA.locator(".meta .handle").textContent()).toBe(`@bob@${B.host}`);

      // ---- bob likes A's thread on B; A counts the like ----
      await bob.goto(sleepUrlOnB);
      const likeForm = bob.locator("article.thread footer.post-actions form");
      await likeForm.getByRole("button", { name: "Like" }).click();
      await bob.waitForURL((u) => u.href.startsWith(sleepUrlOnB));
      expect(
        await bob
          .locator("article.thread footer.post-actions")
          .getByRole("button", { name: "Unlike" })
          .getAttribute("aria-pressed"),
      ).toBe("true");
      expect(await bob.locator("article.thread footer.post-actions .likes").textContent()).toBe("1");

      const likesOnA = admin.locator("article.thread footer.post-actions .likes");
      await pollPage(
        admin,
        sleepUrlOnA,
        "bob's like counted on A",
        async () => (await likesOnA.textContent())?.trim() === "1",
      );

      // The earlier thread with its content warning is still intact on A.
      await admin.goto(pacingUrl);
      expect(await admin.locator("main h1").textContent()).toBe("Pacing tips");

      // ================= direct messages across the two instances =================
      await bob.goto(`${B.origin}/`);
      await bob.fill("#site-search", `${A.origin}/@admin`);
      await bob.press("#site-search", "Enter");
      const remoteAdminUrl = `${B.origin}/@admin@${A.host}`;
      await bob.waitForURL(remoteAdminUrl);
      expect(await bob.locator("header.profile .meta").first().textContent()).toContain(`@admin@${A.host}`);
      await bob.locator("header.profile").getByRole("link", { name: "Message", exact: true }).click();
      const conversationOnB = `${B.origin}/messages/admin@${A.host}`;
      await bob.waitForURL(conversationOnB);
      const bobMessage = "Hi! Thanks for running the long COVID community. Could you pin the pacing thread?";
      await bob.fill("#body", bobMessage);
      await bob.getByRole("button", { name: "Send" }).click();
      await bob.waitForURL(conversationOnB);
      expect(await bob.locator("ol.messages > li.message.mine").last().textContent()).toContain(
        "Could you pin the pacing thread?",
      );

      // On A, the admin opens Messages and finds bob's conversation.
      await admin.goto(`${A.origin}/`);
      await admin.locator("header.site").getByRole("link", { name: "Messages" }).click();
      await admin.waitForURL(`${A.origin}/messages`);
      const bobConversationLink = admin.locator("main ul.plain li", { hasText: `@bob@${B.host}` }).getByRole("link");
      await pollPage(admin, `${A.origin}/messages`, "bob's conversation in A's admin's inbox", () =>
        visible(bobConversationLink),
      );
      await bobConversationLink.click();
      const conversationOnA = `${A.origin}/messages/bob@${B.host}`;
      await admin.waitForURL(conversationOnA);
      const theirs = admin.locator("ol.messages > li.message:not(.mine)");
      expect(await theirs.count()).toBe(1);
      expect(await theirs.first().textContent()).toContain("Could you pin the pacing thread?");

      const adminReply = "Glad it helps, Bob. Pinning it now — take care of yourself.";
      await admin.fill("#body", adminReply);
      await admin.getByRole("button", { name: "Send" }).click();
      await admin.waitForURL(conversationOnA);
      expect(await admin.locator("ol.messages > li.message.mine").last().textContent()).toContain("Pinning it now");
      await shot(admin, "fed-03-dm-conversation-on-a.png");

      // Bob sees the reply on B.
      const replyOnB = bob.locator("ol.messages > li.message:not(.mine)", { hasText: "Pinning it now" });
      await pollPage(bob, conversationOnB, "the admin's DM reply on B", () => visible(replyOnB));
      await shot(bob, "fed-04-dm-conversation-on-b.png");

      await adminContext.close();
      await bobContext.close();

      // ================= each page only talked to its own instance =================
      expect(requested.filter((r) => r.own === A.origin).length).toBeGreaterThan(10);
      expect(requested.filter((r) => r.own === B.origin).length).toBeGreaterThan(10);
      expect(requested.filter((r) => !r.url.startsWith(`${r.own}/`))).toEqual([]);
      expect(pageProblems).toEqual([]);
      expect(exited(A.child), `instance A died:\n${A.output()}`).toBe(false);
      expect(exited(B.child), `instance B died:\n${B.output()}`).toBe(false);
    });
  },
);
