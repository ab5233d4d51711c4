// The domain policy's version: one row that every policy change bumps in its
// own transaction, read by each process (web, worker, CLI, other nodes) before
// it trusts its snapshot of the lists (matcher.ts).
import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "../../db/schema.ts";

/**
 * How long a process trusts a read of the version before reading it again.
 * A flood of requests then costs each process at most five single-row reads a
 * second, whatever its rate. The bound is what makes a change reach every
 * process "at once": whoever changes the policy waits this long after the
 * commit before reporting success (`settlePolicyChange`), so by the time the
 * CLI command returns (or the admin page answers), every process's next check
 * starts a fresh read, which sees the commit. 200 ms is unnoticeable to an
 * admin, and far below anything a remote server could exploit by timing.
 */
export const POLICY_STALENESS_MS = 200;

/** Records a change of the domain policy: call inside the transaction that makes it. */
export async function bumpPolicyVersion(trx: Db): Promise<void> {
  await trx
    .updateTable("policy_version")
    .set((eb) => ({ version: eb("version", "+", 1) }))
    .where("id", "=", 1)
    .execute();
}

/** The current version (a string on PostgreSQL, where it is a bigint; only compared for equality). */
export async function readPolicyVersion(db: Db): Promise<string> {
  const row = await db.selectFrom("policy_version").select("version").where("id", "=", 1).executeTakeFirst();
  return String(row?.version ?? 0);
}

/**
 * Waits out every process's trust in its last read (a margin covers timer
 * granularity), so the change is in force everywhere when this returns. Only
 * after the commit: `db` inside a caller's transaction waits for nothing (the
 * caller settles once, after its own commit).
 */
export async function settlePolicyChange(db: Db): Promise<void> {
  if (db.isTransaction) return;
  await sleep(POLICY_STALENESS_MS + 20);
}
