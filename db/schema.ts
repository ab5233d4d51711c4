// Table types for Kysely. Conventions that keep one schema portable between
// SQLite and PostgreSQL:
// - ids are UUIDv7 strings made by the app (time-ordered, so they double as
//   pagination cursors), never database sequences;
// - timestamps are ISO-8601 UTC strings (`Date#toISOString()`), which sort
//   lexicographically in both databases;
// - booleans are integers 0/1.
// Every actor (user, community, instance; local or remote) and every post has
// an IRI, so remote authors are first-class rows like local ones.
import type { Generated, Kysely, Transaction } from "kysely";
import type { AnswersTables } from "./answers-schema.ts";
import type { MediaDeletionsTable, MediaTable } from "./media-schema.ts";
import type {
  AppealsTable,
  ModerationActionsTable,
  NotificationsTable,
  ReportPostsTable,
  ReportsTable,
} from "./moderation-schema.ts";
import type { EmailDigestsTable, NotificationPreferencesTable } from "./notifications-schema.ts";
import type { FedifyKvTable, FedifyQueueTable } from "./queue-schema.ts";
import type { InvitesTable, RecoveryCodesTable, RegistrationApplicationsTable } from "./registrations-schema.ts";
import type { RemoteCountsTable, RemoteRefreshesTable } from "./remote-threads-schema.ts";
import type { PasswordResetsTable } from "./sanctions-schema.ts";
import type { Bool, Iso } from "./scalars.ts";

export type { FedifyKvTable, FedifyQueueTable };

import type { PostSearchKeysTable } from "./search-schema.ts";
import type { WarningCategoriesTable, WarningPreferencesTable, WarningRequirement } from "./warnings-schema.ts";

export type * from "./moderation-schema.ts";
export type { Bool, Iso } from "./scalars.ts";

export type ActorType = "Person" | "Group" | "Application" | "Service" | "Organization";
export type Role = "admin" | "member";
export type Visibility = "public" | "members";
export type JoinPolicy = "open" | "approval";
export type FederationMode = "federated" | "local";
/** Who may read a post: mirrors ActivityPub addressing. */
export type PostAudience = "public" | "unlisted" | "followers" | "direct";
export type FollowStatus = "pending" | "accepted";

export interface InstanceSettingsTable {
  key: string;
  value: string;
}

export interface ActorsTable {
  id: string;
  iri: string;
  type: ActorType;
  username: string;
  /** Lower-cased username; (host, username_key) is unique, one namespace for users and communities. */
  username_key: string;
  /** `host[:port]` of the actor's server; ours for local actors. */
  host: string;
  local: Bool;
  name: string | null;
  /** Sanitized HTML bio/description (rendered from Markdown for local actors). */
  summary_html: string | null;
  url: string | null;
  inbox_url: string | null;
  shared_inbox_url: string | null;
  outbox_url: string | null;
  followers_url: string | null;
  following_url: string | null;
  featured_url: string | null;
  avatar_url: string | null;
  manually_approves_followers: Bool;
  discoverable: Bool;
  created_at: Iso;
  updated_at: Iso;
  /** When we last fetched a remote actor document. */
  fetched_at: Iso | null;
  /** Set when the actor is gone; the row stays so the name stays reserved. */
  deleted_at: Iso | null;
  /** An admin suspended the account (src/sanctions/): nothing of it is shown or accepted. */
  suspended_at: Generated<Iso | null>;
  /** An admin limited the account: out of public listings, and its follows need approval. */
  limited_at: Generated<Iso | null>;
  /**
   * The domain block whose suspension marked this remote actor deleted (its purge): lifting
   * that suspension revives it. Null for an actor deleted by its own `Delete(Person)`.
   */
  purged_by_block: Generated<string | null>;
}

export interface UsersTable {
  actor_id: string;
  password_hash: string;
  email: string | null;
  role: Role;
  is_clinician: Bool;
  bio_source: string;
  created_at: Iso;
  /** When the member accepted the instance's rules and privacy notice, where that was required. */
  agreed_at: Iso | null;
  /** The invite they signed up with, if any. */
  invite_id: string | null;
}

