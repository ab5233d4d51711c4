// A visitor's contact address outlives the report's closing long enough to
// write to them: `kindred report resolve|dismiss` points the admin to
// `report list --status <outcome> --json`, where it still is.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../db/schema.ts";
import { createUser } from "../../src/accounts/service.ts";
import { join as joinCommunity } from "../../src/communities/membership.ts";
import { createCommunity, getCommunity } from "../../src/communities/service.ts";
import { fileReport } from "../../src/moderation/reports.ts";
import { createThread } from "../../src/posts/service.ts";
import { ORIGIN, runMain } from "../helpers/cli.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { PASSWORD } from "../helpers/seed.ts";

describe.each(dialects)("a visitor's contact after `kindred report dismiss` (%s)", (dialect) => {
  let dir: string;
  let database: TestDatabase;
  let db: Db;
  let env: Record<string, string>;
  let reportId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kindred-contact-"));
    database = await freshDatabase(dialect);
    db = database.db;
    env = { DATABASE_URL: database.url, DATA_DIR: dir, LOG_LEVEL: "error" };
    const ada = await createUser(db, ORIGIN, { username: "ada", password: PASSWORD }, { role: "admin" });
    const bob = await createUser(db, ORIGIN, { username: "bob", password: PASSWORD }, { role: "member" });
    await createCommunity(db, ORIGIN, ada, { slug: "pots", name: "POTS" });
    const community = await getCommunity(db, "pots");
    await joinCommunity(db, ORIGIN, community, bob.actorId);
    const t = await createThread(db, ORIGIN, community, bob.actorId, { title: "Salt", body: "text" });
    reportId = await fileReport(db, ORIGIN, {
      reporterId: null,
      postIds: [t.id],
      category: "spam",
      contact: "visitor@mail.example",
    });
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the address the CLI points to is still there", async () => {
    const closed = await runMain(env, ["report", "dismiss", reportId]);
    expect(closed.code).toBe(0);
    expect(closed.stdout).toContain("see kindred report list --status dismissed --json");
    const list = JSON.parse((await runMain(env, ["report", "list", "--status", "dismissed", "--json"])).stdout);
    expect(list).toEqual([expect.objectContaining({ id: reportId })]);
    expect(list[0].contact, "the CLI sent the admin to an address it had just erased").toBe("visitor@mail.example");
  });
});
