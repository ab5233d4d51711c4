// The deletion receipt: per server, whether it accepted an erasure's Deletes.
// All we can know is that a server answered 2xx ("accepted"), not that it
// removed its copies (NodeBB answers 202 and keeps them, for one), so that is
// what it says. Reached by its secret address (only the token's hash is
// stored) or by the CLI's erasure id.
import { createHash } from "node:crypto";
import type { Db } from "../../db/schema.ts";
import type { ErasureMode } from "./plan.ts";

/** What is stored of a receipt's secret address. */
export const receiptTokenHash = (token: string) => createHash("sha256").update(token).digest("hex");

/** "accepted": the server answered 2xx to every request (what it did then, we cannot see). */
export type ReceiptStatus = "queued" | "accepted" | "retrying" | "given up";

/** How a status reads on the receipt page and in the CLI. */
export const receiptStatusText = (status: ReceiptStatus) =>
  status === "accepted" ? "accepted (answered 2xx)" : status;

export interface ErasureReceipt {
  handle: string;
  mode: ErasureMode;
  requestedAt: string;
  completedAt: string | null;
  servers: {
    host: string;
    status: ReceiptStatus;
    deliveries: number;
    attempts: number;
    lastAttemptAt: string;
    /** When the last request was accepted. */
    acceptedAt: string | null;
  }[];
}

/** The receipt: per server, whether it accepted the `Delete`s. */
export async function erasureReceipt(
  db: Db,
  by: { token: string } | { erasureId: string },
): Promise<ErasureReceipt | undefined> {
  const erasures = db.selectFrom("erasures").selectAll();
  const erasure = await ("token" in by
    ? erasures.where("token_hash", "=", receiptTokenHash(by.token))
    : erasures.where("id", "=", by.erasureId)
  ).executeTakeFirst();
  if (!erasure) return undefined;
  const rows = await db
    .selectFrom("deliveries")
    .select(["host", "status", "attempts", "updated_at", "delivered_at"])
    .where("actor_id", "=", erasure.actor_id)
    .where("created_at", ">=", erasure.created_at)
    .orderBy("host")
    .execute();
  const byHost = new Map<string, ErasureReceipt["servers"][number]>();
  const rank: Record<ReceiptStatus, number> = { accepted: 0, "given up": 1, queued: 2, retrying: 3 };
  for (const r of rows) {
    const status: ReceiptStatus =
      r.status === "delivered"
        ? "accepted"
        : r.status === "failed"
          ? "given up"
          : r.status === "retrying" || r.attempts > 0
            ? "retrying"
            : "queued";
    const s = byHost.get(r.host) ?? {
      host: r.host,
      status,
      deliveries: 0,
      attempts: 0,
      lastAttemptAt: r.updated_at,
      acceptedAt: null,
    };
    // A server's status is its least settled delivery's.
    if (rank[status] > rank[s.status]) s.status = status;
    s.deliveries++;
    s.attempts += r.attempts;
    if (r.updated_at > s.lastAttemptAt) s.lastAttemptAt = r.updated_at;
    if (r.delivered_at && (!s.acceptedAt || r.delivered_at > s.acceptedAt)) s.acceptedAt = r.delivered_at;
    byHost.set(r.host, s);
  }
  return {
    handle: erasure.handle,
    mode: erasure.mode,
    requestedAt: erasure.created_at,
    completedAt: erasure.completed_at,
    servers: [...byHost.values()],
  };
}

/** The latest erasure of a local name, for `user erasure-status`. */
export async function latestErasureOf(db: Db, username: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("erasures")
    .innerJoin("actors", "actors.id", "erasures.actor_id")
    .select("erasures.id")
    .where("actors.username_key", "=", username.replace(/^@/, "").toLowerCase())
    .where("actors.local", "=", 1)
    .orderBy("erasures.created_at", "desc")
    .executeTakeFirst();
  return row?.id;
}

/** Whether a local name belongs to an erased member (their profile answers 410 Gone). */
export async function isErased(db: Db, usernameKey: string): Promise<boolean> {
  const row = await db
    .selectFrom("erasures")
    .innerJoin("actors", "actors.id", "erasures.actor_id")
    .select("erasures.id")
    .where("actors.username_key", "=", usernameKey.toLowerCase())
    .where("actors.local", "=", 1)
    .executeTakeFirst();
  return row !== undefined;
}
