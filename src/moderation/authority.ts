// Who may moderate what. A community's moderators (local or remote people)
// act in it; instance admins act anywhere here (at the command line there is
// no person: the log says "an admin"); a remote community acts in itself (its
// Announce carries its authority).
import type { Db } from "../../db/schema.ts";
import { isModerator } from "../communities/membership.ts";
import { forbidden, notFound } from "../errors.ts";

export type Acting =
  | { role: "moderator"; actorId: string }
  | { role: "admin"; actorId: string | null }
  | { role: "group"; actorId: string };

/** An action that arrived from another server: the activity that carried it. */
export interface Received {
  activityIri: string;
  /** The activity as received: a local community re-shares it to its followers. */
  activity?: unknown;
}

export interface ModeratedCommunity {
  id: string;
  iri: string;
  local: boolean;
  slug: string;
  /** Null for a remote community. */
  federation: "federated" | "local" | null;
  visibility: "public" | "members";
  ownerId: string | null;
  hideNames: boolean;
}

export async function moderatedCommunity(db: Db, communityId: string): Promise<ModeratedCommunity> {
  const row = await db
    .selectFrom("actors")
    .leftJoin("communities", "communities.actor_id", "actors.id")
    .select([
      "actors.id",
      "actors.iri",
      "actors.local",
      "actors.username",
      "actors.host",
      "communities.federation",
      "communities.visibility",
      "communities.created_by",
      "communities.hide_modlog_names",
    ])
    .where("actors.id", "=", communityId)
    .where("actors.type", "=", "Group")
    .executeTakeFirst();
  if (!row) throw notFound("community");
  return {
    id: row.id,
    iri: row.iri,
    local: row.local === 1,
    slug: row.local === 1 ? row.username : `${row.username}@${row.host}`,
    federation: row.federation,
    visibility: row.visibility ?? "public",
    ownerId: row.created_by,
    hideNames: row.hide_modlog_names === 1,
  };
}

export async function isAdmin(db: Db, actorId: string): Promise<boolean> {
  const row = await db.selectFrom("users").select("role").where("actor_id", "=", actorId).executeTakeFirst();
  return row?.role === "admin";
}

/** Whether the person moderates the community (local or remote; for a remote community, as it lists them). */
export const isCommunityModerator = isModerator;

/** Whether `acting` may moderate the community; throws `forbidden` naming why not. */
export async function assertMayModerate(db: Db, acting: Acting, communityId: string): Promise<void> {
  if (acting.role === "group") {
    if (acting.actorId !== communityId) throw forbidden("a community acts only in itself");
    return;
  }
  if (acting.role === "admin") {
    if (acting.actorId !== null && !(await isAdmin(db, acting.actorId))) throw forbidden("only admins can do this");
    return;
  }
  if (!(await isCommunityModerator(db, communityId, acting.actorId)))
    throw forbidden("only moderators of this community can do this");
}

/** Whether a person moderates here: a moderator of the community, or an instance admin. */
export async function mayModerate(db: Db, communityId: string, actorId: string | undefined): Promise<boolean> {
  if (!actorId) return false;
  return (await isCommunityModerator(db, communityId, actorId)) || (await isAdmin(db, actorId));
}
