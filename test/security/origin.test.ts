// A database belongs to the ORIGIN it was first started with: every IRI in it
// was minted on that host. Tried as a new self-hoster would: the server runs
// at its real address, then `kindred user create` is run without ORIGIN (so
// with the default, http://localhost:3000). It used to store a member as
// http://localhost:3000/@alice on an instance served elsewhere; now the CLI
// and the server refuse with one line naming both origins, exit 1, and write
// nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/connect.ts";
import { loadConfig } from "../../src/config.ts";
import { DomainError } from "../../src/errors.ts";
import { storedOrigin } from "../../src/instance/settings.ts";
import { openRuntime } from "../../src/runtime.ts";
import { runMain as cli, SPAWN_TIMEOUT } from "../helpers/cli.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { exited, freePort, spawnServer, stopProcess, waitUntilServing } from "../helpers/processes.ts";

const SERVED = "https://kindred.example";
const DEFAULT = "http://localhost:3000";
const refusal = (stored: string, configured: string) =>
  `kindred: this database belongs to ${stored} (the ORIGIN it was first started with), but ORIGIN is ${configured}; ` +
  `set ORIGIN=${stored} (the IRIs in it cannot move to another host)\n`;

describe.each(dialects)("a database keeps the ORIGIN it was first started with (%s)", (dialect) => {
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  /** What a table holds, read on a connection of the test's own. */
  const rows = async (table: "actors" | "instance_settings") => {
    const handle = await openDatabase(database.url);
    try {
      return await handle.db.selectFrom(table).selectAll().execute();
    } finally {
      await handle.close();
    }
  };

  beforeAll(async () => {
    database = await freshDatabase(dialect, false);
    await database.close();
    dataDir = mkdtempSync(join(tmpdir(), "kindred-origin-"));
    env = { DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_LEVEL: "fatal" };
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("`migrate` alone does not claim a new database for the default ORIGIN", async () => {
    const r = await cli(env, ["migrate"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(await rows("instance_settings")).toEqual([]);
  });

  it("the first start stores its ORIGIN", async () => {
    const rt = await openRuntime(loadConfig({ ...env, ORIGIN: SERVED }));
    try {
      expect(await storedOrigin(rt.db)).toBe(SERVED);
    } finally {
      await rt.close();
    }
    // Opening it again under the same ORIGIN is fine, and changes nothing.
    const again = await cli({ ...env, ORIGIN: SERVED }, ["user", "create", "alice", "--admin"]);
    expect(again, again.stderr).toMatchObject({ code: 0, stderr: "" });
    expect(again.stdout.trimEnd().split("\n").at(-1)).toBe(`${SERVED}/@alice`);
  });

  it("`user create` without the server's ORIGIN refuses in one line naming both, and writes nothing", async () => {
    const actorsBefore = await rows("actors");
    const settingsBefore = await rows("instance_settings");
    // The self-hoster's first try: no ORIGIN in the environment (the helper's default is the same one).
    const r = await cli(env, ["user", "create", "bob", "--admin"]);
    expect(r).toEqual({ code: 1, stdout: "", stderr: refusal(SERVED, DEFAULT) });
    expect(await rows("actors")).toEqual(actorsBefore);
    expect(await rows("instance_settings")).toEqual(settingsBefore);
    expect((await rows("actors")).some((a) => String(a.iri).startsWith(DEFAULT))).toBe(false);
    // Read-only commands are refused too: their output would name IRIs on the wrong host.
    const list = await cli(env, ["user", "list"]);
    expect(list).toEqual({ code: 1, stdout: "", stderr: refusal(SERVED, DEFAULT) });
    // `migrate` checks as well.
    const migrate = await cli(env, ["migrate"]);
    expect(migrate).toEqual({ code: 1, stdout: "", stderr: refusal(SERVED, DEFAULT) });
  });

  it("openRuntime (server, worker and CLI) refuses with a DomainError and keeps no connection open", async () => {
    const error = await openRuntime(loadConfig({ ...env, ORIGIN: "https://elsewhere.example" })).catch((e) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).message).toContain("belongs to https://kindred.example");
    expect((error as DomainError).message).toContain("ORIGIN is https://elsewhere.example");
    // No half-written data: nothing changed, and the database can still be opened under its own ORIGIN.
    const rt = await openRuntime(loadConfig({ ...env, ORIGIN: SERVED }));
    await rt.close();
  });

  it(
    "the server exits non-zero with the message, before serving anything",
    async () => {
      const port = await freePort();
      const { child, output } = spawnServer({
        ...process.env,
        ...env,
        PORT: String(port),
        ORIGIN: `http://127.0.0.1:${port}`,
        LOG_LEVEL: "error",
      });
      try {
        const code = await new Promise<number | null>((resolve) => {
          if (exited(child)) resolve(child.exitCode);
          else child.once("exit", (c) => resolve(c));
        });
        expect(code, output()).toBe(1);
        expect(output().trimEnd().split("\n").at(-1)).toBe(refusal(SERVED, `http://127.0.0.1:${port}`).trimEnd());
        expect(output(), "no stack trace").not.toContain("    at ");
      } finally {
        await stopProcess(child);
      }
      // And under its own ORIGIN it starts.
      const ok = spawnServer({ ...process.env, ...env, PORT: String(port), ORIGIN: SERVED, LOG_LEVEL: "error" });
      try {
        await waitUntilServing(`http://127.0.0.1:${port}`, ok.child, ok.output, SPAWN_TIMEOUT);
      } finally {
        await stopProcess(ok.child);
      }
    },
    SPAWN_TIMEOUT,
  );
});

describe("a database from before origins were stored", () => {
  let database: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    // Migrated and holding data, but no stored origin: as an instance upgraded to this version.
    database = await freshDatabase("sqlite", true);
    await database.close();
    dataDir = mkdtempSync(join(tmpdir(), "kindred-origin-"));
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("adopts the first ORIGIN it is opened with, then holds to it", async () => {
    const env = { DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_LEVEL: "fatal" };
    const first = await cli({ ...env, ORIGIN: SERVED }, ["user", "create", "carol"]);
    expect(first, first.stderr).toMatchObject({ code: 0, stderr: "" });
    const second = await cli({ ...env, ORIGIN: "https://other.example" }, ["user", "create", "dave"]);
    expect(second).toEqual({ code: 1, stdout: "", stderr: refusal(SERVED, "https://other.example") });
  });
});
