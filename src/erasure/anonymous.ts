import type { Db } from "../../db/schema.ts";
import { now } from "../ids.ts";
import { actorIri, hostOf } from "../urls.ts";

/** The local actor that anonymized posts belong to: no account, no profile, nobody behind it. */
export const ANONYMOUS_IDENTIFIER = "anonymous";

/** Its row, created on first use. */
export async function ensureAnonymousActor(db: Db, origin: string): Promise<string> {
  const iri = actorIri(origin, ANONYMOUS_IDENTIFIER);
  const existing = await db.selectFrom("actors").select("id").where("iri", "=", iri).executeTakeFirst();
  if (existing) return existing.id;
  const ts = now();
  await db
    .insertInto("actors")
    .values({
      id: "00000000-0000-7000-8000-000000000001", iri, type: "Person", username: ANONYMOUS_IDENTIFIER, username_key: ANONYMOUS_IDENTIFIER,
      host: hostOf(origin), local: 1, name: "Anonymous member", summary_html: null, url: iri, inbox_url: `${iri}/inbox`, shared_inbox_url: `${origin}/inbox`,
      outbox_url: `${iri}/outbox`, followers_url: `${iri}/followers`, following_url: `${iri}/following`, featured_url: `${iri}/featured`, avatar_url: null,
      manually_approves_followers: 1, discoverable: 0, created_at: ts, updated_at: ts, fetched_at: null, deleted_at: null,
    })
    .onConflict((oc) => oc.column("iri").doNothing())
    .execute();
  return (await db.selectFrom("actors").select("id").where("iri", "=", iri).executeTakeFirstOrThrow()).id;
}
