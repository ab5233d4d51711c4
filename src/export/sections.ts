// The archive's files beyond Mastodon's outbox: follows and filters as
// Mastodon's CSV files, and what GDPR Art. 15 asks for (direct messages,
// communities, account, moderation records, the delivery ledger).

import { join } from "node:path";
import type { Db } from "../../db/schema.ts";
import { hostOf } from "../urls.ts";
import {
  type ArchiveSource,
  csvCell,
  keyset,
  pagedIds,
  type postsQuery,
  theirMessages,
  writeStreamedArray,
  writeText,
} from "./files.ts";

/** Mastodon's CSV files: following (with its header), mutes, blocks and blocked servers. */
export async function writeFollowing(db: Db, userId: string, dir: string): Promise<void> {
  const following = await db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.followee_id")
    .select(["actors.username", "actors.host"])
    .where("follows.follower_id", "=", userId)
    .where("follows.status", "=", "accepted")
    .orderBy("follows.created_at")
    .execute();
  await writeText(
    join(dir, "following_accounts.csv"),
    `${[
      "Account address,Show boosts,Notify on new posts,Languages",
      ...following.map((a) => `${csvCell(`${a.username}@${a.host}`)},true,false,`),
    ].join("\n")}\n`,
  );
  const filters = await db
    .selectFrom("member_filters")
    .leftJoin("actors", "actors.id", "member_filters.target_actor_id")
    .select(["member_filters.kind", "member_filters.target_domain", "actors.username", "actors.host"])
    .where("member_filters.user_id", "=", userId)
    .orderBy("member_filters.created_at")
    .execute();
  const accounts = (kind: string) =>
    filters.filter((f) => f.kind === kind && f.username).map((f) => csvCell(`${f.username}@${f.host}`));
  await writeText(
    join(dir, "muted_accounts.csv"),
    `${["Account address,Hide notifications", ...accounts("mute").map((a) => `${a},true`)].join("\n")}\n`,
  );
  await writeText(
    join(dir, "blocked_accounts.csv"),
    accounts("block")
      .map((a) => `${a}\n`)
      .join(""),
  );
  await writeText(
    join(dir, "blocked_domains.csv"),
    filters
      .filter((f) => f.kind === "block_domain" && f.target_domain)
      .map((f) => `${f.target_domain}\n`)
      .join(""),
  );
}

/** Every direct message they sent or received, oldest first, each with who it was between. */
export async function writeDirectMessages(
  src: ArchiveSource,
  userId: string,
  path: string,
  tick: () => Promise<void>,
): Promise<void> {
  await writeStreamedArray(
    path,
    { description: "Direct messages sent and received, oldest first" },
    "messages",
    async (emit) => {
      const mine = (q: ReturnType<typeof postsQuery>) => theirMessages(q, userId);
      for await (const id of pagedIds(src.db, mine)) {
        const m = await src.db
          .selectFrom("posts")
          .innerJoin("actors", "actors.id", "posts.author_id")
          .select([
            "posts.iri",
            "posts.author_id",
            "posts.content_html",
            "posts.source",
            "posts.summary",
            "posts.published_at",
            "actors.username",
            "actors.host",
          ])
          .where("posts.id", "=", id)
          .executeTakeFirstOrThrow();
        const to = await src.db
          .selectFrom("post_recipients")
          .innerJoin("actors", "actors.id", "post_recipients.actor_id")
          .select(["actors.username", "actors.host"])
          .where("post_recipients.post_id", "=", id)
          .execute();
        await emit({
          id: m.iri,
          direction: m.author_id === userId ? "sent" : "received",
          from: `${m.username}@${m.host}`,
          to: to.map((r) => `${r.username}@${r.host}`),
          published: m.published_at,
          contentWarning: m.summary,
          content: m.content_html,
          source: m.source,
        });
        await tick();
      }
    },
  );
}

export async function communities(db: Db, userId: string) {
  const rows = await db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.followee_id")
    .select([
      "actors.id",
      "actors.iri",
      "actors.username",
      "actors.host",
      "actors.name",
      "actors.local",
      "follows.status",
      "follows.created_at",
      "follows.accepted_at",
    ])
    .where("follows.follower_id", "=", userId)
    .where("actors.type", "=", "Group")
    .orderBy("follows.created_at")
    .execute();
  const moderated = new Set(
    (await db.selectFrom("community_moderators").select("community_id").where("actor_id", "=", userId).execute()).map(
      (r) => r.community_id,
    ),
  );
  return {
    memberships: rows.map((r) => ({
      handle: `${r.username}@${r.host}`,
      iri: r.iri,
      name: r.name,
      onThisServer: r.local === 1,
      status: r.status === "accepted" ? "member" : "requested",
      requestedAt: r.created_at,
      joinedAt: r.accepted_at,
      moderator: moderated.has(r.id),
    })),
  };
}

