import type { InboxContext } from "@fedify/fedify";
import { Activity, type Announce, Create, Delete, Like, Update } from "@fedify/fedify/vocab";
import { findActorByIri } from "../../src/actors/remote.ts";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { instanceLoader, isPostObject } from "../remote.ts";
import { applyDelete, goneAtSource } from "./delete.ts";
import { ingestPost } from "./ingest.ts";
import { applyLike } from "./like.ts";
import { receiveAnnouncedModeration } from "./moderation.ts";
import { applyUpdate } from "./update.ts";

const log = logger("federation", "inbox", "announce");

/**
 * An `Announce` from a remote community we follow (FEP-1b12): it wraps a
 * member's activity (Lemmy, Kindred) or the object itself (Mastodon-style).
 *
 * The group's signature vouches for the wrapper only. What a member from
 * another server says is checked at its source: a created or updated post is
 * fetched from its own server, a delete is applied once the post is gone
 * there. Only likes are taken on the group's word (ids of likes are often
 * not dereferenceable, and a like only counts). Moderation is the group's
 * own or its moderators', about its own posts and people (moderation.ts).
 */
export async function onAnnounce(ctx: InboxContext<AppContext>, announce: Announce): Promise<void> {
  if (!announce.actorId || !announce.objectId) return;
  const db = ctx.data.db;
  const group = await findActorByIri(db, announce.actorId.href);
  if (group?.type !== "Group" || group.local === 1) return log.debug("Announce from a non-community dropped");
  const following = await db
    .selectFrom("follows")
    .select("id")
    .where("followee_id", "=", group.id)
    .where("status", "=", "accepted")
    .executeTakeFirst();
  if (!following) return log.debug("Announce from a community nobody here follows dropped");
  // Moderation (removals, locks, pins, bans, moderators) is read from the JSON as received: Fedify
  // cannot read an embedded Lock, and its moderator is checked against the group's own list.
  const raw = (await announce.toJsonLd()) as { object?: unknown };
  if (await receiveAnnouncedModeration(ctx, { id: group.id, iri: group.iri }, raw.object)) return;

  const loader = await instanceLoader(ctx);
  const inner = await announce.getObject({ documentLoader: loader, crossOrigin: "trust" }).catch(() => null);
  // The group's server vouches for what is on its own origin, by its own actors (FEP-fe34): an object it
  // hosts attributed to someone elsewhere is a claim it cannot make.
  const groupOrigin = announce.actorId.origin;
  const author = inner instanceof Activity ? inner.actorId : isPostObject(inner) ? inner.attributionId : null;
  if (inner?.id?.origin === groupOrigin && author && author.origin !== groupOrigin)
    return log.debug("Announce of an object its group's server attributes to another server dropped");
  const vouched = inner?.id?.origin === groupOrigin;
  const fetchFromSource = async (id: URL | null) =>
    id ? ctx.lookupObject(id, { documentLoader: loader }).catch(() => null) : null;

  if (inner instanceof Create) {
    const object = vouched
      ? await inner.getObject({ documentLoader: loader }).catch(() => null)
      : await fetchFromSource(inner.objectId);
    if (isPostObject(object)) await ingestPost(ctx, object, { announcedBy: group.id, raw: vouched ? raw : undefined });
  } else if (isPostObject(inner)) {
    const object = vouched ? inner : await fetchFromSource(inner.id);
    if (isPostObject(object)) await ingestPost(ctx, object, { announcedBy: group.id, raw: vouched ? raw : undefined });
  } else if (inner instanceof Update) {
    const object = vouched
      ? await inner.getObject({ documentLoader: loader }).catch(() => null)
      : await fetchFromSource(inner.objectId);
    // Our terms are read from the group's JSON only where it vouches for the object (else from the source's).
    if (object) await applyUpdate(ctx, inner, undefined, object, vouched ? raw : undefined);
  } else if (inner instanceof Delete) {
    // From another server: apply only if its source says it is gone (404 or 410), not merely unreachable.
    if (vouched || (inner.objectId && (await goneAtSource(inner.objectId.href))))
      await applyDelete(ctx, inner, group.id);
  } else if (inner instanceof Like) {
    await applyLike(ctx, inner);
  } else {
    log.debug("Announce of an unsupported object dropped");
  }
}