export interface CommunitiesTable {
  actor_id: string;
  description_source: string;
  rules_source: string;
  rules_html: string;
  visibility: Visibility;
  join_policy: JoinPolicy;
  federation: FederationMode;
  /** Threads older than this many days are deleted by the retention job; null keeps them. */
  retention_days: number | null;
  /** The only servers this community federates with, one domain per line; empty for any. */
  allowed_servers: string;
  /** Leaving members may keep their posts here, detached from any identity. */
  allow_anonymize: Bool;
  /** lemmy#1580: the moderation log names moderators to moderators only. */
  hide_modlog_names: Generated<Bool>;
  /** Whether every thread (or every post) must carry one of the community's warning categories. */
  warning_required: Generated<WarningRequirement>;
  /** Markdown added under the instance's crisis notice in this community. */
  crisis_addition: Generated<string>;
  /** Posts matching the crisis keywords file a "self-harm risk" report for the moderators. */
  crisis_alert: Generated<Bool>;
  created_by: string | null;
  created_at: Iso;
}

export interface CommunityModeratorsTable {
  community_id: string;
  actor_id: string;
  created_at: Iso;
}

/** Follows between any two actors. Membership of a community is an accepted follow of its Group (FEP-1b12). */
export interface FollowsTable {
  id: string;
  /** IRI of the Follow activity, ours or the remote one. */
  iri: string;
  follower_id: string;
  followee_id: string;
  status: FollowStatus;
  created_at: Iso;
  accepted_at: Iso | null;
}

export interface PostsTable {
  id: string;
  iri: string;
  url: string | null;
  type: "Page" | "Note" | "Article";
  author_id: string;
  community_id: string | null;
  parent_id: string | null;
  /** Root of the thread; equals `id` for a thread's opening post. */
  thread_id: string;
  title: string | null;
  /** Markdown source of local posts. */
  source: string | null;
  content_html: string;
  /** Content warning text (ActivityPub `summary`). */
  summary: string | null;
  sensitive: Bool;
  audience: PostAudience;
  language: string | null;
  local: Bool;
  published_at: Iso;
  updated_at: Iso | null;
  /** Tombstone: the row stays so replies keep their place in the tree. */
  deleted_at: Iso | null;
  removed_at: Iso | null;
  removed_by: string | null;
  locked: Bool;
  pinned_at: Iso | null;
  created_at: Iso;
  /** The community's warning category the author chose (its text leads `summary`). */
  warning_category_id: string | null;
}

export interface PostTagsTable {
  post_id: string;
  tag: string;
}

export interface PostMentionsTable {
  post_id: string;
  actor_id: string;
}

/** Explicit recipients of a post addressed to specific actors (direct messages). */
export interface PostRecipientsTable {
  post_id: string;
  actor_id: string;
}

export interface HiddenPostsTable {
  post_id: string;
  actor_id: string;
  created_at: Iso;
}

export interface LikesTable {
  id: string;
  iri: string;
  post_id: string;
  actor_id: string;
  created_at: Iso;
}

export interface SessionsTable {
  /** SHA-256 of the cookie token: a leaked database does not leak live sessions. */
  id: string;
  user_id: string;
  created_at: Iso;
  expires_at: Iso;
  last_seen_at: Iso;
  user_agent: string | null;
}

export interface RateLimitsTable {
  key: string;
  window_start: Iso;
  count: number;
}

export interface ActorKeysTable {
  actor_id: string;
  kind: "rsa" | "ed25519";
  private_jwk: string;
  public_jwk: string;
  created_at: Iso;
}

/** Which remote inbox received which of an actor's objects: the ledger behind exports and erasure receipts. */
export interface DeliveriesTable {
  id: string;
  actor_id: string;
  activity_iri: string;
  object_iri: string | null;
  inbox_url: string;
  host: string;
  status: "pending" | "delivered" | "retrying" | "failed";
  attempts: number;
  last_error: string | null;
  created_at: Iso;
  updated_at: Iso;
  delivered_at: Iso | null;
}

export interface CommunityBansTable {
  community_id: string;
  actor_id: string;
  banned_by: string | null;
  reason: string | null;
  created_at: Iso;
  expires_at: Iso | null;
}

export type BlockSeverity = "suspend" | "silence" | "noop";

