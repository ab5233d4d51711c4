import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { DomainError, parseInput } from "../errors.ts";

const DEFAULT_PRIVACY_NOTICE = `This instance keeps what you give it to run your account: your username,
an email address if you add one, a hash of your password (never the password), what you post,
and who you follow and which communities you join. Your posts go to the servers of the people and communities
they are addressed to.

Health information is sensitive. Nothing here is sold or shared with advertisers, and pages load nothing from other
websites.

You can download everything this instance holds about you, and erase your account: your posts are then deleted here
and on every server they reached, and you get a receipt (Settings → Your data).

*Admins: say here who runs this instance, how to reach them, and how long backups are kept.*`;

// Instance-wide settings an admin changes at run time (config is for what
// needs a restart). Stored as key/value rows; defaults apply when absent.
export const settingsSchema = z.object({
  description: z.string().max(5000).default("A Kindred instance: patient communities on the fediverse."),
  /** Who may create communities. */
  communityCreation: z.enum(["admins", "members"]).default("admins"),
  /**
   * Who may sign up: anyone; anyone, once an admin approved their answer to
   * `applicationQuestion`; only with an invite link; nobody (invite links still work, as on Mastodon).
   */
  registrations: z.enum(["open", "approval", "invite", "closed"]).default("open"),
  applicationQuestion: z.string().trim().min(1).max(500).default("Why would you like to join?"),
  /** Markdown. The instance's rules, shown at sign-up and on /rules. */
  rules: z.string().max(10_000).default(""),
  /** Markdown. What the instance keeps about members and for how long (/privacy). */
  privacyNotice: z.string().max(20_000).default(DEFAULT_PRIVACY_NOTICE),
  /** New accounts must accept the rules and the privacy notice. */
  requireAgreement: z.boolean().default(false),
  /** "allowlist": only domains on the allow list federate (Mastodon's limited federation). */
  federationMode: z.enum(["open", "allowlist"]).default("open"),
});
export type InstanceSettings = z.output<typeof settingsSchema>;

export async function getSettings(db: Db): Promise<InstanceSettings> {
  const rows = await db.selectFrom("instance_settings").selectAll().execute();
  const raw = Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  const parsed = settingsSchema.safeParse(raw);
  // A hand-edited row that no longer parses falls back to defaults for all keys
  // rather than breaking every page.
  return parsed.success ? parsed.data : settingsSchema.parse({});
}

export async function updateSettings(
  db: Db,
  patch: Partial<z.input<typeof settingsSchema>>,
): Promise<InstanceSettings> {
  const next = parseInput(settingsSchema, { ...(await getSettings(db)), ...patch });
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const json = JSON.stringify(next[key as keyof InstanceSettings]);
    await db
      .insertInto("instance_settings")
      .values({ key, value: json })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value: json }))
      .execute();
  }
  return next;
}

// The origin a database was first started with. Every IRI in it (members,
// communities, posts, activities) was minted on that host and cannot move, so
// a process configured with another ORIGIN must not write to it.
const ORIGIN_KEY = "origin";

/** The origin stored at the database's first start, if any (also before the settings table exists). */
export async function storedOrigin(db: Db): Promise<string | undefined> {
  const row = await db
    .selectFrom("instance_settings")
    .select("value")
    .where("key", "=", ORIGIN_KEY)
    .executeTakeFirst()
    .catch(() => undefined);
  if (!row) return undefined;
  const value: unknown = JSON.parse(row.value);
  return typeof value === "string" ? value : undefined;
}

/** The refusal, naming both origins: one line for the CLI and the server's log. */
export const originMismatch = (stored: string, configured: string) =>
  new DomainError(
    "conflict",
    `this database belongs to ${stored} (the ORIGIN it was first started with), but ORIGIN is ${configured}; ` +
      `set ORIGIN=${stored} (the IRIs in it cannot move to another host)`,
  );

/** Throws unless the database was created under `origin`; stores it on first use (a new or older database). */
export async function claimOrigin(db: Db, origin: string): Promise<void> {
  await db
    .insertInto("instance_settings")
    .values({ key: ORIGIN_KEY, value: JSON.stringify(origin) })
    .onConflict((oc) => oc.column("key").doNothing())
    .execute();
  // Another process may have claimed it first: what is stored now is the answer.
  const stored = await storedOrigin(db);
  if (stored !== origin) throw originMismatch(stored ?? "(unreadable)", origin);
}

/** Refuses, before anything is written, a database created under another origin. */
export async function checkOrigin(db: Db, origin: string): Promise<void> {
  const stored = await storedOrigin(db);
  if (stored !== undefined && stored !== origin) throw originMismatch(stored, origin);
}
