import type { Db } from "../../db/schema.ts";
import { now } from "../ids.ts";
import { actorIri, hostOf } from "../urls.ts";

/** The instance's own `Application` actor: it signs fetches made on nobody's behalf. */
export const INSTANCE_IDENTIFIER = "instance";

/** The instance actor's row, created on first use (its keys hang off it). */
export async function ensureInstanceActor(db: Db, origin: string): Promise<string> {
  const iri = actorIri(origin, INSTANCE_IDENTIFIER);
  const existing = await db.selectFrom("actors").select("id").where("iri", "=", iri).executeTakeFirst();
  if (existing) return existing.id;
  const ts = now();
  await db
    .insertInto("actors")
    .values({
      id: "00000000-0000-7000-8000-000000000000", iri, type: "Application", username: INSTANCE_IDENTIFIER, username_key: INSTANCE_IDENTIFIER,
      host: hostOf(origin), local: 1, name: null, summary_html: null, url: origin, inbox_url: `${iri}/inbox`, shared_inbox_url: `${origin}/inbox`,
      outbox_url: null, followers_url: null, following_url: null, featured_url: null, avatar_url: null, manually_approves_followers: 1,
      discoverable: 0, created_at: ts, updated_at: ts, fetched_at: null, deleted_at: null,
    })
    .onConflict((oc) => oc.column("iri").doNothing())
    .execute();
  return (await db.selectFrom("actors").select("id").where("iri", "=", iri).executeTakeFirstOrThrow()).id;
}
