import type { Db } from "../../db/schema.ts";
import { DomainError } from "../errors.ts";
import { now } from "../ids.ts";
import { actorIri, hostOf } from "../urls.ts";

/** The instance's own `Application` actor: it signs fetches made on nobody's behalf. */
export const INSTANCE_IDENTIFIER = "instance";

/** The instance actor's row, created on first use (its keys hang off it). */
export function ensureInstanceActor(db: Db, origin: string): Promise<string> {
  return ensureSystemActor(db, origin, {
    id: "00000000-0000-7000-8000-000000000000",
    identifier: INSTANCE_IDENTIFIER,
    type: "Application",
    name: null,
    url: origin,
    collections: false,
  });
}

/** A local actor nobody logs in as (a fixed id, a reserved name), created on first use. */
export async function ensureSystemActor(
  db: Db,
  origin: string,
  a: {
    id: string;
    identifier: string;
    type: "Application" | "Person";
    name: string | null;
    url: string;
    collections: boolean;
  },
): Promise<string> {
  const iri = actorIri(origin, a.identifier);
  const existing = await db.selectFrom("actors").select("id").where("iri", "=", iri).executeTakeFirst();
  if (existing) {
    // The name is reserved, but an account made before it was must never be taken for ours.
    if (existing.id !== a.id)
      throw new DomainError(
        "conflict",
        `the name "${a.identifier}" belongs to an account here; rename that account first`,
      );
    return existing.id;
  }
  const ts = now();
  const collection = (name: string) => (a.collections ? `${iri}/${name}` : null);
  await db
    .insertInto("actors")
    .values({
      id: a.id,
      iri,
      type: a.type,
      username: a.identifier,
      username_key: a.identifier,
      host: hostOf(origin),
      local: 1,
      name: a.name,
      summary_html: null,
      url: a.url,
      inbox_url: `${iri}/inbox`,
      shared_inbox_url: `${origin}/inbox`,
      outbox_url: collection("outbox"),
      followers_url: collection("followers"),
      following_url: collection("following"),
      featured_url: collection("featured"),
      avatar_url: null,
      manually_approves_followers: 1,
      discoverable: 0,
      created_at: ts,
      updated_at: ts,
      fetched_at: null,
      deleted_at: null,
    })
    // Any of its unique keys (id, iri, name): two first requests racing on a new instance both get this row.
    .onConflict((oc) => oc.doNothing())
    .execute();
  return (await db.selectFrom("actors").select("id").where("iri", "=", iri).executeTakeFirstOrThrow()).id;
}
