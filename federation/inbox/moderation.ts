// Moderation across servers, in Lemmy's FEP-1b12 shapes: a removal (`Delete`
// with a `summary`, by someone other than the author) and its `Undo`, `Lock`
// and `Undo(Lock)` of a thread, `Add`/`Remove` on a community's featured
// (pins) or moderators collection, `Block` of a person from a community
// (`target`) and its `Undo`. Accepted two ways only:
// - sent straight to one of our communities by one of its (remote) moderators;
//   the community then re-shares it as received;
// - announced by a remote community we follow, about itself, by the community
//   or by one of the moderators it lists (moderators.ts). The group's signature
//   vouches for an activity on its own origin; any other is fetched again
//   from its own server, whose actor it must be (FEP-fe34).
// Anything else is dropped with one debug line (never its text).
import type { Context } from "@fedify/fedify";
import { z } from "zod";
import { findActorByIri } from "../../src/actors/remote.ts";
import { htmlToText } from "../../src/content/markdown.ts";
import type { AppContext } from "../../src/context.ts";
import { DomainError } from "../../src/errors.ts";
import { logger } from "../../src/logging.ts";
import type { Acting, Received } from "../../src/moderation/authority.ts";
import { isCommunityModerator } from "../../src/moderation/authority.ts";
import { addModerator, banPerson, removeModerator, unbanPerson } from "../../src/moderation/people.ts";
import {
  lockThread,
  pinThread,
  REASON_MAX,
  removePost,
  restorePost,
  unlockThread,
  unpinThread,
} from "../../src/moderation/posts.ts";
import { moderatorsCollectionOf, noteModeratorChange, type RemoteGroup, remoteModerator } from "../moderators.ts";
import { actorIdFor, fetchFromOrigin } from "../remote.ts";
import { originOf } from "../wire.ts";

const log = logger("federation", "inbox", "moderation");

const httpIri = z.string().refine((v) => originOf(v) !== null, "not an http(s) IRI");
const ref = z
  .union([z.string(), z.object({ id: z.string() })])
  .transform((v) => (typeof v === "string" ? v : v.id))
  .pipe(httpIri);
const text = z.string().max(100_000).nullish();

const action = z.object({
  id: httpIri,
  type: z.enum(["Delete", "Lock", "Add", "Remove", "Block"]),
  actor: ref,
  object: ref,
  target: ref.nullish(),
  summary: text,
  endTime: z.string().max(100).nullish(),
  removeData: z.boolean().nullish(),
});
const undo = z.object({
  id: httpIri,
  type: z.literal("Undo"),
  actor: ref,
  // Lemmy embeds what it undoes: a removal, a lock or a ban.
  object: action.refine((a) => a.type === "Delete" || a.type === "Lock" || a.type === "Block"),
  summary: text,
});
const moderation = z.union([action, undo]);

type Action = z.infer<typeof action>;
type Moderation = z.infer<typeof moderation>;

interface Community {
  id: string;
  iri: string;
  local: boolean;
}

/** What an action is about, once resolved to rows here. */
interface Scope {
  kind: "remove" | "lock" | "pin" | "moderator" | "ban";
  community: Community;
  postId?: string;
  /** The community of the post named, when it is not the one whose collection was named. */
  postCommunityId?: string | null;
}

type Via = { kind: "direct" } | { kind: "announce"; group: RemoteGroup };

const skip = (m: Moderation, why: string) =>
  log.debug("moderation {type} {id} dropped: {why}", { type: m.type, id: m.id, why });
/** Drops it and says it was handled (a moderation activity, refused). */
const refused = (m: Moderation, why: string): true => {
  skip(m, why);
  return true;
};

/**
 * An activity sent to us directly. Returns false when it is not a moderation
 * activity about one of ours (an author's own Delete, a Mastodon Block of a
 * person, a pin in someone's profile): the caller handles it as before.
 */
export async function receiveDirectModeration(ctx: Context<AppContext>, raw: unknown): Promise<boolean> {
  const parsed = moderation.safeParse(raw);
  if (!parsed.success) return false;
  const scope = await scopeOf(ctx, actionOf(parsed.data), { kind: "direct" });
  if (!scope) return false;
  await apply(ctx, parsed.data, scope, { kind: "direct" }, raw);
  return true;
}

/**
 * The object of an `Announce` by the remote `group` we follow. Returns false
 * when it is not a moderation activity (the caller goes on with posts,
 * deletions and likes).
 */
