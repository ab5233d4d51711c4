// Issue 10, part C, written as the attacks: a block of our own host, a post
// carrying 17,000 hashtags, and form bodies that are not what they claim.
// Real instances over real HTTP, the real CLI in process, a Mastodon-shaped peer.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_TAGS_PER_POST } from "../../src/posts/remote.ts";
import { ORIGIN, runMain } from "../helpers/cli.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { eventually } from "../helpers/federation.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor } from "../helpers/peer.ts";
import { alertText, loggedIn, seedCommunity, seedUser, unescapeHtml } from "../helpers/seed.ts";
import { mastodonNote } from "../policy/support.ts";

const HEADER = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate";

describe("a domain block of our own host", () => {
  describe("from the CLI", () => {
    let dir: string;
    let database: TestDatabase;
    let env: Record<string, string>;
    const own = new URL(ORIGIN).host;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "kindred-own-host-"));
      database = await freshDatabase("sqlite");
      env = { DATABASE_URL: database.url, DATA_DIR: dir, LOG_LEVEL: "error" };
    });
    afterAll(async () => {
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("refuses `domain-block add` of it, however it is spelled, with one line and exit 1", async () => {
      for (const spelling of [own, own.toUpperCase(), `${ORIGIN}/`]) {
        const add = await runMain(env, ["domain-block", "add", spelling, "--severity", "suspend"]);
        expect(add.code, spelling).toBe(1);
        expect(add.stderr).toBe(`kindred: ${own} is this instance's own host: it cannot be blocked\n`);
        expect(add.stdout).toBe("");
      }
      expect(await database.db.selectFrom("domain_blocks").selectAll().execute()).toEqual([]);
    });

    it("rejects the row of an imported list naming it, by line, and applies the others", async () => {
      const path = join(dir, "list.csv");
      writeFileSync(path, `${HEADER}\n${own},suspend,false,false,,false\nspam.example,suspend,false,false,,false\n`);
      const run = await runMain(env, ["domain-block", "import", path]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe(`kindred: line 2: ${own} is this instance's own host: it cannot be blocked\n`);
      expect(run.stdout).toContain("applied 1 changes");
      expect(run.stdout).toContain("1 rejected rows");
      const rows = await database.db.selectFrom("domain_blocks").select("domain").execute();
      expect(rows).toEqual([{ domain: "spam.example" }]);
    });
  });

  describe("from the admin pages", () => {
    let instance: TestInstance;
    let own: string;

    beforeAll(async () => {
      instance = await startTestInstance();
      own = new URL(instance.url).host;
      await seedUser(instance, "admin", { role: "admin" });
    });
    afterAll(async () => {
      await instance?.stop();
    });

    const blocked = () => instance.runtime.db.selectFrom("domain_blocks").select("domain").orderBy("domain").execute();

    it("answers the block form with 422 and the reason, and blocks nothing", async () => {
      const admin = await loggedIn(instance, "admin");
      await admin.get("/admin/federation");
      const res = await admin.post("/admin/federation/blocks", { domain: own, severity: "suspend" });
      expect(res.status).toBe(422);
      expect(alertText(res.text)).toBe(`${own} is this instance's own host: it cannot be blocked`);
      expect(await blocked()).toEqual([]);
    });

    it("lists it among the rejected rows of an import, by line, and imports the others", async () => {
      const admin = await loggedIn(instance, "admin");
      await admin.get("/admin/federation");
      const csv = `${HEADER}\nspam.example,silence,false,false,,false\n${own},suspend,false,false,,false\n`;
      const form = new FormData();
      form.set("csv", new File([csv], "blocks.csv", { type: "text/csv" }));
      const review = await admin.postMultipart("/admin/federation/import", form);
      expect(review.status).toBe(200);
      expect(unescapeHtml(review.text)).toContain(`Line 3: ${own} is this instance's own host: it cannot be blocked`);
      const confirm = await admin.post("/admin/federation/import/confirm", { csv });
      expect(confirm.status).toBe(200);
      expect(unescapeHtml(confirm.text)).toContain("Imported 1 blocks (1 rows rejected)");
      expect(await blocked()).toEqual([{ domain: "spam.example" }]);
    });
  });
});

