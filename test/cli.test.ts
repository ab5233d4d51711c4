// The self-hosters' CLI: the commands run in this process through `main`,
// each against a database of its own, which is then checked directly; a few
// runs of `node src/cli/bin.ts` at the end check the real process.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "../db/connect.ts";
import { authenticate } from "../src/accounts/service.ts";
import { runMain as cli, ORIGIN, SPAWN_TIMEOUT, spawnCli } from "./helpers/cli.ts";
import { dialects, freshDatabase, type TestDatabase } from "./helpers/databases.ts";

const POST_IRI = /^http:\/\/localhost:3000\/posts\/[0-9a-f-]{36}$/;

const lastLine = (text: string) => text.trimEnd().split("\n").at(-1);

describe("kindred CLI: usage and configuration", () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kindred-cli-"));
    env = { DATABASE_URL: `sqlite:${join(dir, "k.sqlite")}`, DATA_DIR: dir };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the usage for help, --help and no command, and exits 2 with it for an unknown command", async () => {
    const [bare, help, dashHelp, unknown] = await Promise.all([
      cli(env, []),
      cli(env, ["help"]),
      cli(env, ["--help"]),
      cli(env, ["frobnicate"]),
    ]);
    for (const r of [bare, help, dashHelp]) {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      for (const command of [
        "migrate",
        "user create",
        "user list",
        "user set-role",
        "user verify-clinician",
        "community create",
        "community list",
        "post create",
        "report list",
        "report resolve",
        "mod remove",
        "mod ban",
        "mod remove-moderator",
      ]) {
        expect(r.stdout).toContain(command);
      }
    }
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr.split("\n")[0]).toBe('kindred: unknown command "frobnicate"');
    expect(unknown.stderr).toContain("Usage: kindred <command>");
  });

  it("rejects unknown options, missing arguments and bad values with one line and exit 2, before touching the database", async () => {
    const results = await Promise.all([
      cli(env, ["community", "create", "x", "--name", "X", "--visibility", "secret"]),
      cli(env, ["user", "list", "--foo"]),
      cli(env, ["user", "create"]),
      cli(env, ["post", "create", "--as", "alice", "--title", "T", "--body", "B"]),
      cli(env, ["user", "set-role", "alice", "boss"]),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
    const firstLines = results.map((r) => r.stderr.split("\n")[0]);
    expect(firstLines[0]).toBe("kindred: --visibility must be public or members");
    expect(firstLines[1]).toBe("kindred: unknown option --foo");
    expect(firstLines[2]).toMatch(/^kindred: missing <username>/);
    expect(firstLines[3]).toMatch(/^kindred: missing --community/);
    expect(firstLines[4]).toBe("kindred: the role must be admin or member");
    for (const r of results) expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(existsSync(join(dir, "k.sqlite"))).toBe(false);
  });

  it("reports a bad configuration and an unreachable database in one line, exit 1", async () => {
    const [badUrl, unreachable] = await Promise.all([
      cli({ ...env, DATABASE_URL: "mysql://localhost/kindred" }, ["user", "list"]),
      cli({ ...env, DATABASE_URL: "postgres://127.0.0.1:1/kindred" }, ["user", "list"]),
    ]);
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr).toBe(
      "kindred: invalid configuration: DATABASE_URL: must start with sqlite: or postgres://\n",
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^kindred: cannot use the database in DATABASE_URL: .*ECONNREFUSED.*\n$/);
  });
});

