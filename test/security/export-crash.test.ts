// An archive interrupted by a crash, as an attacker (or the OOM killer) would
// interrupt it: a real server process is killed with SIGKILL while it builds
// a member's large archive, then started again. The crash must not leave the
// member's data in a scratch folder, nor the member told "one archive a day"
// until tomorrow: at start the worker marks the interrupted export failed
// (failed ones do not count towards the daily limit), removes the scratch
// folder, and the member gets a new archive at once.
//
// The build is held at a known point rather than raced against the clock:
// the member's avatar file is a named pipe, so copying it into the archive
// waits until the test writes to it. By then the export is running and its
// scratch folder exists.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/connect.ts";
import type { ExportsTable } from "../../db/schema.ts";
import { createUser } from "../../src/accounts/service.ts";
import { createCommunity, getCommunity } from "../../src/communities/service.ts";
import { loadConfig } from "../../src/config.ts";
import { INTERRUPTED } from "../../src/export/recovery.ts";
import { exportsDir } from "../../src/export/service.ts";
import { avatarDir } from "../../src/media/avatars.ts";
import { createThread } from "../../src/posts/service.ts";
import { openRuntime } from "../../src/runtime.ts";
import { unpackArchive } from "../helpers/archive.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { until } from "../helpers/federation.ts";
import { exited, freePort, spawnServer, stopProcess, waitUntilServing } from "../helpers/processes.ts";
import { PASSWORD, tinyPng } from "../helpers/seed.ts";

/** A large account: enough posts that the archive is written over many pages. */
const POSTS = 1_200;
const START_TIMEOUT = 60_000;
const mkfifo = (() => {
  try {
    execFileSync("mkfifo", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!mkfifo).each(dialects)("an export interrupted by kill -9 (%s)", (dialect) => {
  let database: TestDatabase;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let origin: string;
  let server: ReturnType<typeof spawnServer> | undefined;
  let wrenId: string;
  const avatarFile = () => join(avatarDir(dataDir), "held.png");

  /** The export rows, read on a connection of the test's own (the server may be dead). */
  const exportRows = async (): Promise<ExportsTable[]> => {
    const handle = await openDatabase(database.url);
    try {
      return await handle.db.selectFrom("exports").selectAll().where("user_id", "=", wrenId).orderBy("id").execute();
    } finally {
      await handle.close();
    }
  };
  const scratch = () => readdirSync(exportsDir(dataDir)).filter((n) => n.startsWith(".archive-"));

  async function start() {
    server = spawnServer(env);
    await waitUntilServing(origin, server.child, server.output, START_TIMEOUT);
  }

  beforeAll(async () => {
    database = await freshDatabase(dialect, false);
    await database.close();
    dataDir = mkdtempSync(join(tmpdir(), "kindred-crash-"));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      PORT: String(port),
      ORIGIN: origin,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: "fatal",
    };
    // Seeded through the services, as `kindred user create` would, before the server runs.
    const rt = await openRuntime(loadConfig(env));
    try {
      const admin = await createUser(
        rt.db,
        origin,
        { username: "admin", password: PASSWORD },
        {
          role: "admin",
          allowReserved: true,
        },
      );
      const wren = await createUser(rt.db, origin, { username: "wren", password: PASSWORD });
      wrenId = wren.actorId;
      await createCommunity(rt.db, origin, admin, { slug: "pacing", name: "Pacing", federation: "local" });
      const community = await getCommunity(rt.db, "pacing");
      for (let i = 0; i < POSTS; i++)
        await createThread(rt.db, origin, community, wren.actorId, { title: `Day ${i}`, body: `Pacing log ${i}` });
      await rt.db
        .updateTable("actors")
        .set({ avatar_url: `${origin}/media/avatars/held.png` })
        .where("id", "=", wren.actorId)
        .execute();
    } finally {
      await rt.close();
    }
    mkdirSync(avatarDir(dataDir), { recursive: true });
    execFileSync("mkfifo", [avatarFile()]);
  }, START_TIMEOUT);
  afterAll(async () => {
    await stopProcess(server?.child);
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    "leaves no scratch folder and lets the member have an archive at once after a restart",
    async () => {
      await start();
      const wren = new WebClient(origin);
      expect((await wren.logIn("wren")).status).toBe(303);
      await wren.get("/settings/data");
      const requested = await wren.post("/settings/data/exports", {});
      expect(requested.status, requested.text.slice(0, 300)).toBe(303);

      // Held while copying the avatar: the export is running over a large account, its scratch folder made.
      const [running] = await until(
        "the export running, with its scratch folder",
        exportRows,
        (rows) => rows[0]?.status === "running" && rows[0].total >= POSTS && scratch().length > 0,
      );
      expect(scratch().every((n) => n.startsWith(`.archive-${running?.id}-`))).toBe(true);

      const child = server?.child;
      if (!child) throw new Error("no server");
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGKILL");
      await gone;
      expect(child.signalCode).toBe("SIGKILL");
      // What the crash left: the folder, and the export "running".
      expect(scratch().length).toBeGreaterThan(0);
      expect((await exportRows())[0]?.status).toBe("running");

      // The avatar is a plain file from now on: the next build goes through.
      rmSync(avatarFile());
      writeFileSync(avatarFile(), tinyPng());
      await start();

      const [interrupted] = await until(
        "the interrupted export failed and its scratch folder removed",
        exportRows,
        (rows) => rows[0]?.status === "failed" && scratch().length === 0,
      );
      expect(interrupted).toMatchObject({ id: running?.id, error: INTERRUPTED, runner: null, lease_until: null });

      // The member sees why, and may ask again now rather than tomorrow.
      const page = await wren.get("/settings/data");
      expect(page.text).toContain("interrupted: the server stopped while building it");
      const again = await wren.post("/settings/data/exports", {});
      expect(again.status, again.text.slice(0, 300)).toBe(303);
      const ready = await until(
        "the new archive ready",
        exportRows,
        (rows) => rows.length === 2 && rows[1]?.status === "ready",
        START_TIMEOUT,
      );
      const archiveId = ready[1]?.id ?? "";
      const res = await fetch(new URL(`/settings/data/exports/${archiveId}`, origin), {
        headers: { cookie: `kindred_session=${wren.cookie("kindred_session")}` },
      });
      expect(res.status).toBe(200);
      const archive = await unpackArchive(new Uint8Array(await res.arrayBuffer()));
      expect((archive.json("outbox.json") as { totalItems: number }).totalItems).toBe(POSTS);
      expect(archive.bytes("avatar.png")).toEqual(Buffer.from(tinyPng()));
      rmSync(archive.dir, { recursive: true, force: true });
      expect(scratch()).toEqual([]);
      expect(existsSync(join(exportsDir(dataDir), `${archiveId}.tar.gz`))).toBe(true);
      expect(exited(server?.child ?? child)).toBe(false);
    },
    START_TIMEOUT * 3,
  );
});