export async function account(
  db: Db,
  user: {
    id: string;
    username: string;
    iri: string;
    name: string | null;
    created_at: string;
    email: string | null;
    role: string;
    is_clinician: number;
    bio_source: string;
  },
  origin: string,
) {
  const sessions = await db
    .selectFrom("sessions")
    .select(["created_at", "last_seen_at", "expires_at", "user_agent"])
    .where("user_id", "=", user.id)
    .where("expires_at", ">", new Date().toISOString())
    .orderBy("created_at")
    .execute();
  const filters = await db
    .selectFrom("member_filters")
    .select((eb) => ["kind", eb.fn.countAll().as("n")])
    .where("user_id", "=", user.id)
    .groupBy("kind")
    .execute();
  return {
    username: user.username,
    handle: `@${user.username}@${hostOf(origin)}`,
    iri: user.iri,
    displayName: user.name,
    email: user.email,
    signedUpAt: user.created_at,
    roles: [user.role, ...(user.is_clinician === 1 ? ["verified clinician"] : [])],
    settings: { bio: user.bio_source, filters: Object.fromEntries(filters.map((f) => [f.kind, Number(f.n)])) },
    activeSessions: sessions.map((s) => ({
      startedAt: s.created_at,
      lastSeenAt: s.last_seen_at,
      expiresAt: s.expires_at,
      userAgent: s.user_agent,
    })),
  };
}

export async function moderation(db: Db, userId: string) {
  const reports = await db
    .selectFrom("reports")
    .select(["iri", "category", "comment", "status", "created_at", "resolved_at", "resolution_note"])
    .where("reporter_id", "=", userId)
    .orderBy("created_at")
    .execute();
  const actions = await db
    .selectFrom("moderation_actions")
    .leftJoin("posts", "posts.id", "moderation_actions.target_post_id")
    .leftJoin("actors as community", "community.id", "moderation_actions.community_id")
    .select([
      "moderation_actions.action",
      "moderation_actions.reason",
      "moderation_actions.created_at",
      "posts.iri as postIri",
      "community.username as community",
      "community.host as communityHost",
    ])
    .where("moderation_actions.target_actor_id", "=", userId)
    .orderBy("moderation_actions.created_at")
    .execute();
  const bans = await db
    .selectFrom("community_bans")
    .innerJoin("actors", "actors.id", "community_bans.community_id")
    .select([
      "actors.username",
      "actors.host",
      "community_bans.reason",
      "community_bans.created_at",
      "community_bans.expires_at",
    ])
    .where("community_bans.actor_id", "=", userId)
    .execute();
  return {
    reportsFiled: reports.map((r) => ({
      iri: r.iri,
      category: r.category,
      comment: r.comment,
      status: r.status,
      filedAt: r.created_at,
      resolvedAt: r.resolved_at,
      outcome: r.resolution_note,
    })),
    actionsOnTheirContent: actions.map((a) => ({
      action: a.action,
      community: a.community ? `${a.community}@${a.communityHost}` : null,
      post: a.postIri,
      reason: a.reason,
      at: a.created_at,
    })),
    communityBans: bans.map((b) => ({
      community: `${b.username}@${b.host}`,
      reason: b.reason,
      since: b.created_at,
      until: b.expires_at,
    })),
  };
}

/** The delivery ledger: which server received which of their objects, and when. */
export async function writeDeliveries(
  db: Db,
  userId: string,
  path: string,
  tick: (n?: number) => Promise<void>,
): Promise<void> {
  const servers = await db
    .selectFrom("deliveries")
    .select(["host", (eb) => eb.fn.countAll().as("n"), (eb) => eb.fn.max("delivered_at").as("last")])
    .where("actor_id", "=", userId)
    .groupBy("host")
    .orderBy("host")
    .execute();
  const head = {
    description:
      "Which servers received which of your objects, and when (status: delivered, pending, retrying or failed)",
    servers: servers.map((s) => ({ host: s.host, deliveries: Number(s.n), lastDeliveredAt: s.last })),
  };
  await writeStreamedArray(path, head, "deliveries", async (emit) => {
    const page = (after: string, limit: number) =>
      db
        .selectFrom("deliveries")
        .select([
          "id",
          "object_iri",
          "activity_iri",
          "inbox_url",
          "host",
          "status",
          "attempts",
          "created_at",
          "delivered_at",
        ])
        .where("actor_id", "=", userId)
        .where("id", ">", after)
        .orderBy("id")
        .limit(limit)
        .execute();
    for await (const rows of keyset(page)) {
      for (const r of rows)
        await emit({
          object: r.object_iri,
          activity: r.activity_iri,
          inbox: r.inbox_url,
          host: r.host,
          status: r.status,
          attempts: r.attempts,
          sentAt: r.created_at,
          deliveredAt: r.delivered_at,
        });
      await tick(rows.length);
    }
  });
}
