// Table types of moderation (issue 11): the moderation log, reports, appeals
// and the notifications that tell people about them. Part of db/schema.ts.
import type { Generated } from "kysely";
import type { Bool, Iso } from "./scalars.ts";

/** Who took a moderation action: a moderator, an instance admin, or the community itself (remote admins). */
export type ModeratorRole = "moderator" | "admin" | "group";

export type ModerationActionKind =
  | "remove_post"
  | "restore_post"
  | "delete_post"
  | "lock"
  | "unlock"
  | "pin"
  | "unpin"
  | "ban"
  | "unban"
  | "add_moderator"
  | "remove_moderator"
  | "approve_member"
  | "reject_member"
  /** Instance-level, about one account (no community): src/sanctions/. */
  | "suspend"
  | "unsuspend"
  | "limit"
  | "unlimit"
  | "delete_account";

/** The moderation log: every action, with what federating and undoing it needs. */
export interface ModerationActionsTable {
  id: string;
  community_id: string | null;
  /** The person who acted; null for an admin at the command line. */
  moderator_id: string | null;
  by_role: Generated<ModeratorRole>;
  action: string;
  target_post_id: string | null;
  target_actor_id: string | null;
  reason: string | null;
  /** The activity that carried it, ours or the one received: an `Undo` names it. */
  activity_iri: string | null;
  /** A ban's end. */
  expires_at: Iso | null;
  /** The action this one reverses (restore, unban, an appeal granted). */
  reverses_id: string | null;
  /** When a later action reversed this one. */
  reversed_at: Iso | null;
  report_id: string | null;
  /** Received from another server. */
  remote: Generated<Bool>;
  created_at: Iso;
}

export type ReportCategory =
  | "medical_misinformation"
  | "harassment"
  | "self_harm"
  | "spam"
  | "privacy"
  | "illegal"
  | "other";

export interface ReportsTable {
  id: string;
  /** Our Flag's IRI, or the id of the Flag another server sent. */
  iri: string | null;
  /** Null for a logged-out visitor's report. */
  reporter_id: string | null;
  /** A visitor's optional address for the outcome: never shown to the reported person, never logged. */
  reporter_contact: string | null;
  community_id: string | null;
  target_actor_id: string | null;
  category: ReportCategory;
  comment: string;
  /** The reporter asked that it also go to the reported content's server. */
  forward: Bool;
  /** It arrived as a `Flag` from another server. */
  remote: Bool;
  status: "open" | "resolved" | "dismissed";
  resolution_note: string | null;
  resolved_by: string | null;
  resolved_at: Iso | null;
  created_at: Iso;
}

export interface ReportPostsTable {
  report_id: string;
  post_id: string;
}

/** An appeal against one moderation action: to the moderators first, then to the admins. */
export interface AppealsTable {
  id: string;
  action_id: string;
  appellant_id: string;
  community_id: string | null;
  text: string;
  status: "open" | "escalated" | "granted" | "denied";
  moderator_note: string | null;
  admin_note: string | null;
  decided_by: string | null;
  created_at: Iso;
  escalated_at: Iso | null;
  decided_at: Iso | null;
}

/** Something a member is told about; `kind` names what (src/notifications/kinds.ts). */
export interface NotificationsTable {
  id: string;
  user_id: string;
  kind: string;
  actor_id: string | null;
  post_id: string | null;
  community_id: string | null;
  report_id: string | null;
  action_id: string | null;
  appeal_id: string | null;
  read_at: Iso | null;
  created_at: Iso;
}
