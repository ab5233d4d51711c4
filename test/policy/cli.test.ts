// The domain-policy CLI: the commands run in this process through `main`
// against a temporary SQLite database, which is then checked directly; one
// round trip runs `node src/cli/bin.ts` for real.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../db/schema.ts";
import { getSettings } from "../../src/instance/settings.ts";
import { listDomainAllows, listDomainBlocks } from "../../src/policy/service.ts";
import { type CliResult, ORIGIN, runMain, SPAWN_TIMEOUT, spawnCli } from "../helpers/cli.ts";
import { freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { countFollows, seedFollow, seedLocalUser, seedRemoteActor } from "./support.ts";

const HEADER_LINE = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate";

describe("kindred domain-block / domain-allow / federation mode", () => {
  let dir: string;
  let database: TestDatabase;
  let db: Db;
  let env: Record<string, string>;

  /** Runs the CLI in process against this suite's database. */
  const cli = (...args: string[]): Promise<CliResult> => runMain(env, args);
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kindred-policy-cli-"));
    database = await freshDatabase("sqlite");
    db = database.db;
    env = { DATABASE_URL: database.url, DATA_DIR: dir, LOG_LEVEL: "error" };
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await db.deleteFrom("domain_blocks").execute();
    await db.deleteFrom("domain_allows").execute();
  });

  it("adds, lists and removes a block", async () => {
    const add = await cli(
      "domain-block",
      "add",
      "*.Spam.Example.",
      "--severity",
      "silence",
      "--reject-media",
      "--public-comment",
      "Spam, mostly",
      "--private-comment",
      "ticket 7",
      "--obfuscate",
    );
    expect(add.stderr).toBe("");
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^blocked .*\(silence\)\n$/);
    expect(await listDomainBlocks(db)).toEqual([
      expect.objectContaining({
        domain: "spam.example",
        severity: "silence",
        reject_media: 1,
        reject_reports: 0,
        public_comment: "Spam, mostly",
        private_comment: "ticket 7",
        obfuscate: 1,
      }),
    ]);

    const update = await cli("domain-block", "add", "spam.example", "--severity", "suspend", "--reject-reports");
    expect(update.code).toBe(0);
    expect(update.stdout).toBe("updated block of spam.example (suspend); purged 0 actors, 0 posts, 0 follows\n");

    const list = await cli("domain-block", "list");
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^DOMAIN\s+SEVERITY\s+MEDIA\s+REPORTS\s+OBFUSCATE\s+PUBLIC COMMENT$/);
    // The update kept the comment it did not mention.
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/))).toEqual([
      ["spam.example", "suspend", "-", "rejected", "no", "Spam, mostly"],
    ]);

    const remove = await cli("domain-block", "remove", "SPAM.example");
    expect(remove.code).toBe(0);
    expect(remove.stdout).toBe("unblocked SPAM.example\n");
    expect(await listDomainBlocks(db)).toEqual([]);
    const again = await cli("domain-block", "remove", "spam.example");
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("kindred: block of spam.example not found\n");
  });

  it("suspends with a purge and says what it purged", async () => {
    const lena = await seedLocalUser(db, ORIGIN, "lena");
    await seedFollow(db, await seedRemoteActor(db, "purged.example", "pat"), lena.actorId);
    expect(await countFollows(db)).toBe(1);
    const add = await cli("domain-block", "add", "purged.example", "--severity", "suspend");
    expect(add.code).toBe(0);
    expect(add.stdout).toBe("blocked purged.example (suspend); purged 1 actors, 0 posts, 1 follows\n");
    expect(await countFollows(db)).toBe(0);
  });

  it("refuses a bad or missing severity with exit 2 and the reason, writing nothing", async () => {
    const bad = await cli("domain-block", "add", "x.example", "--severity", "ban");
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr.split("\n")[0]).toBe("kindred: --severity must be suspend, silence or noop");
    const missing = await cli("domain-block", "add", "x.example");
    expect(missing.code).toBe(2);
    expect(missing.stderr.split("\n")[0]).toMatch(/^kindred: .*--severity/);
    expect(await listDomainBlocks(db)).toEqual([]);
  });

  it("refuses a bad domain with exit 1, naming it", async () => {
    const bad = await cli("domain-block", "add", "not a domain", "--severity", "suspend");
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toBe('kindred: domain: "not a domain" is not a domain name\n');
    expect(await listDomainBlocks(db)).toEqual([]);
  });

  it("import --dry-run prints the plan and the rejected rows, and writes nothing", async () => {
    await db
      .insertInto("domain_blocks")
      .values({
        domain: "old.example",
        severity: "silence",
        reject_media: 0,
        reject_reports: 0,
        public_comment: null,
        private_comment: null,
        obfuscate: 0,
        created_at: "2025-01-01T00:00:00Z",
        updated_at: "2025-01-01T00:00:00Z",
      })
      .execute();
    const lena = await seedLocalUser(db, ORIGIN, "lena2");
    await seedFollow(db, await seedRemoteActor(db, "new.example", "nia"), lena.actorId);
    const before = await countFollows(db);
    const path = file(
      "dry.csv",
      `${[
        HEADER_LINE,
        "new.example,suspend,false,false,,false",
        "bad domain,suspend,false,false,,false",
        "old.example,suspend,true,false,Worse now,false",
        "sub.old.example,silence,false,false,,false",
        "x.example,ban,false,false,,false",
      ].join("\n")}\n`,
    );
    const dry = await cli("domain-block", "import", path, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stderr).toBe(
      'kindred: line 3: "bad domain" is not a domain name\nkindred: line 6: severity "ban" is not suspend, silence or noop\n',
    );
    expect(dry.stdout).toBe(
      [
        "new       new.example suspend (cuts 1 local follows)",
        "changed   old.example suspend",
        "covered   sub.old.example silence (covered by old.example)",
        "dry run: 2 changes, 2 rejected rows; nothing written",
        "",
      ].join("\n"),
    );
    expect((await listDomainBlocks(db)).map((b) => [b.domain, b.severity])).toEqual([["old.example", "silence"]]);
    expect(await countFollows(db)).toBe(before);
  });

  it("import applies the good rows and reports the rejected ones by line on stderr", async () => {
    const path = file(
      "apply.csv",
      `${[
        HEADER_LINE,
        "good.example,suspend,false,false,Spam,false",
        ",suspend,false,false,,false",
        'fine.example,silence,true,false,"Bots, mostly",true',
      ].join("\n")}\n`,
    );
    const run = await cli("domain-block", "import", path);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('kindred: line 3: "" is not a domain name\n');
    expect(run.stdout).toContain("new       good.example suspend\n");
    expect(run.stdout).toContain("new       fine.example silence\n");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe(
      "applied 2 changes; purged 0 actors, 0 posts, 0 follows; 1 rejected rows",
    );
    expect(
      (await listDomainBlocks(db)).map((b) => [b.domain, b.severity, b.reject_media, b.public_comment, b.obfuscate]),
    ).toEqual([
      ["fine.example", "silence", 1, "Bots, mostly", 1],
      ["good.example", "suspend", 0, "Spam", 0],
    ]);

    const missing = await cli("domain-block", "import", join(dir, "nope.csv"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`kindred: cannot read ${join(dir, "nope.csv")}: no such file\n`);
  });

  it("export prints Mastodon's header and the blocks, private comments left out", async () => {
    expect(
      (
        await cli(
          "domain-block",
          "add",
          "b.example",
          "--severity",
          "silence",
          "--public-comment",
          "Loud, rude",
          "--private-comment",
          "secret",
        )
      ).code,
    ).toBe(0);
    expect(
      (await cli("domain-block", "add", "a.example", "--severity", "noop", "--reject-media", "--obfuscate")).code,
    ).toBe(0);
    const out = await cli("domain-block", "export");
    expect(out.code).toBe(0);
    expect(out.stderr).toBe("");
    expect(out.stdout).toBe(
      `${HEADER_LINE}\na.example,noop,true,false,,true\nb.example,silence,false,false,"Loud, rude",false\n`,
    );
    expect(out.stdout).not.toContain("secret");
  });

  it("domain-allow import reads a #domain CSV and reports bad rows by line", async () => {
    const file = join(dir, "allow.csv");
    writeFileSync(file, "#domain\nfriends.example\n\nnot a domain\nOther.Social\n");
    const res = await cli("domain-allow", "import", file);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("allowed 2 domains; 1 rejected rows\n");
    expect(res.stderr).toBe('kindred: line 4: "not a domain" is not a domain name\n');
    const rows = await db
      .selectFrom("domain_allows")
      .select("domain")
      .where("domain", "in", ["friends.example", "other.social"])
      .orderBy("domain")
      .execute();
    expect(rows.map((r) => r.domain)).toEqual(["friends.example", "other.social"]);
    await db.deleteFrom("domain_allows").execute();
  });

  it("domain-allow add, list and remove; federation mode allowlist and open; a bad mode exits 2", async () => {
    expect((await cli("domain-allow", "add", "Friendly.Example")).stdout).toBe("allowed Friendly.Example\n");
    expect((await cli("domain-allow", "add", "127.0.0.1:3001")).code).toBe(0);
    const list = await cli("domain-allow", "list");
    expect(list.code).toBe(0);
    expect(list.stdout).toBe("#domain\n127.0.0.1:3001\nfriendly.example\n");
    expect((await listDomainAllows(db)).map((a) => a.domain)).toEqual(["127.0.0.1:3001", "friendly.example"]);

    const allowlist = await cli("federation", "mode", "allowlist");
    expect(allowlist.code).toBe(0);
    expect(allowlist.stdout).toBe("federation mode: allowlist (2 allowed domains)\n");
    expect((await getSettings(db)).federationMode).toBe("allowlist");

    const removed = await cli("domain-allow", "remove", "127.0.0.1:3001");
    expect(removed.code).toBe(0);
    expect((await cli("domain-allow", "remove", "127.0.0.1:3001")).code).toBe(1);

    const open = await cli("federation", "mode", "open");
    expect(open.code).toBe(0);
    expect(open.stdout).toBe("federation mode: open\n");
    expect((await getSettings(db)).federationMode).toBe("open");

    const bad = await cli("federation", "mode", "closed");
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr.split("\n")[0]).toBe("kindred: mode must be open or allowlist");
    expect((await getSettings(db)).federationMode).toBe("open");

    const badAllow = await cli("domain-allow", "add", "not a domain");
    expect(badAllow.code).toBe(1);
    expect(badAllow.stderr).toContain('"not a domain" is not a domain name');
  });

  it("adds, lists and removes a block through real processes", { timeout: SPAWN_TIMEOUT }, async () => {
    const add = await spawnCli(env, ["domain-block", "add", "process.example", "--severity", "silence"]);
    expect(add).toEqual({ code: 0, stdout: "blocked process.example (silence)\n", stderr: "" });
    const list = await spawnCli(env, ["domain-block", "list"]);
    expect(list).toMatchObject({ code: 0, stderr: "" });
    const rows = list.stdout
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((l) => l.split(/\s{2,}/));
    expect(rows).toEqual([["process.example", "silence", "-", "-", "no"]]);
    const remove = await spawnCli(env, ["domain-block", "remove", "process.example"]);
    expect(remove).toEqual({ code: 0, stdout: "unblocked process.example\n", stderr: "" });
    expect(await listDomainBlocks(db)).toEqual([]);
  });
});
