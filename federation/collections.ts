import type { Context, Federation } from "@fedify/fedify";
import { Create, Person, PUBLIC_COLLECTION } from "@fedify/fedify/vocab";
import type { Db } from "../db/schema.ts";
import { findLocalActor, followerCount, followingOf, publicPostIds } from "../src/actors/service.ts";
import { communityServers, moderators } from "../src/communities/membership.ts";
import type { AppContext } from "../src/context.ts";
import { remoteFollowers } from "../src/follows/service.ts";
import { allowedBy } from "../src/policy/domains.ts";
import { postsForFederation } from "../src/posts/outbound.ts";
import { mayFetch, mayListModerators, signedBy } from "./access.ts";
import { toApObject } from "./objects.ts";
import { deliverable } from "./policy.ts";
import { registerThreadCollections } from "./threads.ts";

const PAGE = 100;

/**
 * The local actor a collection belongs to, as the web sees it: none for
 * local-only communities, which have no actor document either.
 */
async function ownerOf(ctx: Context<AppContext>, identifier: string) {
  const actor = await findLocalActor(ctx.data.db, identifier);
  return actor && actor.federation !== "local" ? actor : null;
}

/**
 * Who belongs to what is private (FEDERATION.md, "Privacy of membership"):
 * followers, following and moderators show everyone their counts
 * (`totalItems`, which Mastodon and Lemmy display), and their items only to
 * the actor itself, in a request it signed (a community's moderators: to its
 * members too). Anyone else gets the collection without items.
 */
