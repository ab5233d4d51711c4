import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { renderMarkdown } from "../content/markdown.ts";
import { conflict, DomainError, forbidden, invalid, notFound, parseInput } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { newId, now } from "../ids.ts";
import { actorIri, hostOf } from "../urls.ts";
import { handleSchema, RESERVED_NAMES, SYSTEM_NAMES } from "./names.ts";
import { dummyHash, hashPassword, verifyPassword } from "./passwords.ts";

export const PASSWORD_MIN = 8;

const optionalEmail = z
  .string()
  .trim()
  .max(254)
  .transform((v) => (v === "" ? undefined : v))
  .pipe(z.email("is not a valid email address").optional())
  .optional();

export const signUpInput = z.object({
  username: handleSchema,
  password: z
    .string()
    .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
    .max(256, "must be at most 256 characters"),
  email: optionalEmail,
});
export type SignUpInput = z.input<typeof signUpInput>;

export const profileInput = z.object({
  displayName: z.string().trim().max(100, "must be at most 100 characters"),
  bio: z.string().max(5000, "must be at most 5000 characters"),
  email: optionalEmail,
});

export interface CreateUserOptions {
  role?: "admin" | "member";
  /** Public sign-up may not take reserved names; the CLI may. */
  allowReserved?: boolean;
}

export interface LocalUser {
  actorId: string;
  username: string;
  iri: string;
  role: "admin" | "member";
  isClinician: boolean;
}

export interface NewAccountOptions extends CreateUserOptions {
  /** When the new member accepted the rules and privacy notice. */
  agreedAt?: string | null;
  /** Runs inside the account's transaction (an invite's use, an approved application's removal). */
  alsoInTransaction?: (trx: Db) => Promise<{ inviteId?: string } | undefined>;
}

/** Creates a local user (a Person actor plus account row) in one transaction. */
export async function createUser(
  db: Db,
  origin: string,
  input: SignUpInput,
  options: NewAccountOptions = {},
): Promise<LocalUser> {
  const data = parseInput(signUpInput, input);
  const key = data.username.toLowerCase();
  assertNameAllowed(key, data.username, options);
  // Cheap check first: a taken name should not cost an Argon2 hash.
  await assertNameFree(db, hostOf(origin), key, data.username);
  const passwordHash = await hashPassword(data.password);
  return insertAccount(db, origin, { username: data.username, email: data.email ?? null, passwordHash }, options);
}

export function assertNameAllowed(key: string, display: string, options: CreateUserOptions = {}): void {
  if (SYSTEM_NAMES.has(key) || (!options.allowReserved && RESERVED_NAMES.has(key))) {
    throw conflict(`the name "${display}" is reserved`, { username: "is reserved" });
  }
}

/** The account rows, for a checked name and an already hashed password (an approved application keeps its hash). */
export async function insertAccount(
  db: Db,
  origin: string,
  account: { username: string; email: string | null; passwordHash: string },
  options: NewAccountOptions = {},
): Promise<LocalUser> {
  const key = account.username.toLowerCase();
  const host = hostOf(origin);
  const id = newId();
  const ts = now();
  const iri = actorIri(origin, key);
  const role = options.role ?? "member";
  await inTransaction(db, async (trx) => {
    // First what goes with the account (an approved application leaves the queue), then the name's check.
    const extra = await options.alsoInTransaction?.(trx);
    await assertNameFree(trx, host, key, account.username);
    await trx
      .insertInto("actors")
      .values({
        id,
        iri,
        type: "Person",
        username: account.username,
        username_key: key,
        host,
        local: 1,
        name: null,
        summary_html: null,
        url: iri,
        inbox_url: `${iri}/inbox`,
        shared_inbox_url: `${origin}/inbox`,
        outbox_url: `${iri}/outbox`,
        followers_url: `${iri}/followers`,
        following_url: `${iri}/following`,
        featured_url: null,
        avatar_url: null,
        manually_approves_followers: 0,
        discoverable: 1,
        created_at: ts,
        updated_at: ts,
        fetched_at: null,
        deleted_at: null,
      })
      .execute();
    await trx
      .insertInto("users")
      .values({
        actor_id: id,
        password_hash: account.passwordHash,
        email: account.email,
        role,
        is_clinician: 0,
        bio_source: "",
        created_at: ts,
        agreed_at: options.agreedAt ?? null,
        invite_id: extra?.inviteId ?? null,
      })
      .execute();
  }).catch((e) => {
    // Two sign-ups racing for one name: the unique index decides.
    throw isUniqueViolation(e)
      ? conflict(`the name "${account.username}" is already taken`, { username: "is already taken" })
      : e;
  });
  return { actorId: id, username: account.username, iri, role, isClinician: false };
}

