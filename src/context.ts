import type { Kysely } from "kysely";
import type { Dialect } from "../db/connect.ts";
import type { Database, Db } from "../db/schema.ts";
import type { Config } from "./config.ts";
import type { MediaStore } from "./media/store.ts";
import type { DomainPolicy } from "./policy/matcher.ts";

/** What request handlers and CLI commands are given: the database and the configuration. */
export interface AppContext {
  db: Kysely<Database>;
  dialect: Dialect;
  config: Config;
  /** Which servers we federate with (domain blocks, allow list). */
  policy: DomainPolicy;
  /** Image files: uploads and our copies of other servers' images. */
  media: MediaStore;
  /** Reaching other servers; absent where no federation runs (some CLI commands). */
  remote?: RemoteLookup;
  /** ActivityPub documents for export archives; absent where no federation is built. */
  archive?: ArchiveRenderer;
  /** Fedify's queued deliveries, which an erasure must wait for or drop; absent where no federation is built. */
  queuedDeliveries?: QueuedDeliveries;
}

/** The ActivityPub side of an export archive (federation/archive.ts), without depending on it. */
export interface ArchiveRenderer {
  /** The member's actor document; `avatarFile` replaces the avatar's URL with the file in the archive. */
  actor(identifier: string, avatarFile: string | null): Promise<Record<string, unknown>>;
  /** The `Create` of a post, as in Mastodon's outbox.json (no `@context`). */
  createActivity(postId: string): Promise<Record<string, unknown> | undefined>;
}

/** What the domain and routes may ask of federation, without depending on it. */
export interface RemoteLookup {
  /**
   * Finds a remote actor by `@name@host`, `name@host` or URL, fetching and
   * storing it when unknown; returns its row id, or null when nothing is there.
   */
  resolveActor(query: string): Promise<string | null>;
  /**
   * Finds a post by its IRI or web URL (a Mastodon status, a Lemmy post, a
   * Kindred post), fetching it and storing it as the inbox would when unknown;
   * returns its row id, or null when nothing is there or ingest refuses it.
   */
  resolvePost?(url: string): Promise<string | null>;
  /** Fills in a remote community's recent threads from its outbox (bounded; issue 12). */
  refreshCommunity?(communityId: string): Promise<void>;
  /** Fills in a remote thread's replies and counts from its origin (FEP-7888 `context`, `replies`; bounded). */
  refreshThread?(postId: string): Promise<void>;
}

/**
 * Deliveries waiting in Fedify's queue, and its cache of remote documents
 * (federation/queued-deliveries.ts), without knowing Fedify's formats.
 */
export interface QueuedDeliveries {
  /** Whether deliveries of activities by `actorIri`, or of a community's re-share of one, still wait. */
  holdsActivitiesBy(db: Db, actorIri: string): Promise<boolean>;
  /**
   * Drops those deliveries and the cached copies of the actor's documents (they
   * hold an erased member's text); returns how many deliveries went.
   */
  forget(db: Db, actorIri: string): Promise<number>;
}

/** The queue port of a context the federation was plugged into (federation/attach.ts does it for every process). */
export function queuedDeliveriesOf(ctx: Pick<AppContext, "queuedDeliveries">): QueuedDeliveries {
  if (!ctx.queuedDeliveries) throw new Error("no federation is plugged in: Fedify's queue is out of reach");
  return ctx.queuedDeliveries;
}
