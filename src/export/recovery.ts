// Exports a crash interrupted. A process that dies while building an archive
// (killed, out of memory, the machine rebooted) leaves its export "running"
// and its scratch folder behind; the member would be told "one archive a day"
// until tomorrow. Every process that runs jobs names itself (`host/pid/token`)
// on the exports it builds and renews a short lease while it works. When a
// worker starts, and every so often after, exports whose process is gone are
// marked failed (which does not count towards the daily limit: the member may
// ask again at once), and scratch folders nobody is building in are removed.
//
// Failed rather than queued again: whatever killed the process may be the
// archive itself (memory, disk space), and building it again unasked could
// take the worker down in a loop. The member sees why and asks again.
import { randomUUID } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Db } from "../../db/schema.ts";
import { SCRATCH_PREFIX, scratchOwner } from "./archive.ts";
import { exportsDir } from "./service.ts";

/** How long a running export's process vouches for it; it renews the lease four times as often. */
export const EXPORT_LEASE_MS = 60_000;

/** What the member reads on the export that a crash interrupted. */
export const INTERRUPTED = "interrupted: the server stopped while building it; you can request a new archive now";

/** This process's name on the exports it builds: unique even where pids repeat (containers). */
export const newRunner = () => `${hostname()}/${process.pid}/${randomUUID()}`;

/**
 * Whether the process named `runner` is certainly gone, as `me` can tell at
 * once: it ran on this host and its pid is dead (or is now ours). Elsewhere,
 * only its lease running out tells.
 */
function certainlyGone(runner: string | null, me: string): boolean {
  // Left by a version that did not name its runners: nobody renews it.
  if (runner === null) return true;
  const [token, pid, ...host] = runner.split("/").reverse();
  if (host.reverse().join("/") !== hostname() || !token) return false;
  if (Number(pid) === process.pid) return runner !== me;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    // EPERM: alive, under another user.
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Marks failed the running exports whose process is gone (`me` is this
 * process's runner) and removes the scratch folders of all but the exports
 * still being built. Returns how many exports it settled.
 */
export async function recoverInterruptedExports(db: Db, dataDir: string, me: string): Promise<number> {
  const dir = exportsDir(dataDir);
  // Listed before the rows are read: a folder listed here belongs to an export already marked running.
  const entries = await readdir(dir).catch(() => [] as string[]);
  const running = await db
    .selectFrom("exports")
    .select(["id", "runner", "lease_until"])
    .where("status", "=", "running")
    .execute();
  const ts = new Date().toISOString();
  const live = new Set<string>();
  let settled = 0;
  for (const r of running) {
    if (r.lease_until !== null && r.lease_until > ts && !certainlyGone(r.runner, me)) {
      live.add(r.id);
      continue;
    }
    // Fenced on the runner: an export taken again meanwhile is left alone.
    const result = await db
      .updateTable("exports")
      .set({ status: "failed", error: INTERRUPTED, finished_at: ts, runner: null, lease_until: null })
      .where("id", "=", r.id)
      .where("status", "=", "running")
      .where("runner", r.runner === null ? "is" : "=", r.runner)
      .executeTakeFirst();
    settled += Number(result.numUpdatedRows);
  }
  for (const entry of entries) {
    const owner = scratchOwner(entry);
    if (entry.startsWith(SCRATCH_PREFIX) && !(owner && live.has(owner)))
      await rm(join(dir, entry), { recursive: true, force: true });
  }
  return settled;
}