/** Throws `conflict` when a local user or community already holds the name (case-insensitive). */
export async function assertNameFree(db: Db, host: string, key: string, display: string): Promise<void> {
  const taken = await db
    .selectFrom("actors")
    .select("id")
    .where("host", "=", host)
    .where("username_key", "=", key)
    .executeTakeFirst();
  // An application waiting for approval holds its name too (src/registrations): one namespace.
  const applied = await db
    .selectFrom("registration_applications")
    .select("id")
    .where("username_key", "=", key)
    .executeTakeFirst();
  if (taken || applied) throw conflict(`the name "${display}" is already taken`, { username: "is already taken" });
}

export async function findLocalUser(db: Db, username: string) {
  return db
    .selectFrom("users")
    .innerJoin("actors", "actors.id", "users.actor_id")
    .select([
      "actors.id as actorId",
      "actors.username",
      "actors.iri",
      "actors.name",
      "actors.summary_html as bioHtml",
      "actors.avatar_url as avatarUrl",
      "actors.created_at as createdAt",
      "users.role",
      "users.is_clinician as isClinician",
      "users.email",
      "users.bio_source as bioSource",
      "users.password_hash as passwordHash",
    ])
    .where("actors.username_key", "=", username.toLowerCase())
    .where("actors.local", "=", 1)
    .where("actors.deleted_at", "is", null)
    .executeTakeFirst();
}

/** Checks a username/password pair; the same work is done for unknown names. */
export async function authenticate(db: Db, username: string, password: string): Promise<string> {
  const user = username.length <= 30 ? await findLocalUser(db, username) : undefined;
  const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
  if (!user || !ok) throw new DomainError("unauthorized", "wrong username or password");
  return user.actorId;
}

export async function listUsers(db: Db, options: { limit?: number; cursor?: string } = {}) {
  let q = db
    .selectFrom("users")
    .innerJoin("actors", "actors.id", "users.actor_id")
    .select([
      "actors.id",
      "actors.username",
      "actors.name",
      "users.role",
      "users.is_clinician as isClinician",
      "users.created_at as createdAt",
    ])
    .where("actors.deleted_at", "is", null)
    .orderBy("actors.id")
    .limit(options.limit ?? 100);
  if (options.cursor) q = q.where("actors.id", ">", options.cursor);
  return (await q.execute()).map((u) => ({ ...u, isClinician: u.isClinician === 1 }));
}

/** The first admin: owns what the CLI creates when no owner is named. */
export async function findOldestAdmin(db: Db) {
  return db
    .selectFrom("users")
    .innerJoin("actors", "actors.id", "users.actor_id")
    .select(["actors.id as actorId", "actors.username"])
    .where("users.role", "=", "admin")
    .where("actors.deleted_at", "is", null)
    .orderBy("users.created_at")
    .orderBy("actors.id")
    .limit(1)
    .executeTakeFirst();
}

export async function updateProfile(
  db: Db,
  origin: string,
  actorId: string,
  input: z.input<typeof profileInput>,
): Promise<void> {
  const data = parseInput(profileInput, input);
  const ts = now();
  await inTransaction(db, async (trx) => {
    await trx
      .updateTable("actors")
      .set({
        name: data.displayName === "" ? null : data.displayName,
        summary_html: data.bio.trim() === "" ? null : renderMarkdown(data.bio, origin),
        updated_at: ts,
      })
      .where("id", "=", actorId)
      .execute();
    await trx
      .updateTable("users")
      .set({ bio_source: data.bio, email: data.email ?? null })
      .where("actor_id", "=", actorId)
      .execute();
    await recordEvent(trx, { type: "actor.updated", actorId });
  });
}

export async function setAvatar(db: Db, actorId: string, url: string | null): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx.updateTable("actors").set({ avatar_url: url, updated_at: now() }).where("id", "=", actorId).execute();
    await recordEvent(trx, { type: "actor.updated", actorId });
  });
}