describe.each(dialects)("a remote post with 17,000 hashtags (%s)", (dialect) => {
  let instance: TestInstance;
  let mastodon: Peer;
  let ada: PeerActor;
  let communityIri: string;

  beforeAll(async () => {
    [instance, mastodon] = await Promise.all([startTestInstance({ dialect }), Peer.start("mastodon")]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    communityIri = (await seedCommunity(instance, admin, { slug: "pacing", name: "Pacing" })).iri;
    ada = await mastodon.addActor("ada");
  });
  afterAll(async () => {
    await mastodon?.stop();
    await instance?.stop();
  });

  it("is stored with its text, keeping the first 100 tags", async () => {
    const create = mastodonNote(mastodon, ada, {
      text: "Seventeen thousand tags 4b1e",
      mentioned: { iri: communityIri, name: "pacing" },
    });
    // As Mastodon tags them, the first with its link; the rest without, so the
    // activity stays under our 1 MiB body limit.
    const hashtags = Array.from({ length: 17_000 }, (_, i) => ({ type: "Hashtag", name: `#t${i}` }));
    create.object.tag = [...create.object.tag, ...hashtags];
    const sent = await mastodon.send(ada, `${instance.url}/inbox`, create);
    expect(sent.status, sent.text).toBe(202);

    const db = instance.runtime.db;
    // Reading 17,000 tags takes Fedify seconds: a generous deadline, never a timing assertion.
    const post = await eventually(
      "the post to be stored",
      () =>
        db.selectFrom("posts").select(["id", "content_html"]).where("iri", "=", create.object.id).executeTakeFirst(),
      120_000,
    );
    expect(post.content_html).toContain("Seventeen thousand tags 4b1e");
    const tags = await db.selectFrom("post_tags").select("tag").where("post_id", "=", post.id).execute();
    expect(tags).toHaveLength(MAX_TAGS_PER_POST);
    // The fixture's own #pacing comes first, then t0, t1, …
    expect(new Set(tags.map((t) => t.tag))).toEqual(
      new Set(["pacing", ...Array.from({ length: MAX_TAGS_PER_POST - 1 }, (_, i) => `t${i}`)]),
    );
  }, 180_000);
});

describe("form bodies that are not what they claim", () => {
  let instance: TestInstance;

  beforeAll(async () => {
    instance = await startTestInstance();
    await seedUser(instance, "admin", { role: "admin" });
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const truncated = '--XyZ\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nAda';
  const cases: [string, string, string][] = [
    ["multipart/form-data", truncated, "it is multipart/form-data without a boundary"],
    ["multipart/form-data; boundary=XyZ", truncated, "its multipart body is malformed or cut short"],
    ["multipart/form-data; boundary=other", "not a multipart body at all", "its multipart body is malformed"],
  ];

  it("answers 400 with the reason, on the avatar upload, the log-in and the block-list import", async () => {
    const admin = await loggedIn(instance, "admin");
    for (const path of ["/settings/profile", "/login", "/admin/federation/import"]) {
      for (const [contentType, body, reason] of cases) {
        const res = await admin.request("POST", path, body, { "content-type": contentType });
        expect(res.status, `${path} ${contentType}`).toBe(400);
        expect(unescapeHtml(res.text)).toContain(`the form could not be read: ${reason}`);
      }
    }
    // Nothing broke: the same client still gets its pages and can still save its profile.
    expect((await admin.get("/settings")).status).toBe(200);
    const form = new FormData();
    form.set("displayName", "Admin");
    form.set("bio", "");
    expect((await admin.postMultipart("/settings/profile", form)).status).toBe(303);
  });
});
