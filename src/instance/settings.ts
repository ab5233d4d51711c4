import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { parseInput } from "../errors.ts";

// Instance-wide settings an admin changes at run time (config is for what
// needs a restart). Stored as key/value rows; defaults apply when absent.
export const settingsSchema = z.object({
  description: z.string().max(5000).default("A Kindred instance: patient communities on the fediverse."),
  /** Who may create communities. */
  communityCreation: z.enum(["admins", "members"]).default("admins"),
  /** Whether the public may sign up. */
  registrations: z.enum(["open", "closed"]).default("open"),
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