export interface DomainBlocksTable {
  /** Lower-case host; a block covers its subdomains. */
  domain: string;
  severity: BlockSeverity;
  reject_media: Bool;
  reject_reports: Bool;
  public_comment: string | null;
  private_comment: string | null;
  /** Show the domain partly masked on the public list. */
  obfuscate: Bool;
  created_at: Iso;
  updated_at: Iso;
}

export interface DomainAllowsTable {
  domain: string;
  created_at: Iso;
}

/** One row (id 1): bumped by every change to the domain policy, so each process knows its snapshot is stale. */
export interface PolicyVersionTable {
  id: number;
  version: number | string | bigint;
}

/**
 * A member's own filter: "mute" hides a person's posts from them; "block" also
 * refuses their messages; "block_domain" hides a whole server.
 */
export interface MemberFiltersTable {
  id: string;
  user_id: string;
  kind: "mute" | "block" | "block_domain";
  target_actor_id: string | null;
  target_domain: string | null;
  created_at: Iso;
}

/** A member's data export: built in the background, downloadable until it expires. */
export interface ExportsTable {
  id: string;
  user_id: string;
  status: "queued" | "running" | "ready" | "failed";
  /** Items written so far, of `total`. */
  progress: number;
  total: number;
  /** The archive's file name under `<DATA_DIR>/exports`. */
  file_name: string | null;
  size_bytes: number | null;
  error: string | null;
  created_at: Iso;
  finished_at: Iso | null;
  expires_at: Iso | null;
  /** The process building it (`host/pid/token`), while it runs. */
  runner: string | null;
  /** Until when that process vouches for the run; it renews this while it works. */
  lease_until: Iso | null;
}

/** A local post an erasure removed outright: its IRI answers `410 Gone` with a `Tombstone`. */
export interface GonePostsTable {
  /** The post's id, as in its IRI (`/posts/{id}` or `/replies/{id}`). */
  id: string;
  type: "Page" | "Note";
  gone_at: Iso;
}

/** One erasure and its receipt: which servers the `Delete` went to lives in the delivery ledger. */
export interface ErasuresTable {
  id: string;
  actor_id: string;
  /** `@name@host`: the only personal data a receipt holds. */
  handle: string;
  token_hash: string;
  mode: "delete" | "anonymize";
  activity_iri: string;
  created_at: Iso;
  sent_at: Iso | null;
  completed_at: Iso | null;
}

export interface Database extends AnswersTables {
  instance_settings: InstanceSettingsTable;
  actors: ActorsTable;
  users: UsersTable;
  communities: CommunitiesTable;
  community_moderators: CommunityModeratorsTable;
  follows: FollowsTable;
  posts: PostsTable;
  post_tags: PostTagsTable;
  post_mentions: PostMentionsTable;
  post_recipients: PostRecipientsTable;
  /** SQLite only: see db/search-schema.ts. */
  post_search_keys: PostSearchKeysTable;
  likes: LikesTable;
  hidden_posts: HiddenPostsTable;
  sessions: SessionsTable;
  rate_limits: RateLimitsTable;
  actor_keys: ActorKeysTable;
  deliveries: DeliveriesTable;
  moderation_actions: ModerationActionsTable;
  reports: ReportsTable;
  report_posts: ReportPostsTable;
  appeals: AppealsTable;
  notifications: NotificationsTable;
  notification_preferences: NotificationPreferencesTable;
  email_digests: EmailDigestsTable;
  community_bans: CommunityBansTable;
  domain_blocks: DomainBlocksTable;
  domain_allows: DomainAllowsTable;
  policy_version: PolicyVersionTable;
  member_filters: MemberFiltersTable;
  exports: ExportsTable;
  erasures: ErasuresTable;
  gone_posts: GonePostsTable;
  remote_refreshes: RemoteRefreshesTable;
  remote_counts: RemoteCountsTable;
  media: MediaTable;
  media_deletions: MediaDeletionsTable;
  registration_applications: RegistrationApplicationsTable;
  invites: InvitesTable;
  recovery_codes: RecoveryCodesTable;
  password_resets: PasswordResetsTable;
  warning_categories: WarningCategoriesTable;
  warning_preferences: WarningPreferencesTable;
  fedify_kv: FedifyKvTable;
  fedify_queue: FedifyQueueTable;
}

/** A database handle or an open transaction: domain functions take either. */
export type Db = Kysely<Database> | Transaction<Database>;
