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
  return (await postsForFederation(db, [postId]))[0];
}

/**
 * `postForFederation` for many posts in six queries, whatever their number (an
 * outbox page asked five per post), in the order of `postIds`; unknown ids are left out.
 */
export async function postsForFederation(db: Db, postIds: string[]) {
  if (postIds.length === 0) return [];
  const posts = await db
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
      "author.suspended_at as authorSuspendedAt",
      "posts.community_id as communityId",
      "community.iri as communityIri",
      "community.followers_url as communityFollowers",
      "parent.iri as parentIri",
    ])
    // How many liked it, which other servers show (as Mastodon publishes it); never who.
    .select((eb) =>
      eb
        .selectFrom("likes")
        .select((e) => e.fn.countAll<string | number>().as("n"))
        .whereRef("likes.post_id", "=", "posts.id")
        .as("likeCount"),
    )
    .where("posts.id", "in", postIds)
    .execute();
  const found = posts.map((p) => p.id);
  if (found.length === 0) return [];
  const [tags, recipients, mentions, images] = await Promise.all([
    db.selectFrom("post_tags").select(["post_id", "tag"]).where("post_id", "in", found).orderBy("tag").execute(),
    addressedActors(db, "post_recipients", found),
    addressedActors(db, "post_mentions", found),
    // Our own images only: a copy we cached of someone else's is never offered as ours.
    db
      .selectFrom("media")
      .select(["post_id", "key", "local", "file", "media_type as mediaType", "alt", "width", "height"])
      .where("post_id", "in", found)
      .where("local", "=", 1)
      .orderBy("position")
      .execute(),
  ]);
  const byId = new Map(posts.map((p) => [p.id, p]));
  return postIds.flatMap((id) => {
    const post = byId.get(id);
    if (!post) return [];
    return [
      {
        ...post,
        likeCount: Number(post.likeCount ?? 0),
        tags: tags.filter((t) => t.post_id === id).map((t) => t.tag),
        recipients: ofPost(recipients, id),
        mentions: ofPost(mentions, id),
        images: ofPost(images, id),
      },
    ];
  });
}

/** The rows of one post, without the column that said whose they are. */
function ofPost<T extends { post_id: string | null }>(rows: T[], postId: string): Omit<T, "post_id">[] {
  return rows.filter((r) => r.post_id === postId).map(({ post_id: _, ...rest }) => rest);
}
export type FederatedPost = NonNullable<Awaited<ReturnType<typeof postForFederation>>>;

/** The actors a post is addressed to (recipients) or names (mentions), with where to deliver. */
function addressedActors(db: Db, table: "post_recipients" | "post_mentions", postIds: string[]) {
  return db
    .selectFrom(table)
    .innerJoin("actors", "actors.id", `${table}.actor_id`)
    .select([
      `${table}.post_id as post_id`,
      "actors.iri",
      "actors.username",
      "actors.host",
      "actors.local",
      "actors.inbox_url as inboxUrl",
      "actors.shared_inbox_url as sharedInboxUrl",
    ])
    .where(`${table}.post_id`, "in", postIds)
    .execute();
}
