// Shared pieces of the domain-policy suites: remote actors and follows written
// straight into a database (for the service-level tests that need no network),
// and a Mastodon-shaped peer actor with an avatar.
import { randomUUID } from "node:crypto";
import type { Db } from "../../db/schema.ts";
import { createUser, type LocalUser } from "../../src/accounts/service.ts";
import { upsertRemoteActor } from "../../src/actors/remote.ts";
import { type Delivery, fixture, type Peer, type PeerActor, snowflake, uuid } from "../helpers/peer.ts";
import { PASSWORD } from "../helpers/seed.ts";

/** A remote Mastodon-style person at `host` (e.g. `social.example.com:8443`), as persistActor stores one. */
export function seedRemoteActor(
  db: Db,
  host: string,
  username: string,
  extra: { name?: string; avatarUrl?: string } = {},
): Promise<string> {
  const iri = `https://${host}/users/${username}`;
  return upsertRemoteActor(db, {
    iri,
    type: "Person",
    username,
    host,
    name: extra.name ?? username,
    summaryHtml: `<p>${username} here</p>`,
    url: `https://${host}/@${username}`,
    inboxUrl: `${iri}/inbox`,
    sharedInboxUrl: `https://${host}/inbox`,
    outboxUrl: `${iri}/outbox`,
    followersUrl: `${iri}/followers`,
    followingUrl: `${iri}/following`,
    featuredUrl: null,
    avatarUrl: extra.avatarUrl ?? `https://${host}/avatars/${username}.png`,
    manuallyApprovesFollowers: false,
    discoverable: true,
  });
}

/** A local user (through the accounts service). */
export function seedLocalUser(db: Db, origin: string, username: string): Promise<LocalUser> {
  return createUser(db, origin, { username, password: PASSWORD });
}

/** An accepted follow from `followerId` to `followeeId`. */
export async function seedFollow(db: Db, followerId: string, followeeId: string): Promise<void> {
  const ts = new Date().toISOString();
  await db
    .insertInto("follows")
    .values({
      id: randomUUID(),
      iri: `https://follows.invalid/${randomUUID()}`,
      follower_id: followerId,
      followee_id: followeeId,
      status: "accepted",
      created_at: ts,
      accepted_at: ts,
    })
    .execute();
}

export async function countFollows(db: Db): Promise<number> {
  const row = await db
    .selectFrom("follows")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---------------------------------------------------------------------------
// Mastodon-shaped traffic (the JSON of test/fixtures/mastodon/), as the interop suite sends it

/** A Mastodon `Follow` of `object`. */
export const mastodonFollow = (peer: Peer, actor: PeerActor, object: string) =>
  fixture("mastodon/follow.json", { origin: peer.origin, uuid: uuid(), actor: actor.id, object });

/** A Mastodon `Like` of `object`. */
export const mastodonLike = (actor: PeerActor, object: string) =>
  fixture("mastodon/like.json", { actor: actor.id, id: snowflake(), object });

/** A public Mastodon `Create(Note)` that mentions `mentioned` (a community: the post lands there). */
export function mastodonNote(
  peer: Peer,
  actor: PeerActor,
  options: { text: string; mentioned: { iri: string; name: string }; inReplyTo?: string | null },
) {
  return fixture("mastodon/create_note.json", {
    origin: peer.origin,
    host: peer.host,
    actor: actor.id,
    username: actor.username,
    id: snowflake(),
    published: new Date().toISOString(),
    inReplyTo: options.inReplyTo ?? null,
    mentioned: options.mentioned.iri,
    mentionedUrl: options.mentioned.iri,
    mentionedName: options.mentioned.name,
    mentionedHost: new URL(options.mentioned.iri).host,
    text: options.text,
    hashtag: "pacing",
  });
}

/** Gives a peer actor an avatar (Mastodon's `icon`), served with its document from now on; returns the image URL. */
export function withAvatar(peer: Peer, actor: PeerActor): string {
  const url = `${peer.origin}/system/accounts/avatars/${actor.username}.png`;
  actor.document.icon = { type: "Image", mediaType: "image/png", url };
  return url;
}

/** The `id` of an embedded object or the IRI itself. */
export const idOf = (o: unknown): string | undefined =>
  typeof o === "string"
    ? o
    : typeof o === "object" && o !== null
      ? ((o as { id?: string }).id ?? undefined)
      : undefined;

/** Every string anywhere inside a JSON value. */
export function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === "object") return Object.values(value).flatMap(allStrings);
  return [];
}

/** The Announce (by the community) of a Create of the object `iri`. */
export const announceOfCreate = (community: string, iri: string) => (b: any) =>
  b.type === "Announce" && b.actor === community && b.object?.type === "Create" && idOf(b.object.object) === iri;

/** Deliveries to `peer` from index `since` on that mention `needle` anywhere in their body. */
export const deliveriesMentioning = (peer: Peer, needle: string, since = 0) =>
  peer.deliveries.slice(since).filter((d) => allStrings(d.body).some((s) => s.includes(needle)));

/** A summary of deliveries for failure messages. */
export const describeDeliveries = (deliveries: Delivery[]) =>
  deliveries.map((d) => ({ path: d.path, type: d.body?.type, actor: d.body?.actor, object: idOf(d.body?.object) }));
