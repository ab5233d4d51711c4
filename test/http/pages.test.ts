// Every page over real HTTP: strict CSP, nothing loaded from other hosts, no
// scripts, CSRF tokens in every form; the 404 page; NodeInfo and WebFinger
// with real figures. Headers and markup do not depend on the database, so
// this file runs on SQLite only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReply } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { countRows, forms, loggedIn, seedCommunity, seedThread, seedUser, tinyPng } from "../helpers/seed.ts";

describe("pages (sqlite)", () => {
  let instance: TestInstance;
  let host: string;
  let threadId: string;
  let member: WebClient;
  let admin: WebClient;
  let anonymous: WebClient;
  const USERS = ["page_admin", "pat", "quinn"];

  beforeAll(async () => {
    instance = await startTestInstance({ dialect: "sqlite" });
    host = new URL(instance.url).host;
    const boss = await seedUser(instance, "page_admin", { role: "admin" });
    const pat = await seedUser(instance, "pat");
    await seedUser(instance, "quinn");
    const community = await seedCommunity(instance, boss, {
      slug: "sunrise",
      name: "Sunrise",
      description: "Mornings. ![tracker](https://tracker.example/pixel.png)",
      rules: "Be [kind](https://example.org/kindness).",
    });
    await seedCommunity(instance, boss, { slug: "night_owls", name: "Night owls", visibility: "members" });
    // User-written Markdown that points elsewhere: an image must never load from there.
    const thread = await seedThread(
      instance,
      community,
      pat,
      "First light",
      "Dawn walks help. #dawn\n\n![pixel](https://tracker.example/p.gif) [a link](https://example.org/)",
    );
    threadId = thread.id;
    await seedThread(instance, community, boss, "Second thread", "Evenings too.");
    await createReply(instance.runtime.db, instance.url, community, boss.actorId, threadId, {
      body: "Welcome! ![x](http://tracker.example/reply.png)",
    });

    [member, admin] = await Promise.all([loggedIn(instance, "pat"), loggedIn(instance, "page_admin")]);
    anonymous = new WebClient(instance.url);
    // An avatar, so the profile and settings pages carry an <img>.
    await member.get("/settings");
    const form = new FormData();
    form.set("displayName", "Pat");
    form.set("bio", "Early riser. ![me](https://tracker.example/bio.png)");
    form.set("email", "");
    form.set("avatar", new File([tinyPng()], "pat.png", { type: "image/png" }));
    expect((await member.postMultipart("/settings/profile", form)).status).toBe(303);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const pages = () =>
    [
      ["anonymous", "/", () => anonymous],
      ["anonymous", "/about", () => anonymous],
      ["anonymous", "/signup", () => anonymous],
      ["anonymous", "/login", () => anonymous],
      ["anonymous", "/@sunrise", () => anonymous],
      ["anonymous", "/@night_owls", () => anonymous],
      ["anonymous", `/posts/${threadId}`, () => anonymous],
      ["anonymous", "/@pat", () => anonymous],
      ["anonymous", "/tags/dawn", () => anonymous],
      ["member", "/", () => member],
      ["member", "/@sunrise", () => member],
      ["member", `/posts/${threadId}`, () => member],
      ["member", `/posts/${threadId}/edit`, () => member],
      ["member", "/@pat", () => member],
      ["member", "/tags/dawn", () => member],
      ["member", "/settings", () => member],
      ["member", "/@sunrise/submit", () => member],
      ["admin", "/@pat", () => admin],
      ["admin", "/communities/new", () => admin],
      ["admin", "/@sunrise/moderation", () => admin],
      ["admin", "/@sunrise/settings", () => admin],
    ] as const;

  /** Every src/href of <link>, <script> and <img> tags that points to another host. */
  function foreignResources(html: string): string[] {
    const out: string[] = [];
    for (const tag of html.matchAll(/<(?:link|script|img)\b[^>]*>/gi)) {
      for (const attr of tag[0].matchAll(/\b(?:src|href|srcset)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
        const value = (attr[1] ?? attr[2] ?? attr[3] ?? "").trim();
        if (/^(?:[a-z][a-z0-9+.-]*:)?\/\//i.test(value) && new URL(value, instance.url).host !== host)
          out.push(`${tag[0]}`);
      }
    }
    return out;
  }

  it("every page is served with a strict Content-Security-Policy, loads nothing from other hosts, has no scripts, and every POST form carries a CSRF token", async () => {
    let checked = 0;
    for (const [who, path, web] of pages()) {
      const client = web();
      const res = await client.get(path, { accept: "text/html" });
      const where = `${who} GET ${path}`;
      expect(res.status, where).toBe(200);
      expect(res.headers.get("content-type"), where).toMatch(/^text\/html/);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, where).toContain("default-src 'none'");
      expect(csp, where).not.toMatch(/script-src/);
      expect(res.headers.get("x-content-type-options"), where).toBe("nosniff");
      expect(foreignResources(res.text), where).toEqual([]);
      expect(res.text, where).not.toMatch(/<script/i);
      expect(res.text, where).not.toMatch(/\son[a-z]+\s*=/i);
      const posts = forms(res.text).filter((f) => /^<form\b[^>]*\bmethod="post"/i.test(f));
      for (const form of posts) {
        expect(form, `${where}: ${form.slice(0, 120)}`).toMatch(
          /<input type="hidden" name="_csrf" value="[\w-]{20,}">/,
        );
        expect(form, where).toContain(`value="${client.csrf}"`);
      }
      if (who !== "anonymous") expect(posts.length, `${where} has at least the log-out form`).toBeGreaterThan(0);
      checked++;
    }
    expect(checked).toBe(pages().length);
  });

  it("drops user-written images that point elsewhere instead of loading them", async () => {
    const thread = await anonymous.get(`/posts/${threadId}`, { accept: "text/html" });
    expect(thread.text).toContain("Dawn walks help.");
    expect(thread.text).not.toContain('tracker.example/p.gif"');
    expect(thread.text).not.toMatch(/<img[^>]*tracker\.example/);
    expect(thread.text).toContain('<a href="https://example.org/" rel="nofollow noopener noreferrer">a link</a>');
    const profile = await anonymous.get("/@pat", { accept: "text/html" });
    expect(profile.text).toMatch(
      new RegExp(`<img class="avatar large" src="${instance.url}/media/avatars/[0-9a-f-]{36}\\.png"`),
    );
    expect(profile.text).not.toMatch(/<img[^>]*tracker\.example/);
  });

  it("serves the stylesheet from this host under the same policy", async () => {
    const res = await fetch(new URL("/static/style.css", instance.url));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await res.text()).not.toMatch(/url\(\s*['"]?(?:https?:)?\/\//i);
  });

  it("answers an unknown path with the 404 page", async () => {
    const res = await anonymous.get("/no/such/page", { accept: "text/html" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.text).toContain("<h1>Not found</h1>");
    expect(res.text).toContain("There is nothing at this address.");
  });

  it("answers an unknown name or post with a 404 page too", async () => {
    for (const path of ["/@nobody_at_all", "/posts/01a20f00-0000-7000-8000-000000000000", "/tags/nothing-here-yet"]) {
      const res = await anonymous.get(path, { accept: "text/html" });
      if (path.startsWith("/tags/")) {
        // A tag nobody used is an empty listing, not an error.
        expect(res.status, path).toBe(200);
        expect(res.text).toContain("No public posts with this tag.");
        continue;
      }
      expect(res.status, path).toBe(404);
      expect(res.text, path).toContain("<h1>Not found</h1>");
    }
  });

  it("publishes NodeInfo with the real number of users and threads", async () => {
    const discovery = await fetch(new URL("/.well-known/nodeinfo", instance.url));
    expect(discovery.status).toBe(200);
    const links = ((await discovery.json()) as { links: { rel: string; href: string }[] }).links;
    const link = links.find((l) => l.rel === "http://nodeinfo.diaspora.software/ns/schema/2.1");
    expect(link?.href).toBe(`${instance.url}/nodeinfo/2.1`);

    const res = await fetch(link!.href);
    expect(res.status).toBe(200);
    const info = (await res.json()) as {
      software: { name: string };
      protocols: string[];
      openRegistrations: boolean;
      usage: { users: { total: number }; localPosts: number; localComments: number };
    };
    expect(info.software.name).toBe("kindred");
    expect(info.protocols).toEqual(["activitypub"]);
    expect(info.openRegistrations).toBe(true);
    expect(info.usage.users.total).toBe(USERS.length);
    expect(info.usage.users.total).toBe(await countRows(instance, "users"));
    expect(info.usage.localPosts).toBe(2);
    expect(info.usage.localComments).toBe(1);
  });

  it("resolves WebFinger acct: handles for a community and for a user", async () => {
    for (const [name, resource] of [
      ["sunrise", `acct:sunrise@${host}`],
      ["pat", `acct:pat@${host}`],
      ["pat", `acct:PAT@${host}`],
    ] as const) {
      const res = await fetch(new URL(`/.well-known/webfinger?resource=${encodeURIComponent(resource)}`, instance.url));
      expect(res.status, resource).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/jrd\+json/);
      const jrd = (await res.json()) as { subject: string; links: { rel: string; type?: string; href?: string }[] };
      expect(jrd.subject.toLowerCase()).toBe(`acct:${name}@${host}`);
      expect(jrd.links).toContainEqual({
        rel: "self",
        type: "application/activity+json",
        href: `${instance.url}/@${name}`,
      });
      const actor = await fetch(`${instance.url}/@${name}`, { headers: { accept: "application/activity+json" } });
      expect(actor.status).toBe(200);
      expect(((await actor.json()) as { type: string }).type).toBe(name === "sunrise" ? "Group" : "Person");
    }
    for (const resource of [`acct:nobody@${host}`, `acct:sunrise@elsewhere.example`]) {
      const res = await fetch(new URL(`/.well-known/webfinger?resource=${encodeURIComponent(resource)}`, instance.url));
      expect(res.status, resource).toBe(404);
    }
  });
});
