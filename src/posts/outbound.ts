import type { Db } from "../../db/schema.ts";

/**
 * What federation needs to address a post's activities: its community (local
 * or remote) and the author of its parent.
 */
export async function postRouting(db: Db, postId: string) {
  return db
    .selectFrom("posts")
    .innerJoin("actors as author", "author.id", "posts.author_id")
    .leftJoin("actors as community", "community.id", "posts.community_id")
    .leftJoin("communities", "communities.actor_id", "posts.community_id")
    .leftJoin("posts as parent", "parent.id", "posts.parent_id")
    .leftJoin("actors as parentAuthor", "parentAuthor.id", "parent.author_id")
    .select([
      "posts.id",
      "posts.iri",
      "posts.local",
      "posts.type",
      "author.id as authorId",
      "author.iri as authorIri",
      "author.username_key as authorKey",
      "author.local as authorLocal",
      "author.inbox_url as authorInbox",
      "author.shared_inbox_url as authorSharedInbox",
      "community.id as communityId",
      "community.iri as communityIri",
      "community.username_key as communityKey",
      "community.local as communityLocal",
      "community.inbox_url as communityInbox",
      "community.shared_inbox_url as communitySharedInbox",
      "community.followers_url as communityFollowers",
      "communities.federation as communityFederation",
      "communities.visibility as communityVisibility",
      "parentAuthor.iri as parentAuthorIri",
      "parentAuthor.local as parentAuthorLocal",
      "parentAuthor.inbox_url as parentAuthorInbox",
      "parentAuthor.shared_inbox_url as parentAuthorSharedInbox",
    ])
    .where("posts.id", "=", postId)
    .executeTakeFirst();
}

export async function likeForFederation(db: Db, likeId: string) {
  return db
    .selectFrom("likes")
    .innerJoin("actors", "actors.id", "likes.actor_id")
    .select([
      "likes.id",
      "likes.iri",
      "likes.post_id as postId",
      "actors.id as actorId",
      "actors.iri as actorIri",
      "actors.username_key as actorKey",
      "actors.local as actorLocal",
    ])
    .where("likes.id", "=", likeId)
    .executeTakeFirst();
}

export async function followForFederation(db: Db, followId: string) {
  return db
    .selectFrom("follows")
    .innerJoin("actors as follower", "follower.id", "follows.follower_id")
    .innerJoin("actors as followee", "followee.id", "follows.followee_id")
    .select([
      "follows.id",
      "follows.iri",
      "follows.status",
      "follower.iri as followerIri",
      "follower.username_key as followerKey",
      "follower.local as followerLocal",
      "follower.inbox_url as followerInbox",
      "follower.shared_inbox_url as followerSharedInbox",
      "followee.iri as followeeIri",
      "followee.username_key as followeeKey",
      "followee.local as followeeLocal",
      "followee.inbox_url as followeeInbox",
      "followee.shared_inbox_url as followeeSharedInbox",
    ])
    .where("follows.id", "=", followId)
    .executeTakeFirst();
}

/** What an ActivityPub rendering of a post needs: IRIs of its author, community and parent, and its tags. */
export async function postForFederation(db: Db, postId: string) {
  const post = await db
    .selectFrom("posts")
    .innerJoin("actors as author", "author.id", "posts.author_id")
    .leftJoin("actors as community", "community.id", "posts.community_id")
    .leftJoin("communities", "communities.actor_id", "posts.community_id")
    .leftJoin("posts as parent", "parent.id", "posts.parent_id")
    .leftJoin("posts as thread", "thread.id", "posts.thread_id")
    .select([
      "communities.federation as communityFederation",
      "thread.removed_at as threadRemovedAt",
      "posts.id",
      "posts.thread_id as threadId",
      "posts.iri",
      "posts.url",
      "posts.type",
      "posts.title",
      "posts.source",
      "posts.content_html as contentHtml",
      "posts.summary",
      "posts.sensitive",
      "posts.audience",
      "posts.language",
      "posts.published_at as publishedAt",
      "posts.updated_at as updatedAt",
      "posts.deleted_at as deletedAt",
      "posts.removed_at as removedAt",
      "posts.local",
      "author.iri as authorIri",
      "posts.community_id as communityId",
      "community.iri as communityIri",
      "community.followers_url as communityFollowers",
      "parent.iri as parentIri",
    ])
    .where("posts.id", "=", postId)
    .executeTakeFirst();
  if (!post) return undefined;
  const tags = await db.selectFrom("post_tags").select("tag").where("post_id", "=", postId).orderBy("tag").execute();
  const [recipients, mentions] = await Promise.all([
    addressedActors(db, "post_recipients", postId),
    addressedActors(db, "post_mentions", postId),
  ]);
  return { ...post, tags: tags.map((t) => t.tag), recipients, mentions };
}
export type FederatedPost = NonNullable<Awaited<ReturnType<typeof postForFederation>>>;

/** The actors a post is addressed to (recipients) or names (mentions), with where to deliver. */
function addressedActors(db: Db, table: "post_recipients" | "post_mentions", postId: string) {
  return db
    .selectFrom(table)
    .innerJoin("actors", "actors.id", `${table}.actor_id`)
    .select([
      "actors.iri",
      "actors.username",
      "actors.host",
      "actors.local",
      "actors.inbox_url as inboxUrl",
      "actors.shared_inbox_url as sharedInboxUrl",
    ])
    .where(`${table}.post_id`, "=", postId)
    .execute();
}
