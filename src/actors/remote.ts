import type { ActorType, Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { newId, now } from "../ids.ts";

/** A remote actor as federation hands it over: already sanitized. */
export interface RemoteActorInput {
  iri: string;
  type: ActorType;
  username: string;
  host: string;
  name: string | null;
  summaryHtml: string | null;
  url: string | null;
  inboxUrl: string | null;
  sharedInboxUrl: string | null;
  outboxUrl: string | null;
  followersUrl: string | null;
  followingUrl: string | null;
  featuredUrl: string | null;
  avatarUrl: string | null;
  manuallyApprovesFollowers: boolean;
  discoverable: boolean;
}

/** Inserts or refreshes a remote actor by IRI; returns its row id. */
export async function upsertRemoteActor(db: Db, a: RemoteActorInput): Promise<string> {
  const ts = now();
  const values = {
    type: a.type,
    username: a.username,
    username_key: a.username.toLowerCase(),
    host: a.host,
    name: a.name,
    summary_html: a.summaryHtml,
    url: a.url,
    inbox_url: a.inboxUrl,
    shared_inbox_url: a.sharedInboxUrl,
    outbox_url: a.outboxUrl,
    followers_url: a.followersUrl,
    following_url: a.followingUrl,
    featured_url: a.featuredUrl,
    avatar_url: a.avatarUrl,
    manually_approves_followers: a.manuallyApprovesFollowers ? 1 : 0,
    discoverable: a.discoverable ? 1 : 0,
    updated_at: ts,
    fetched_at: ts,
    deleted_at: null,
  } as const;
  return inTransaction(db, async (trx) => {
    const existing = await trx
      .selectFrom("actors")
      .select(["id", "local", "deleted_at"])
      .where("iri", "=", a.iri)
      .executeTakeFirst();
    if (existing) {
      // A deleted account stays deleted (as in Mastodon): a document served again later
      // does not bring its profile back.
      if (existing.local === 1 || existing.deleted_at) return existing.id;
      await trx.updateTable("actors").set(values).where("id", "=", existing.id).execute();
      return existing.id;
    }
    // A renamed remote account can leave its old name behind: the IRI is the identity, so free the name.
    await trx
      .updateTable("actors")
      .set({ username_key: `${a.username.toLowerCase()}~${newId()}` })
      .where("host", "=", a.host)
      .where("username_key", "=", a.username.toLowerCase())
      .where("local", "=", 0)
      .execute();
    const id = newId();
    await trx
      .insertInto("actors")
      .values({ id, iri: a.iri, local: 0, created_at: ts, ...values })
      .execute();
    return id;
  });
}

export async function findActorByIri(db: Db, iri: string) {
  return db.selectFrom("actors").selectAll().where("iri", "=", iri).executeTakeFirst();
}

export async function findActorById(db: Db, id: string) {
  return db.selectFrom("actors").selectAll().where("id", "=", id).executeTakeFirst();
}

/** A remote actor by `name@host` (case-insensitive name). */
export async function findRemoteActorByHandle(db: Db, username: string, host: string) {
  return db
    .selectFrom("actors")
    .selectAll()
    .where("username_key", "=", username.toLowerCase())
    .where("host", "=", host.toLowerCase())
    .where("local", "=", 0)
    .executeTakeFirst();
}