describe.each(dialects)("kindred CLI on %s", (dialect) => {
  let dataDir: string;
  let env: Record<string, string>;
  let pg: TestDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  /** The CLI's database, opened here (after `migrate` created it) to check what the CLI wrote. */
  const db = async () => {
    handle ??= await openDatabase(env.DATABASE_URL ?? "");
    return handle.db;
  };
  const users = async () =>
    await (await db())
      .selectFrom("users")
      .innerJoin("actors", "actors.id", "users.actor_id")
      .select(["actors.username", "users.role", "users.is_clinician"])
      .orderBy("actors.id")
      .execute();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "kindred-cli-"));
    if (dialect === "postgres") {
      pg = await freshDatabase("postgres", false);
      handle = pg;
      env = { DATABASE_URL: pg.url, DATA_DIR: dataDir };
    } else {
      env = { DATABASE_URL: `sqlite:${join(dataDir, "k.sqlite")}`, DATA_DIR: dataDir };
    }
  });
  afterAll(async () => {
    if (pg) await pg.drop();
    else await handle?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("migrate applies the migrations, then has nothing to do", async () => {
    const first = await cli(env, ["migrate"]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain("applied migration 0001-initial");
    const second = await cli(env, ["migrate"]);
    expect(second).toMatchObject({ code: 0, stdout: "database already up to date\n", stderr: "" });
  });

  it("community create without any admin says how to create one", async () => {
    const r = await cli(env, ["community", "create", "longcovid", "--name", "Long COVID"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kindred: there is no admin user.*kindred user create <name> --admin.*\n$/);
  });

  it("user create --password-stdin creates a user who can log in, and never prints the password", async () => {
    const password = "correct horse battery staple";
    const r = await cli(
      env,
      ["user", "create", "alice", "--admin", "--email", "alice@example.com", "--password-stdin"],
      `${password}\n`,
    );
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(lastLine(r.stdout)).toBe(`${ORIGIN}/@alice`);
    expect(r.stdout).not.toContain(password);
    await expect(authenticate(await db(), "alice", password)).resolves.toEqual(expect.any(String));
    expect(await users()).toEqual([{ username: "alice", role: "admin", is_clinician: 0 }]);
  });

  it("user create without --password-stdin prints a generated strong password once", async () => {
    const r = await cli(env, ["user", "create", "bob"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const generated = /password.*: ([A-Za-z0-9_-]{20})$/m.exec(r.stdout)?.[1];
    expect(generated).toBeDefined();
    const password = generated ?? "";
    expect(r.stdout.split(password)).toHaveLength(2);
    expect(lastLine(r.stdout)).toBe(`${ORIGIN}/@bob`);
    await expect(authenticate(await db(), "bob", password)).resolves.toEqual(expect.any(String));
  });

  it("a taken username (any case) exits 1 and writes nothing; a bad one exits with the reason", async () => {
    const [taken, bad] = await Promise.all([
      cli(env, ["user", "create", "ALICE", "--password-stdin"], "another password\n"),
      cli(env, ["user", "create", "no spaces"]),
    ]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe('kindred: the name "ALICE" is already taken\n');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^kindred: username: may contain only letters, digits.*\n$/);
    await expect(authenticate(await db(), "alice", "another password")).rejects.toThrow("wrong username or password");

    const list = await cli(env, ["user", "list"]);
    expect(list).toMatchObject({ code: 0, stderr: "" });
    const rows = list.stdout
      .trimEnd()
      .split("\n")
      .map((line) => line.split(/\s{2,}/));
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ["USERNAME", "ROLE", "CLINICIAN"],
      ["alice", "admin", "no"],
      ["bob", "member", "no"],
    ]);
  });

  it("user set-role and user verify-clinician change the account", async () => {
    const [role, badge] = await Promise.all([
      cli(env, ["user", "set-role", "bob", "admin"]),
      cli(env, ["user", "verify-clinician", "bob", "--profession", "Nurse", "--registration", "NMC 12A3456E"]),
    ]);
    expect(role).toMatchObject({ code: 0, stderr: "" });
    expect(badge).toMatchObject({ code: 0, stderr: "" });
    expect((await users()).find((u) => u.username === "bob")).toEqual({
      username: "bob",
      role: "admin",
      is_clinician: 1,
    });
    expect(badge.stdout).toBe("bob now shows the verified clinician badge: Nurse\n");
    const missing = await cli(env, ["user", "verify-clinician", "bob"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("--profession is required");
    const [revoke, nobody] = await Promise.all([
      cli(env, ["user", "verify-clinician", "bob", "--revoke"]),
      cli(env, ["user", "set-role", "nobody", "member"]),
    ]);
    expect(revoke.code).toBe(0);
    expect(nobody).toMatchObject({ code: 1, stderr: 'kindred: user "nobody" not found\n' });
    expect((await users()).find((u) => u.username === "bob")?.is_clinician).toBe(0);
  });

  it("community create makes the oldest admin its moderator; community list shows it", async () => {
    const r = await cli(env, [
      "community",
      "create",
      "longcovid",
      "--name",
      "Long COVID",
      "--description",
      "We **share** what helps.",
      "--join",
      "approval",
    ]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toContain("moderated by alice");
    expect(lastLine(r.stdout)).toBe(`${ORIGIN}/@longcovid`);

    const list = await cli(env, ["community", "list"]);
    expect(list).toMatchObject({ code: 0, stderr: "" });
    const rows = list.stdout
      .trimEnd()
      .split("\n")
      .map((line) => line.split(/\s{2,}/));
    expect(rows).toEqual([
      ["SLUG", "NAME", "VISIBILITY", "JOIN", "FEDERATION", "MEMBERS", "THREADS"],
      ["longcovid", "Long COVID", "public", "approval", "federated", "1", "0"],
    ]);
  });

  it("post create prints the new thread's IRI as its last line and stores the thread", async () => {
    const r = await cli(env, [
      "post",
      "create",
      "--as",
      "alice",
      "--community",
      "longcovid",
      "--title",
      "Pacing tips",
      "--body",
      "What helps you? #pacing",
      "--cw",
      "fatigue",
    ]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout.endsWith("\n")).toBe(true);
    const iri = lastLine(r.stdout) ?? "";
    expect(iri).toMatch(POST_IRI);
    expect(r.stdout).not.toContain("Pacing tips");
    expect(r.stdout).not.toContain("What helps");
    const row = await (await db())
      .selectFrom("posts")
      .innerJoin("actors as author", "author.id", "posts.author_id")
      .innerJoin("actors as community", "community.id", "posts.community_id")
      .select([
        "posts.title",
        "posts.source",
        "posts.summary",
        "posts.parent_id",
        "author.username as author",
        "community.username as community",
      ])
      .where("posts.iri", "=", iri)
      .executeTakeFirst();
    expect(row).toEqual({
      title: "Pacing tips",
      source: "What helps you? #pacing",
      summary: "fatigue",
      parent_id: null,
      author: "alice",
      community: "longcovid",
    });
  });

  it("post create in an unknown community exits 1 with 'not found'", async () => {
    const r = await cli(env, ["post", "create", "--as", "alice", "--community", "nope", "--title", "T", "--body", "B"]);
    expect(r).toMatchObject({ code: 1, stdout: "", stderr: 'kindred: community "nope" not found\n' });
  });
});

describe("kindred CLI as a process", () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kindred-cli-"));
    env = { DATABASE_URL: `sqlite:${join(dir, "k.sqlite")}`, DATA_DIR: dir };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the usage for help, and exits 2 with it for an unknown command", { timeout: SPAWN_TIMEOUT }, async () => {
    const [help, unknown] = await Promise.all([spawnCli(env, ["help"]), spawnCli(env, ["frobnicate"])]);
    expect(help).toMatchObject({ code: 0, stderr: "", stdout: (await cli(env, ["help"])).stdout });
    expect(help.stdout).toContain("user create");
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr.split("\n")[0]).toBe('kindred: unknown command "frobnicate"');
    expect(unknown.stderr).toContain("Usage: kindred <command>");
  });

  it("reports an unreachable database in one line, with no stack trace", { timeout: SPAWN_TIMEOUT }, async () => {
    const r = await spawnCli({ ...env, DATABASE_URL: "postgres://127.0.0.1:1/kindred" }, ["user", "list"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kindred: cannot use the database in DATABASE_URL: .*ECONNREFUSED.*\n$/);
  });

  it("user create reads a --password-stdin line, exits with stdin open", { timeout: SPAWN_TIMEOUT }, async () => {
    const password = "piped horse battery staple";
    const r = await spawnCli(env, ["user", "create", "carol", "--password-stdin"], `${password}\nnot read\n`);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(lastLine(r.stdout)).toBe(`${ORIGIN}/@carol`);
    expect(r.stdout).not.toContain(password);
    const handle = await openDatabase(env.DATABASE_URL ?? "");
    try {
      await expect(authenticate(handle.db, "carol", password)).resolves.toEqual(expect.any(String));
    } finally {
      await handle.close();
    }
  });
});
