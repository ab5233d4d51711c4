// Password reset by email (issue 13), for members with an address on file: a
// single-use link that expires in an hour, mailed through the instance's own
// SMTP server. Only the token's hash is stored. The form answers the same
// whether or not an account matches, so it tells nobody who is a member.
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { invalid } from "../errors.ts";
import { now } from "../ids.ts";
import { logger } from "../logging.ts";
import type { Mailer } from "../mail/mailer.ts";
import { consume, RateLimitedError } from "../web/rate-limit.ts";
import { hashPassword } from "./passwords.ts";
import { PASSWORD_MIN } from "./service.ts";

export const RESET_TTL_MS = 3_600_000;
const log = logger("accounts", "password-reset");

const digest = (token: string) => createHash("sha256").update(token).digest("hex");

/** The member a username or an email address names, if they have an address to send to. */
async function recipientOf(db: Db, identifier: string) {
  const id = identifier.trim().replace(/^@/, "");
  if (!id || id.length > 320) return undefined;
  const q = db
    .selectFrom("users")
    .innerJoin("actors", "actors.id", "users.actor_id")
    .select(["users.actor_id as userId", "users.email", "actors.username"])
    .where("actors.deleted_at", "is", null)
    .where("users.email", "is not", null);
  // Addresses are compared without case, as mail systems treat them in practice.
  const row = id.includes("@")
    ? await q.where((eb) => eb(eb.fn("lower", ["users.email"]), "=", id.toLowerCase())).executeTakeFirst()
    : await q.where("actors.username_key", "=", id.toLowerCase()).executeTakeFirst();
  return row?.email ? { userId: row.userId, email: row.email, username: row.username } : undefined;
}

/**
 * Mails a reset link when `identifier` names a member with an address. A new
 * link replaces any earlier one. The mail goes out after this returns, so the
 * answer's timing does not tell whether an account matched either.
 */
export async function requestPasswordReset(
  db: Db,
  mailer: Mailer,
  site: { origin: string; name: string },
  identifier: string,
): Promise<void> {
  const who = await recipientOf(db, identifier);
  if (!who) return;
  // Three mails an hour per account, however it is named (username, "@name", address); past that the answer
  // is the same and no mail goes, so the limit tells nobody the account exists.
  try {
    await consume(db, `reset:user:${who.userId}`, 3, 3_600_000);
  } catch (error) {
    if (error instanceof RateLimitedError) return;
    throw error;
  }
  const token = randomBytes(32).toString("base64url");
  const ts = Date.now();
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom("password_resets").where("user_id", "=", who.userId).execute();
    await trx
      .insertInto("password_resets")
      .values({
        token_hash: digest(token),
        user_id: who.userId,
        created_at: new Date(ts).toISOString(),
        expires_at: new Date(ts + RESET_TTL_MS).toISOString(),
        used_at: null,
      })
      .execute();
  });
  const link = new URL(`/reset-password/${token}`, site.origin).href;
  const text =
    `Someone (hopefully you) asked to reset the password of @${who.username} on ${site.name}.\n\n` +
    `To choose a new password, open this link within an hour:\n\n${link}\n\n` +
    "The link works once. If you did not ask for this, ignore this message: your password stays as it is.\n";
  mailer
    .send({ to: who.email, subject: `Reset your password on ${site.name}`, text })
    .then(() => log.info("sent a password reset link to user {userId}", { userId: who.userId }))
    .catch((error: { code?: string }) =>
      log.warn("could not send a password reset link to user {userId}: {code}", {
        userId: who.userId,
        code: error.code ?? "error",
      }),
    );
}

const expired = () =>
  invalid("this reset link is invalid, used or expired: ask for a new one", { token: "is invalid" });

/** Whether a link's token is still good (to show the form, or say it is not). */
export async function resetTokenValid(db: Db, token: string): Promise<boolean> {
  const row = await db
    .selectFrom("password_resets")
    .select("user_id")
    .where("token_hash", "=", digest(token))
    .where("used_at", "is", null)
    .where("expires_at", ">", now())
    .executeTakeFirst();
  return row !== undefined;
}

/** Sets the new password with the link's token: the token is spent and every session ends, in one transaction. */
export async function resetPassword(db: Db, token: string, password: string): Promise<string> {
  if (password.length < PASSWORD_MIN || password.length > 256)
    throw invalid(`the new password must be ${PASSWORD_MIN} to 256 characters`, {
      password: "is too short or too long",
    });
  const hashed = await hashPassword(password);
  return inTransaction(db, async (trx) => {
    const row = await trx
      .selectFrom("password_resets")
      .select("user_id")
      .where("token_hash", "=", digest(token))
      .where("used_at", "is", null)
      .where("expires_at", ">", now())
      .executeTakeFirst();
    if (!row) throw expired();
    // A conditional update: a link raced by two requests is spent once.
    const spent = await trx
      .updateTable("password_resets")
      .set({ used_at: now() })
      .where("token_hash", "=", digest(token))
      .where("used_at", "is", null)
      .executeTakeFirst();
    if (Number(spent.numUpdatedRows) !== 1) throw expired();
    await trx.updateTable("users").set({ password_hash: hashed }).where("actor_id", "=", row.user_id).execute();
    await trx.deleteFrom("sessions").where("user_id", "=", row.user_id).execute();
    return row.user_id;
  });
}