export async function changePassword(db: Db, actorId: string, current: string, next: string): Promise<void> {
  const user = await db.selectFrom("users").select("password_hash").where("actor_id", "=", actorId).executeTakeFirst();
  if (!user) throw notFound("user");
  if (!(await verifyPassword(user.password_hash, current)))
    throw invalid("the current password is wrong", { current: "is wrong" });
  if (next.length < PASSWORD_MIN || next.length > 256)
    throw invalid(`the new password must be ${PASSWORD_MIN} to 256 characters`, {
      password: "is too short or too long",
    });
  const hashed = await hashPassword(next);
  await inTransaction(db, async (trx) => {
    await trx.updateTable("users").set({ password_hash: hashed }).where("actor_id", "=", actorId).execute();
    // A password change signs every other device out, and voids any reset link mailed before it.
    await trx.deleteFrom("sessions").where("user_id", "=", actorId).execute();
    await trx.deleteFrom("password_resets").where("user_id", "=", actorId).execute();
  });
}

export async function setRole(db: Db, username: string, role: "admin" | "member"): Promise<void> {
  const user = await findLocalUser(db, username);
  if (!user) throw notFound(`user "${username}"`);
  await inTransaction(db, async (trx) => {
    await trx.updateTable("users").set({ role }).where("actor_id", "=", user.actorId).execute();
    if (!(await findOldestAdmin(trx)))
      throw forbidden("an instance needs at least one admin; promote another user first");
  });
}

// ---- sessions ----

export const SESSION_DAYS = 30;
const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");

/** Starts a session; returns the cookie token (only its hash is stored). */
export async function createSession(db: Db, userId: string, userAgent: string | null): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  const ts = new Date();
  await db
    .insertInto("sessions")
    .values({
      id: sha256(token),
      user_id: userId,
      created_at: ts.toISOString(),
      last_seen_at: ts.toISOString(),
      expires_at: new Date(ts.getTime() + SESSION_DAYS * 86_400_000).toISOString(),
      user_agent: userAgent?.slice(0, 200) ?? null,
    })
    .execute();
  return token;
}

export interface SessionUser {
  sessionId: string;
  actorId: string;
  username: string;
  name: string | null;
  role: "admin" | "member";
  isClinician: boolean;
  iri: string;
}

export async function userForSession(db: Db, token: string): Promise<SessionUser | undefined> {
  const id = sha256(token);
  const row = await db
    .selectFrom("sessions")
    .innerJoin("users", "users.actor_id", "sessions.user_id")
    .innerJoin("actors", "actors.id", "users.actor_id")
    .select([
      "sessions.id as sessionId",
      "sessions.expires_at",
      "sessions.last_seen_at",
      "actors.id as actorId",
      "actors.username",
      "actors.name",
      "actors.iri",
      "users.role",
      "users.is_clinician",
    ])
    .where("sessions.id", "=", id)
    .executeTakeFirst();
  if (!row) return undefined;
  const t = Date.now();
  if (row.expires_at < new Date(t).toISOString()) {
    await db.deleteFrom("sessions").where("id", "=", id).execute();
    return undefined;
  }
  // Sliding expiry, written at most once an hour to keep reads cheap.
  if (Date.parse(row.last_seen_at) < t - 3_600_000) {
    await db
      .updateTable("sessions")
      .set({
        last_seen_at: new Date(t).toISOString(),
        expires_at: new Date(t + SESSION_DAYS * 86_400_000).toISOString(),
      })
      .where("id", "=", id)
      .execute();
  }
  return {
    sessionId: row.sessionId,
    actorId: row.actorId,
    username: row.username,
    name: row.name,
    role: row.role,
    isClinician: row.is_clinician === 1,
    iri: row.iri,
  };
}

export async function deleteSession(db: Db, token: string): Promise<void> {
  await db.deleteFrom("sessions").where("id", "=", sha256(token)).execute();
}

/** SQLite and PostgreSQL name a unique-constraint failure differently. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    err?.code === "23505" || err?.code === "SQLITE_CONSTRAINT_UNIQUE" || err?.code === "SQLITE_CONSTRAINT_PRIMARYKEY"
  );
}
