// Recovery codes (issue 13): ten one-time codes, shown once at sign-up and
// whenever the member makes new ones, each resetting the password once. For
// pseudonymous members without an email address they are the only way back in.
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { invalid } from "../errors.ts";
import { now } from "../ids.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { findLocalUser, PASSWORD_MIN } from "./service.ts";

export const RECOVERY_CODES = 10;

// Crockford's base32 without look-alikes: read off paper, typed back in.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** 16 symbols (80 bits), shown as four groups of four. */
function newCode(): string {
  const bytes = randomBytes(16);
  let code = "";
  for (const b of bytes) code += ALPHABET[b & 31];
  return code.match(/.{4}/g)?.join("-") ?? code;
}

/** What a typed code is compared as: case, spaces, dashes and look-alike letters don't matter. */
const normalized = (code: string) => code.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");

const digest = (code: string) => createHash("sha256").update(normalized(code)).digest("hex");

/** Replaces the member's codes with new ones; returns them (they are never shown again). */
export async function newRecoveryCodes(db: Db, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODES }, newCode);
  const ts = now();
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
    await trx
      .insertInto("recovery_codes")
      .values(codes.map((c) => ({ user_id: userId, code_hash: digest(c), used_at: null, created_at: ts })))
      .execute();
  });
  return codes;
}

/** Codes the member still has. */
export async function recoveryCodesLeft(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom("recovery_codes")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("user_id", "=", userId)
    .where("used_at", "is", null)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Makes new codes after checking the member's password (a stolen session alone can't replace them). */
export async function regenerateRecoveryCodes(db: Db, userId: string, password: string): Promise<string[]> {
  const user = await db.selectFrom("users").select("password_hash").where("actor_id", "=", userId).executeTakeFirst();
  if (!user || !(await verifyPassword(user.password_hash, password)))
    throw invalid("the password is wrong", { current: "is wrong" });
  return newRecoveryCodes(db, userId);
}

/**
 * Sets a new password with a recovery code: the code is spent and every
 * session ends, in one transaction. Unknown names and wrong codes get the
 * same answer (and the same work), so the form tells nobody who has an account.
 */
export async function recoverAccount(
  db: Db,
  input: { username: string; code: string; password: string },
): Promise<{ userId: string; left: number }> {
  if (input.password.length < PASSWORD_MIN || input.password.length > 256)
    throw invalid(`the new password must be ${PASSWORD_MIN} to 256 characters`, {
      password: "is too short or too long",
    });
  const wrong = () => invalid("that username and recovery code don't match", { code: "doesn't match" });
  const user = await findLocalUser(db, input.username.trim().replace(/^@/, ""));
  const hashed = await hashPassword(input.password);
  // The new password was hashed above either way: a known and an unknown name cost the same.
  if (!user) throw wrong();
  const userId = user.actorId;
  await inTransaction(db, async (trx) => {
    // A conditional update: a code raced by two requests is spent once.
    const spent = await trx
      .updateTable("recovery_codes")
      .set({ used_at: now() })
      .where("user_id", "=", userId)
      .where("code_hash", "=", digest(input.code))
      .where("used_at", "is", null)
      .executeTakeFirst();
    if (Number(spent.numUpdatedRows) !== 1) throw wrong();
    await trx.updateTable("users").set({ password_hash: hashed }).where("actor_id", "=", userId).execute();
    await trx.deleteFrom("sessions").where("user_id", "=", userId).execute();
    // A reset link mailed earlier would set the password again: it goes too.
    await trx.deleteFrom("password_resets").where("user_id", "=", userId).execute();
  });
  return { userId, left: await recoveryCodesLeft(db, userId) };
}
