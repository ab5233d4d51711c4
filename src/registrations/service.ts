// Who may sign up (issue 13): the instance's mode, an invite link, an
// application an admin approves, and acceptance of the rules and privacy
// notice. The account itself is created only through src/accounts.
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { dummyHash, hashPassword, verifyPassword } from "../accounts/passwords.ts";
import {
  assertNameAllowed,
  assertNameFree,
  createUser,
  insertAccount,
  isUniqueViolation,
  type LocalUser,
  signUpInput,
} from "../accounts/service.ts";
import { conflict, forbidden, invalid, notFound, parseInput } from "../errors.ts";
import { newId, now } from "../ids.ts";
import { getSettings } from "../instance/settings.ts";
import { notify } from "../notifications/service.ts";
import { hostOf } from "../urls.ts";
import { usableInvite, useInvite } from "./invites.ts";

export const MAX_ANSWER_LENGTH = 1000;

export interface SignUpForm {
  username: string;
  password: string;
  email?: string;
  /** The answer to the application question ("approval required"). */
  answer?: string;
  /** Ticked "I accept the rules and the privacy notice". */
  agreed?: boolean;
  invite?: string;
}

export type SignUpOutcome = { kind: "created"; user: LocalUser } | { kind: "applied"; username: string };

/** Signs someone up as the instance's settings allow: an account now, or an application for the admins. */
export async function signUp(db: Db, origin: string, form: SignUpForm): Promise<SignUpOutcome> {
  const settings = await getSettings(db);
  if (settings.requireAgreement && !form.agreed)
    throw invalid("agree: accept the rules and the privacy notice to sign up", {
      agree: "accept the rules and the privacy notice to sign up",
    });
  const agreedAt = settings.requireAgreement ? now() : null;
  const account = { username: form.username, password: form.password, email: form.email };
  if (form.invite) {
    if (!(await usableInvite(db, form.invite)))
      throw invalid("invite: this invite link has expired, been used up or been revoked", {
        invite: "has expired, been used up or been revoked",
      });
    const code = form.invite;
    const user = await createUser(db, origin, account, {
      agreedAt,
      alsoInTransaction: async (trx) => ({ inviteId: await useInvite(trx, code) }),
    });
    return { kind: "created", user };
  }
  switch (settings.registrations) {
    case "open":
      return { kind: "created", user: await createUser(db, origin, account, { agreedAt }) };
    case "approval":
      return apply(db, origin, { ...account, answer: form.answer ?? "", agreedAt });
    case "invite":
      throw forbidden("sign-ups on this instance are by invitation: ask a member or an admin for an invite link");
    default:
      throw forbidden("sign-ups are closed on this instance");
  }
}

const answerSchema = z
  .string()
  .trim()
  .min(1, "answer the question: the admins read it before approving")
  .max(MAX_ANSWER_LENGTH, `must be at most ${MAX_ANSWER_LENGTH} characters`);

async function apply(
  db: Db,
  origin: string,
  input: { username: string; password: string; email?: string; answer: string; agreedAt: string | null },
): Promise<SignUpOutcome> {
  const data = parseInput(signUpInput.extend({ answer: answerSchema }), input);
  const key = data.username.toLowerCase();
  assertNameAllowed(key, data.username);
  await assertNameFree(db, hostOf(origin), key, data.username);
  const passwordHash = await hashPassword(data.password);
  const id = newId();
  await inTransaction(db, async (trx) => {
    await assertNameFree(trx, hostOf(origin), key, data.username);
    await trx
      .insertInto("registration_applications")
      .values({
        id,
        username: data.username,
        username_key: key,
        email: data.email ?? null,
        password_hash: passwordHash,
        answer: data.answer,
        agreed_at: input.agreedAt,
        created_at: now(),
      })
      .execute()
      .catch((e: unknown) => {
        // Two applications racing for one name: the unique index decides.
        throw isUniqueViolation(e)
          ? conflict(`the name "${data.username}" is already taken`, { username: "is already taken" })
          : e;
      });
    const admins = await trx.selectFrom("users").select("actor_id").where("role", "=", "admin").execute();
    await notify(
      trx,
      admins.map((a) => ({ userId: a.actor_id, kind: "registration" as const })),
    );
  });
  return { kind: "applied", username: data.username };
}

export interface Application {
  id: string;
  username: string;
  answer: string;
  hasEmail: boolean;
  agreed: boolean;
  createdAt: string;
}

/** Applications waiting for an admin, oldest first. */
export async function listApplications(db: Db, limit = 200): Promise<Application[]> {
  const rows = await db
    .selectFrom("registration_applications")
    .select(["id", "username", "answer", "email", "agreed_at", "created_at"])
    .orderBy("created_at")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    answer: r.answer,
    hasEmail: r.email !== null,
    agreed: r.agreed_at !== null,
    createdAt: r.created_at,
  }));
}

async function findApplication(db: Db, username: string) {
  const row = await db
    .selectFrom("registration_applications")
    .selectAll()
    .where("username_key", "=", username.trim().replace(/^@/, "").toLowerCase())
    .executeTakeFirst();
  if (!row) throw notFound(`application from ${username}`);
  return row;
}

/** Creates the account an application asked for (with the password chosen then); the application goes. */
export async function approveApplication(db: Db, origin: string, username: string): Promise<LocalUser> {
  const app = await findApplication(db, username);
  return insertAccount(
    db,
    origin,
    { username: app.username, email: app.email, passwordHash: app.password_hash },
    {
      agreedAt: app.agreed_at,
      alsoInTransaction: async (trx) => {
        const gone = await trx.deleteFrom("registration_applications").where("id", "=", app.id).executeTakeFirst();
        // Approved or rejected meanwhile by another admin: nothing is created twice.
        if (Number(gone.numDeletedRows) !== 1) throw notFound(`application from ${username}`);
        return undefined;
      },
    },
  );
}

/** Refuses an application: nothing of it is kept (its name is free again). */
export async function rejectApplication(db: Db, username: string): Promise<void> {
  const app = await findApplication(db, username);
  await db.deleteFrom("registration_applications").where("id", "=", app.id).execute();
}

/**
 * For the log-in page: whether these credentials belong to an application
 * still waiting (the applicant is told so, instead of "wrong password").
 */
export async function isWaitingApplicant(db: Db, username: string, password: string): Promise<boolean> {
  const row = await db
    .selectFrom("registration_applications")
    .select("password_hash")
    .where("username_key", "=", username.trim().toLowerCase())
    .executeTakeFirst();
  // The same work either way, as authenticate() does.
  const ok = await verifyPassword(row?.password_hash ?? (await dummyHash()), password);
  return row !== undefined && ok;
}
