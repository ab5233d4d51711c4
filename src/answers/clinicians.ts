// The admin-set "verified clinician" badge: a profession ("Nurse",
// "Cardiologist") and an optional registration reference readers can check
// against a professional register. The actor carries it as a `PropertyValue`
// (federation/actors.ts), so granting or revoking it federates an `Update`.
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { findLocalUser } from "../accounts/service.ts";
import { notFound, parseInput } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { now } from "../ids.ts";

export const PROFESSION_MAX = 60;
export const REGISTRATION_MAX = 100;

const badgeInput = z.object({
  profession: z
    .string()
    .trim()
    .min(1, "is required")
    .max(PROFESSION_MAX, `must be at most ${PROFESSION_MAX} characters`)
    .refine((v) => !/[\r\n]/.test(v), "must be one line"),
  registration: z
    .string()
    .trim()
    .max(REGISTRATION_MAX, `must be at most ${REGISTRATION_MAX} characters`)
    .refine((v) => !/[\r\n]/.test(v), "must be one line")
    .optional()
    .transform((v) => (v ? v : null)),
});

export interface ClinicianBadge {
  profession: string;
  registration: string | null;
}

/**
 * Grants the badge (or changes its profession and registration) when `badge`
 * is given, revokes it when null. `verifiedBy`: the admin, null at the CLI.
 */
export async function setClinician(
  db: Db,
  username: string,
  badge: z.input<typeof badgeInput> | null,
  verifiedBy: string | null = null,
): Promise<void> {
  const data = badge ? parseInput(badgeInput, badge) : null;
  const user = await findLocalUser(db, username);
  if (!user) throw notFound(`user "${username}"`);
  const ts = now();
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom("clinician_badges").where("user_id", "=", user.actorId).execute();
    if (data)
      await trx
        .insertInto("clinician_badges")
        .values({ user_id: user.actorId, ...data, verified_by: verifiedBy, verified_at: ts })
        .execute();
    await trx
      .updateTable("users")
      .set({ is_clinician: data ? 1 : 0 })
      .where("actor_id", "=", user.actorId)
      .execute();
    await trx.updateTable("actors").set({ updated_at: ts }).where("id", "=", user.actorId).execute();
    await recordEvent(trx, { type: "actor.updated", actorId: user.actorId });
  });
}

/** A local member's badge, if an admin gave one. */
export async function clinicianBadge(db: Db, actorId: string): Promise<ClinicianBadge | null> {
  const row = await db
    .selectFrom("clinician_badges")
    .innerJoin("users", "users.actor_id", "clinician_badges.user_id")
    .select(["clinician_badges.profession", "clinician_badges.registration"])
    .where("clinician_badges.user_id", "=", actorId)
    .where("users.is_clinician", "=", 1)
    .executeTakeFirst();
  return row ?? null;
}
