import type { Federation } from "@fedify/fedify";
import { Create, Person, PUBLIC_COLLECTION } from "@fedify/fedify/vocab";
import { findLocalActor, followerCount, followingOf, publicPostIds } from "../src/actors/service.ts";
import { communityServers, moderators } from "../src/communities/membership.ts";
import type { AppContext } from "../src/context.ts";
import { remoteFollowers } from "../src/follows/service.ts";
import { allowedBy } from "../src/policy/domains.ts";
import { postForFederation } from "../src/posts/outbound.ts";
import { mayFetch, mayFetchMembersOnly } from "./access.ts";
import { toApObject } from "./objects.ts";
import { deliverable } from "./policy.ts";

const PAGE = 100;

export function registerCollections(federation: Federation<AppContext>): void {
  // Followers: the recipients of fan-out. Only remote followers are listed
  // (ours need no delivery); the count covers everyone.
  federation
    .setFollowersDispatcher("/@{identifier}/followers", async (ctx, identifier, cursor) => {
      const actor = await findLocalActor(ctx.data.db, identifier);
      if (!actor) return null;
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
      const actor = await findLocalActor(ctx.data.db, identifier);
      return actor ? followerCount(ctx.data.db, actor.id) : null;
    })
    .setFirstCursor(() => "")
    // Who belongs to a members-only community is for member servers only.
    .authorize(async (ctx, identifier) => {
      const actor = await findLocalActor(ctx.data.db, identifier);
      return actor?.visibility === "members" ? mayFetchMembersOnly(ctx, actor.id) : mayFetch(ctx);
    });

  federation
    .setFollowingDispatcher("/@{identifier}/following", async (ctx, identifier) => {
      const actor = await findLocalActor(ctx.data.db, identifier);
      if (!actor) return null;
      return { items: (await followingOf(ctx.data.db, actor.id)).map((r) => new URL(r.iri)) };
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
      for (const id of ids) {
        const post = await postForFederation(ctx.data.db, id);
        if (!post) continue;
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

  // Featured: a community's pinned threads (empty for people).
  federation
    .setFeaturedDispatcher("/@{identifier}/featured", async (ctx, identifier) => {
      const actor = await findLocalActor(ctx.data.db, identifier);
      if (!actor) return null;
      if (actor.type !== "Group") return { items: [] };
      const items = [];
      for (const id of await publicPostIds(ctx.data.db, { communityId: actor.id, pinnedOnly: true })) {
        const post = await postForFederation(ctx.data.db, id);
        if (post) items.push(toApObject(ctx, post));
      }
      return { items };
    })
    .authorize((ctx) => mayFetch(ctx));

  // FEP-1b12 moderators (the Group's `attributedTo`), as Lemmy lists them.
  federation
    .setCollectionDispatcher("moderators", Person, "/@{identifier}/moderators", async (ctx, values) => {
      const actor = await findLocalActor(ctx.data.db, values.identifier);
      if (actor?.type !== "Group") return null;
      const mods = await moderators(ctx.data.db, actor.id);
      return { items: mods.map((m) => new Person({ id: new URL(m.iri) })) };
    })
    .authorize((ctx) => mayFetch(ctx));
}
