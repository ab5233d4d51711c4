// Invite links (issue 13), as Mastodon has them: made by an admin, good for a
// number of uses and until a time, revocable; they sign up past "approval
// required", "invite only" and "closed".
import { randomBytes } from "node:crypto";
import type { Db } from "../../db/schema.ts";
import { invalid, notFound } from "../errors.ts";
import { newId, now } from "../ids.ts";

/** How long a new invite lasts, as Mastodon offers it. */
export const INVITE_EXPIRIES: Record<string, number | null> = {
  "30m": 30 * 60_000,
  "1h": 3_600_000,
  "6h": 6 * 3_600_000,
  "12h": 12 * 3_600_000,
  "1d": 86_400_000,
  "7d": 7 * 86_400_000,
  never: null,
};

export const MAX_INVITE_USES = 1000;

export interface Invite {
  code: string;
  maxUses: number | null;
  uses: number;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  createdBy: string | null;
  /** Whether it can still sign someone up. */
  usable: boolean;
}

export async function createInvite(
  db: Db,
  input: { createdBy: string | null; maxUses: number | null; expiresIn: string },
): Promise<Invite> {
  if (!(input.expiresIn in INVITE_EXPIRIES))
    throw invalid(`expires: must be one of ${Object.keys(INVITE_EXPIRIES).join(", ")}`, {
      expires: "is not one of the offered durations",
    });
  const uses = input.maxUses;
  if (uses !== null && (!Number.isInteger(uses) || uses < 1 || uses > MAX_INVITE_USES))
    throw invalid(`uses: must be a whole number from 1 to ${MAX_INVITE_USES}, or unlimited`, {
      uses: `must be from 1 to ${MAX_INVITE_USES}`,
    });
  const ttl = INVITE_EXPIRIES[input.expiresIn] ?? null;
  const ts = now();
  const row = {
    id: newId(),
    // 72 bits, in the link only: guessing one is out of reach, and it stays short enough to read out.
    code: randomBytes(9).toString("base64url"),
    created_by: input.createdBy,
    max_uses: uses,
    uses: 0,
    expires_at: ttl === null ? null : new Date(Date.now() + ttl).toISOString(),
    revoked_at: null,
    created_at: ts,
  };
  await db.insertInto("invites").values(row).execute();
  return toInvite(row);
}

type InviteRow = {
  code: string;
  max_uses: number | null;
  uses: number;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
  created_by: string | null;
};

const usableRow = (r: InviteRow, at = now()) =>
  r.revoked_at === null && (r.expires_at === null || r.expires_at > at) && (r.max_uses === null || r.uses < r.max_uses);

function toInvite(r: InviteRow): Invite {
  return {
    code: r.code,
    maxUses: r.max_uses,
    uses: r.uses,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    createdAt: r.created_at,
    createdBy: r.created_by,
    usable: usableRow(r),
  };
}

/** Newest first; `all` includes revoked, expired and used-up ones. */
export async function listInvites(db: Db, options: { all?: boolean } = {}): Promise<Invite[]> {
  const rows = await db.selectFrom("invites").selectAll().orderBy("created_at", "desc").limit(500).execute();
  return rows.map(toInvite).filter((i) => options.all || i.usable);
}

/** The invite behind a link, if it can still be used. */
export async function usableInvite(db: Db, code: string): Promise<Invite | null> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(code)) return null;
  const row = await db.selectFrom("invites").selectAll().where("code", "=", code).executeTakeFirst();
  return row && usableRow(row) ? toInvite(row) : null;
}

/**
 * Takes one use of an invite, inside the sign-up's transaction: one
 * conditional UPDATE, so two sign-ups racing for its last use can't both get it.
 */
export async function useInvite(db: Db, code: string): Promise<string> {
  const ts = now();
  const result = await db
    .updateTable("invites")
    .set((eb) => ({ uses: eb("uses", "+", 1) }))
    .where("code", "=", code)
    .where("revoked_at", "is", null)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", ts)]))
    .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))]))
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1)
    throw invalid("invite: this invite link has expired, been used up or been revoked", {
      invite: "has expired, been used up or been revoked",
    });
  const row = await db.selectFrom("invites").select("id").where("code", "=", code).executeTakeFirstOrThrow();
  return row.id;
}

export async function revokeInvite(db: Db, code: string): Promise<void> {
  const result = await db
    .updateTable("invites")
    .set({ revoked_at: now() })
    .where("code", "=", code)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw notFound(`invite ${code}`);
}
