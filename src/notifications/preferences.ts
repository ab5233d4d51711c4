// Members choose which kinds of notification they get. Only a member's
// changes are stored: a kind without a row is on, so a new kind reaches everyone.
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { NOTIFICATION_KINDS, type NotificationKind, REQUIRED_KINDS } from "./kinds.ts";

/** `"<userId> <kind>"` for each kind one of these members turned off. */
export async function disabledKinds(db: Db, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .selectFrom("notification_preferences")
    .select(["user_id", "kind"])
    .where("user_id", "in", userIds)
    .where("enabled", "=", 0)
    .execute();
  // A required kind stays on whatever a stored row says.
  return new Set(
    rows.filter((r) => !REQUIRED_KINDS.has(r.kind as NotificationKind)).map((r) => `${r.user_id} ${r.kind}`),
  );
}

/** The kinds a member may switch, each with its label and whether it is on. */
export async function preferences(db: Db, userId: string) {
  const off = await disabledKinds(db, [userId]);
  return (Object.keys(NOTIFICATION_KINDS) as NotificationKind[])
    .filter((kind) => !REQUIRED_KINDS.has(kind))
    .map((kind) => ({ kind, label: NOTIFICATION_KINDS[kind], enabled: !off.has(`${userId} ${kind}`) }));
}

/** Saves a member's choice: the kinds named in `enabled` are on, every other switchable kind off. */
export async function savePreferences(db: Db, userId: string, enabled: ReadonlySet<string>): Promise<void> {
  const kinds = (Object.keys(NOTIFICATION_KINDS) as NotificationKind[]).filter((k) => !REQUIRED_KINDS.has(k));
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom("notification_preferences").where("user_id", "=", userId).execute();
    await trx
      .insertInto("notification_preferences")
      .values(kinds.map((kind) => ({ user_id: userId, kind, enabled: enabled.has(kind) ? 1 : 0 })))
      .execute();
  });
}