export function registerCollections(federation: Federation<AppContext>): void {
  // Followers are also the recipients of fan-out: Fedify's `sendActivity(…,
  // "followers")` asks for them all at once, without a cursor, from the
  // worker. Over HTTP Fedify only ever asks for pages (there is a first
  // cursor), so a page request is a reader, whose signature decides.
  // Only remote followers are listed (ours need no delivery); the count covers everyone.
  federation
    .setFollowersDispatcher("/@{identifier}/followers", async (ctx, identifier, cursor) => {
      const actor = cursor === null ? await findLocalActor(ctx.data.db, identifier) : await ownerOf(ctx, identifier);
      if (!actor) return null;
      if (cursor !== null && !(await signedBy(ctx, actor.iri))) return { items: [] };
      const servers = await communityServers(ctx.data.db, actor.id);
      const rows = (
        await remoteFollowers(ctx.data.db, actor.id, {
          cursor: cursor ?? undefined,
          limit: cursor === null ? undefined : PAGE,
        })
      ).filter((r) => allowedBy(servers, new URL(r.iri).host));
      return {
        items: deliverable(
          ctx.data.policy,
          rows.map((r) => ({
            id: new URL(r.iri),
            inboxId: r.inboxUrl ? new URL(r.inboxUrl) : null,
            endpoints: r.sharedInboxUrl ? { sharedInbox: new URL(r.sharedInboxUrl) } : null,
          })),
        ),
        nextCursor: cursor !== null && rows.length === PAGE ? (rows.at(-1)?.followId ?? null) : null,
      };
    })
    .setCounter(async (ctx, identifier) => {
      const actor = await ownerOf(ctx, identifier);
      return actor ? followerCount(ctx.data.db, actor.id) : null;
    })
    .setFirstCursor(() => "")
    // Fedify serves the first page's link without asking the dispatcher: no such actor, no collection.
    .authorize(async (ctx, identifier) => (await ownerOf(ctx, identifier)) !== null && (await mayFetch(ctx)));

  // Following: a person's communities and the people they follow.
  federation
    .setFollowingDispatcher("/@{identifier}/following", async (ctx, identifier) => {
      const actor = await ownerOf(ctx, identifier);
      if (!actor) return null;
      if (!(await signedBy(ctx, actor.iri))) return { items: [] };
      return { items: (await followingOf(ctx.data.db, actor.id)).map((r) => new URL(r.iri)) };
    })
    .setCounter(async (ctx, identifier) => {
      const actor = await ownerOf(ctx, identifier);
      return actor ? followingCount(ctx.data.db, actor.id, await signedBy(ctx, actor.iri)) : null;
    })
    .authorize((ctx) => mayFetch(ctx));

  // Outbox: the latest public posts as Create activities.
  federation
    .setOutboxDispatcher("/@{identifier}/outbox", async (ctx, identifier) => {
      const actor = await findLocalActor(ctx.data.db, identifier);
      if (!actor) return null;
      const ids = await publicPostIds(
        ctx.data.db,
        actor.type === "Group" ? { communityId: actor.id } : { authorId: actor.id },
      );
      const items = [];
      for (const post of await postsForFederation(ctx.data.db, ids)) {
        // A suspended account's posts are not served (src/sanctions/), in its outbox or a community's.
        if (post.authorSuspendedAt) continue;
        const object = toApObject(ctx, post);
        items.push(
          new Create({
            id: new URL(`${post.iri}#create`),
            actor: new URL(post.authorIri),
            object,
            tos: [PUBLIC_COLLECTION],
            published: object.published,
          }),
        );
      }
      return { items };
    })
    .authorize((ctx) => mayFetch(ctx));

  // Featured: a community's pinned threads (empty for people); removed and deleted ones are not listed.
  federation
    .setFeaturedDispatcher("/@{identifier}/featured", async (ctx, identifier) => {
      const actor = await findLocalActor(ctx.data.db, identifier);
      if (!actor) return null;
      if (actor.type !== "Group") return { items: [] };
      const items = [];
      const pinned = await publicPostIds(ctx.data.db, { communityId: actor.id, pinnedOnly: true });
      for (const post of await postsForFederation(ctx.data.db, pinned)) items.push(toApObject(ctx, post));
      return { items };
    })
    .authorize((ctx) => mayFetch(ctx));

  // FEP-1b12 moderators (the Group's `attributedTo`), as Lemmy lists them: names for members only.
  federation
    .setCollectionDispatcher("moderators", Person, "/@{identifier}/moderators", async (ctx, values) => {
      const actor = await ownerOf(ctx, values.identifier);
      if (actor?.type !== "Group") return null;
      if (!(await mayListModerators(ctx, actor))) return { items: [] };
      const mods = await moderators(ctx.data.db, actor.id);
      return { items: mods.map((m) => new Person({ id: new URL(m.iri) })) };
    })
    .setCounter(async (ctx, values) => {
      const actor = await ownerOf(ctx, values.identifier);
      return actor?.type === "Group" ? (await moderators(ctx.data.db, actor.id)).length : null;
    })
    .authorize((ctx) => mayFetch(ctx));

  // A thread's FEP-7888 `context` and each post's `replies`, read as the posts are (threads.ts).
  registerThreadCollections(federation);
}

/**
 * How many actors `actorId` follows. Others are not told about the
 * communities that keep their members to themselves: ours that are
 * members-only or local-only, and remote groups that approve each member.
 */
async function followingCount(db: Db, actorId: string, ownView: boolean): Promise<number> {
  let q = db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.followee_id")
    .leftJoin("communities", "communities.actor_id", "actors.id")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("follows.follower_id", "=", actorId)
    .where("follows.status", "=", "accepted");
  if (!ownView)
    q = q.where((eb) =>
      eb.and([
        eb.or([eb("communities.visibility", "is", null), eb("communities.visibility", "!=", "members")]),
        eb.or([eb("communities.federation", "is", null), eb("communities.federation", "!=", "local")]),
        eb.or([
          eb("actors.type", "!=", "Group"),
          eb("actors.local", "=", 1),
          eb("actors.manually_approves_followers", "=", 0),
        ]),
      ]),
    );
  return Number((await q.executeTakeFirstOrThrow()).n);
}
