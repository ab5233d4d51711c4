import type { Db } from "../../db/schema.ts";
import { ensureSystemActor } from "../actors/instance.ts";
import { actorIri } from "../urls.ts";

/** The local actor that anonymized posts belong to: no account, no profile, nobody behind it. */
export const ANONYMOUS_IDENTIFIER = "anonymous";

/** Its row, created on first use. */
export function ensureAnonymousActor(db: Db, origin: string): Promise<string> {
  return ensureSystemActor(db, origin, {
    id: "00000000-0000-7000-8000-000000000001",
    identifier: ANONYMOUS_IDENTIFIER,
    type: "Person",
    name: "Anonymous member",
    url: actorIri(origin, ANONYMOUS_IDENTIFIER),
    collections: true,
  });
}