export async function receiveAnnouncedModeration(
  ctx: Context<AppContext>,
  group: RemoteGroup,
  embedded: unknown,
): Promise<boolean> {
  const claimed = moderation.safeParse(embedded);
  if (!claimed.success) return false;
  const via: Via = { kind: "announce", group };
  if (!(await scopeOf(ctx, actionOf(claimed.data), via))) return false;
  const groupOrigin = originOf(group.iri);
  let trusted: unknown = embedded;
  if (originOf(claimed.data.id) === groupOrigin) {
    if (originOf(claimed.data.actor) !== groupOrigin) return refused(claimed.data, "its actor is not on its origin");
  } else {
    // Not the group's to vouch for: believed only as its own server serves it.
    trusted = await fetchFromOrigin(ctx, claimed.data.id);
    if (!trusted) return refused(claimed.data, "not served at its id by its own server");
  }
  const checked = moderation.safeParse(trusted);
  if (!checked.success) return refused(claimed.data, "what its server serves is not a moderation activity");
  if (originOf(checked.data.actor) !== originOf(checked.data.id))
    return refused(checked.data, "its actor is not on its origin");
  const scope = await scopeOf(ctx, actionOf(checked.data), via);
  if (!scope) return refused(checked.data, "what its server serves is about nothing of this community");
  await apply(ctx, checked.data, scope, via, trusted);
  return true;
}

const actionOf = (m: Moderation): Action => (m.type === "Undo" ? m.object : m);

/** Resolves what the action is about; null when it is about nothing we hold, or is not moderation. */
async function scopeOf(ctx: Context<AppContext>, a: Action, via: Via): Promise<Scope | null> {
  const db = ctx.data.db;
  if (a.type === "Delete" || a.type === "Lock") {
    const post = await postByIri(ctx, a.object);
    if (!post?.community_id) return null;
    const community = await communityById(ctx, post.community_id);
    // The author's own Delete, or the community's (retention), is a deletion (inbox/delete.ts). Anyone
    // else's is a removal, as Lemmy marks it with a `summary`: logged and reversible, never a deletion.
    if (a.type === "Delete" && (post.authorIri === a.actor || community?.iri === a.actor)) return null;
    return community ? { kind: a.type === "Delete" ? "remove" : "lock", community, postId: post.id } : null;
  }
  if (!a.target) return null;
  if (a.type === "Block") {
    const community = await communityByIri(ctx, a.target);
    return community ? { kind: "ban", community } : null;
  }
  const featured = await db
    .selectFrom("actors")
    .select(["id", "iri", "local"])
    .where("featured_url", "=", a.target)
    .where("type", "=", "Group")
    .executeTakeFirst();
  // A group's own document names its featured collection, which must be on its own origin.
  if (featured && originOf(featured.iri) === originOf(a.target)) {
    const post = await postByIri(ctx, a.object);
    if (!post) return null;
    const community = { id: featured.id, iri: featured.iri, local: featured.local === 1 };
    return { kind: "pin", community, postId: post.id, postCommunityId: post.community_id };
  }
  const community = await moderatorsOwner(ctx, a.target, via);
  return community ? { kind: "moderator", community } : null;
}

/** The community whose moderators collection `target` is: one of ours, or the announcing group. */
async function moderatorsOwner(ctx: Context<AppContext>, target: string, via: Via): Promise<Community | null> {
  if (via.kind === "announce") {
    const collection = await moderatorsCollectionOf(ctx, via.group);
    return collection === target ? { ...via.group, local: false } : null;
  }
  if (!target.endsWith("/moderators")) return null;
  const community = await communityByIri(ctx, target.slice(0, -"/moderators".length));
  return community?.local ? community : null;
}

async function postByIri(ctx: Context<AppContext>, iri: string) {
  return ctx.data.db
    .selectFrom("posts")
    .innerJoin("actors as author", "author.id", "posts.author_id")
    .select(["posts.id", "posts.community_id", "author.iri as authorIri"])
    .where("posts.iri", "=", iri)
    .where("posts.deleted_at", "is", null)
    .executeTakeFirst();
}

async function communityById(ctx: Context<AppContext>, id: string): Promise<Community | null> {
  const row = await ctx.data.db
    .selectFrom("actors")
    .select(["id", "iri", "local"])
    .where("id", "=", id)
    .where("type", "=", "Group")
    .executeTakeFirst();
  return row ? { id: row.id, iri: row.iri, local: row.local === 1 } : null;
}

async function communityByIri(ctx: Context<AppContext>, iri: string): Promise<Community | null> {
  const row = await findActorByIri(ctx.data.db, iri);
  return row?.type === "Group" && !row.deleted_at ? { id: row.id, iri: row.iri, local: row.local === 1 } : null;
}

