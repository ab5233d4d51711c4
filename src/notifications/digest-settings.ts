// A member's email digest: Off (no row), Daily or Weekly. Offered only where
// the instance sends mail and the member gave an address. The unsubscribe
// link carries a random key that only turns digests off, so it works without
// logging in (RFC 8058 one-click) and is worth nothing to anyone else.
import { randomBytes } from "node:crypto";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { invalid } from "../errors.ts";
import { now } from "../ids.ts";

export const DIGEST_FREQUENCIES = ["off", "daily", "weekly"] as const;
export type DigestChoice = (typeof DIGEST_FREQUENCIES)[number];
export type DigestFrequency = Exclude<DigestChoice, "off">;

const DAY_MS = 24 * 3_600_000;
export const DIGEST_PERIOD_MS: Record<DigestFrequency, number> = { daily: DAY_MS, weekly: 7 * DAY_MS };

export const after = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** Why digests can't be offered to this member, or null when they can. */
export type DigestUnavailable = "no_mail" | "no_email" | null;

/** The member's choice, and whether the choice is theirs to make here. */
export async function digestSetting(
  db: Db,
  userId: string,
  instanceSendsMail: boolean,
): Promise<{ frequency: DigestChoice; unavailable: DigestUnavailable }> {
  const row = await db
    .selectFrom("users")
    .leftJoin("email_digests", "email_digests.user_id", "users.actor_id")
    .select(["users.email", "email_digests.frequency"])
    .where("users.actor_id", "=", userId)
    .executeTakeFirst();
  const unavailable = !instanceSendsMail ? "no_mail" : row?.email ? null : "no_email";
  return { frequency: unavailable ? "off" : (row?.frequency ?? "off"), unavailable };
}

/**
 * Saves the member's choice. A new digest covers what comes after this
 * moment and is first due one period on; changing Daily to Weekly keeps what
 * was covered and counts the new period from the last digest.
 */
export async function setDigestFrequency(
  db: Db,
  userId: string,
  choice: string,
  instanceSendsMail: boolean,
): Promise<void> {
  if (!(DIGEST_FREQUENCIES as readonly string[]).includes(choice))
    throw invalid("digest: must be off, daily or weekly", { digest: "must be off, daily or weekly" });
  const frequency = choice as DigestChoice;
  await inTransaction(db, async (trx) => {
    if (frequency === "off") {
      await trx.deleteFrom("email_digests").where("user_id", "=", userId).execute();
      return;
    }
    const { unavailable } = await digestSetting(trx, userId, instanceSendsMail);
    if (unavailable === "no_mail") throw invalid("digest: this server sends no email", { digest: "no email here" });
    if (unavailable === "no_email")
      throw invalid("digest: add an email address in your account settings first", { digest: "no email address" });
    const period = DIGEST_PERIOD_MS[frequency];
    const existing = await trx
      .selectFrom("email_digests")
      .select(["covered_until"])
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (existing) {
      await trx
        .updateTable("email_digests")
        .set({ frequency, next_due_at: after(existing.covered_until, period), failures: 0 })
        .where("user_id", "=", userId)
        .execute();
      return;
    }
    const ts = now();
    await trx
      .insertInto("email_digests")
      .values({
        user_id: userId,
        frequency,
        unsubscribe_token: newUnsubscribeToken(),
        covered_until: ts,
        last_sent_at: null,
        next_due_at: after(ts, period),
        failures: 0,
        created_at: ts,
      })
      .execute();
  });
}

/** 256 random bits: unguessable, and unique in practice (the column is unique besides). */
const newUnsubscribeToken = () => randomBytes(32).toString("base64url");

/** Only our own tokens' shape is looked up. */
export const TOKEN_SHAPE = /^[\w-]{43}$/;

/** The digest an unsubscribe link is for, if it is still on. */
export async function digestByToken(db: Db, token: string) {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  return db
    .selectFrom("email_digests")
    .select(["user_id as userId", "frequency"])
    .where("unsubscribe_token", "=", token)
    .executeTakeFirst();
}

/** Turns off the digest an unsubscribe link is for; true when one was on. Repeating it is harmless. */
export async function unsubscribe(db: Db, token: string): Promise<boolean> {
  if (!TOKEN_SHAPE.test(token)) return false;
  const result = await db.deleteFrom("email_digests").where("unsubscribe_token", "=", token).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
