// Settling exports a stopped process left "running" (src/export/recovery.ts),
// on SQLite and PostgreSQL: which runs count as interrupted (their process is
// gone here, their lease ran out elsewhere, or they predate runner names),
// which are left alone (this process's, another host's within its lease),
// which scratch folders go, and that an interrupted export neither counts
// towards the daily limit nor is built again by its job delivered again.
// The process-level attack (kill -9 mid-archive) is test/security/export-crash.test.ts.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../db/schema.ts";
import { INTERRUPTED, newRunner, recoverInterruptedExports } from "../../src/export/recovery.ts";
import { claimExport, exportsDir, nextExportAllowedAt } from "../../src/export/service.ts";
import { newId } from "../../src/ids.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { seedLocalUser } from "../policy/support.ts";

const ORIGIN = "https://kindred.example";
const inAMinute = () => new Date(Date.now() + 60_000).toISOString();
const aMinuteAgo = () => new Date(Date.now() - 60_000).toISOString();

/** The pid of a process that has exited (and was reaped), so is certainly gone. */
const deadPid = () => {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
};

describe.each(dialects)("recovering interrupted exports (%s)", (dialect) => {
  let database: TestDatabase;
  let db: Db;
  let dataDir: string;
  let userId: string;
  const me = newRunner();

  beforeAll(async () => {
    database = await freshDatabase(dialect);
    db = database.db;
    dataDir = mkdtempSync(join(tmpdir(), "kindred-recovery-"));
    mkdirSync(exportsDir(dataDir), { recursive: true });
    userId = (await seedLocalUser(db, ORIGIN, "wren")).actorId;
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A running export of `runner` with a lease until `leaseUntil`, and its scratch folder. */
  async function running(runner: string | null, leaseUntil: string | null, createdAt = new Date().toISOString()) {
    const id = newId();
    await db
      .insertInto("exports")
      .values({
        id,
        user_id: userId,
        status: "running",
        progress: 10,
        total: 100,
        file_name: null,
        size_bytes: null,
        error: null,
        created_at: createdAt,
        finished_at: null,
        expires_at: null,
        runner,
        lease_until: leaseUntil,
      })
      .execute();
    mkdirSync(join(exportsDir(dataDir), `.archive-${id}-Ab3dEf`));
    writeFileSync(join(exportsDir(dataDir), `.archive-${id}-Ab3dEf`, "outbox.json"), '{"orderedItems":[');
    return id;
  }
  const statusOf = async (id: string) =>
    db
      .selectFrom("exports")
      .select(["status", "error", "runner", "lease_until"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();

  it("fails the runs whose process is gone and keeps those still vouched for, with their scratch folders", async () => {
    const here = hostname();
    const ids = {
      deadHere: await running(`${here}/${deadPid()}/${newId()}`, inAMinute()),
      // Our pid, not our token: a container restarted with the same pid.
      samePidOtherToken: await running(`${here}/${process.pid}/${newId()}`, inAMinute()),
      // From before runners were named.
      unnamed: await running(null, null),
      elsewhereExpired: await running(`other-host.internal/4242/${newId()}`, aMinuteAgo()),
      elsewhereLive: await running(`other-host.internal/4242/${newId()}`, inAMinute()),
      ours: await running(me, inAMinute()),
      // Alive on this host (this very test process's parent, say): only its lease would tell.
      aliveHere: await running(`${here}/${process.ppid}/${newId()}`, inAMinute()),
    };
    // Leftovers with no live export: an old-style folder, and a packed `.partial` of the dead run.
    mkdirSync(join(exportsDir(dataDir), ".archive-Zx9YwV"));
    writeFileSync(join(exportsDir(dataDir), `.archive-${ids.deadHere}-Ab3dEf.partial`), "partial");
    // A finished archive is not scratch.
    writeFileSync(join(exportsDir(dataDir), `${newId()}.tar.gz`), "archive");

    expect(await recoverInterruptedExports(db, dataDir, me)).toBe(4);

    for (const id of [ids.deadHere, ids.samePidOtherToken, ids.unnamed, ids.elsewhereExpired])
      expect(await statusOf(id), id).toEqual({ status: "failed", error: INTERRUPTED, runner: null, lease_until: null });
    for (const id of [ids.elsewhereLive, ids.ours, ids.aliveHere])
      expect((await statusOf(id)).status, id).toBe("running");
    const left = readdirSync(exportsDir(dataDir)).sort();
    expect(left.filter((n) => n.startsWith(".archive-")).sort()).toEqual(
      [ids.elsewhereLive, ids.ours, ids.aliveHere].map((id) => `.archive-${id}-Ab3dEf`).sort(),
    );
    expect(left.filter((n) => n.endsWith(".tar.gz"))).toHaveLength(1);

    // A second pass finds nothing more to do.
    expect(await recoverInterruptedExports(db, dataDir, me)).toBe(0);
  });

  it("an interrupted export does not count towards the daily limit, and its job delivered again builds nothing", async () => {
    await db.deleteFrom("exports").where("user_id", "=", userId).execute();
    const id = await running(`${hostname()}/${deadPid()}/${newId()}`, inAMinute());
    // While it runs, the member waits a day.
    expect(await nextExportAllowedAt(db, userId)).not.toBeNull();
    await recoverInterruptedExports(db, dataDir, me);
    expect(await nextExportAllowedAt(db, userId)).toBeNull();
    // The queue re-delivers a job whose lease ran out: only a queued export is ever taken.
    expect(await claimExport(db, id, me, inAMinute())).toBeUndefined();
    expect((await statusOf(id)).status).toBe("failed");
    expect(existsSync(join(exportsDir(dataDir), `.archive-${id}-Ab3dEf`))).toBe(false);
  });
});