/** Who acts, if they may act here at all; a string says why not. The domain then checks them again. */
async function actingFor(ctx: Context<AppContext>, actorIri: string, scope: Scope, via: Via): Promise<Acting | string> {
  if (scope.postCommunityId !== undefined && scope.postCommunityId !== scope.community.id)
    return "the post is not in the community named";
  if (via.kind === "direct") {
    if (!scope.community.local) {
      // A remote community's moderation reaches us through its own Announce, except a ban: the
      // banned person's server no longer follows the community, so it is sent to them straight
      // from a moderator (Lemmy and Kindred alike), whom the community's own list must name.
      if (scope.kind !== "ban") return "sent directly about a remote community";
      const group = { id: scope.community.id, iri: scope.community.iri };
      if (actorIri === group.iri) return { role: "group", actorId: group.id };
      const moderator = await remoteModerator(ctx, group, actorIri);
      return moderator ? { role: "moderator", actorId: moderator } : "a ban sent directly by someone not its moderator";
    }
    const actor = await findActorByIri(ctx.data.db, actorIri);
    if (!actor || actor.local === 1 || actor.type === "Group") return "from an actor unknown here";
    // Checked here too, before anything it names is fetched.
    if (!(await isCommunityModerator(ctx.data.db, scope.community.id, actor.id)))
      return "its actor does not moderate the community";
    return { role: "moderator", actorId: actor.id };
  }
  if (scope.community.id !== via.group.id) return "announced by another community";
  if (actorIri === via.group.iri) return { role: "group", actorId: via.group.id };
  const moderator = await remoteModerator(ctx, via.group, actorIri);
  return moderator ? { role: "moderator", actorId: moderator } : "its actor is not a moderator of the community";
}

const reasonOf = (summary: string | null | undefined): string | null =>
  summary ? htmlToText(summary).slice(0, REASON_MAX) || null : null;

async function apply(ctx: Context<AppContext>, m: Moderation, scope: Scope, via: Via, raw: unknown): Promise<void> {
  // A ban arrives twice (to the person, and announced to the community's followers): applied once.
  const seen = await ctx.data.db
    .selectFrom("moderation_actions")
    .select("id")
    .where("activity_iri", "=", m.id)
    .where("remote", "=", 1)
    .executeTakeFirst();
  if (seen) return skip(m, "already applied");
  const acting = await actingFor(ctx, m.actor, scope, via);
  if (typeof acting === "string") return skip(m, acting);
  const db = ctx.data.db;
  const origin = ctx.data.config.origin;
  // Our community re-shares it exactly as received; a remote one's is only recorded.
  const received: Received = scope.community.local ? { activityIri: m.id, activity: raw } : { activityIri: m.id };
  const options = { reason: reasonOf(m.summary), received };
  const undoing = m.type === "Undo";
  const a = actionOf(m);
  const postId = scope.postId ?? "";
  const community = scope.community.id;
  try {
    switch (scope.kind) {
      case "remove":
        await (undoing ? restorePost : removePost)(db, origin, acting, postId, options);
        break;
      case "lock":
        await (undoing ? unlockThread : lockThread)(db, origin, acting, postId, options);
        break;
      case "pin":
        await (a.type === "Add" ? pinThread : unpinThread)(db, origin, acting, postId, options);
        break;
      case "moderator": {
        const person = await personId(ctx, a.object, a.type === "Add");
        if (!person) return skip(m, "the person is unknown");
        await (a.type === "Add" ? addModerator : removeModerator)(db, origin, acting, community, person, { received });
        if (via.kind === "announce") noteModeratorChange(community, a.object, a.type === "Add");
        break;
      }
      case "ban": {
        const person = await personId(ctx, a.object, !undoing);
        if (!person) return skip(m, "the person is unknown");
        if (undoing) await unbanPerson(db, origin, acting, community, person, options);
        else
          await banPerson(db, origin, acting, community, person, {
            ...options,
            expiresAt: a.endTime ?? null,
            removeContent: a.removeData === true,
          });
        break;
      }
    }
    log.debug("moderation {type} {id} applied", { type: m.type, id: m.id });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    skip(m, `${error.code}: ${error.message}`);
  }
}

/** The person an action names: fetched when a new one is named (a ban, a new moderator), else only if held. */
async function personId(ctx: Context<AppContext>, iri: string, fetch: boolean): Promise<string | null> {
  // Held already (one of our own members, banned from a community elsewhere, is never fetched).
  const known = await findActorByIri(ctx.data.db, iri);
  if (known || !fetch) return known?.id ?? null;
  return actorIdFor(ctx, new URL(iri));
}
