// The review queues: reports and appeals, per community for its moderators
// and for the whole instance for its admins.
import type { Db } from "../../db/schema.ts";

export type QueueScope = { communityId: string } | { instance: true };

/** Open (or closed) reports, newest first, with what they name. */
export async function listReports(
  db: Db,
  scope: QueueScope,
  options: { status?: "open" | "resolved" | "dismissed"; cursor?: string; limit?: number } = {},
) {
  const limit = options.limit ?? 50;
  let q = db
    .selectFrom("reports")
    .leftJoin("actors as reporter", "reporter.id", "reports.reporter_id")
    .leftJoin("actors as target", "target.id", "reports.target_actor_id")
    .leftJoin("actors as community", "community.id", "reports.community_id")
    .select([
      "reports.id",
      "reports.iri",
      "reports.category",
      "reports.comment",
      "reports.status",
      "reports.remote",
      "reports.forward",
      "reports.reporter_contact as contact",
      "reports.resolution_note as note",
      "reports.created_at as createdAt",
      "reports.resolved_at as resolvedAt",
      "reports.community_id as communityId",
      "reporter.iri as reporterIri",
      "reporter.username as reporterUsername",
      "reporter.host as reporterHost",
      "reporter.local as reporterLocal",
      "reporter.type as reporterType",
      "target.id as targetId",
      "target.iri as targetIri",
      "target.username as targetUsername",
      "target.host as targetHost",
      "target.local as targetLocal",
      "community.username as communityUsername",
      "community.host as communityHost",
      "community.local as communityLocal",
    ])
    .where("reports.status", "=", options.status ?? "open")
    .orderBy("reports.id", "desc")
    .limit(limit + 1);
  if ("communityId" in scope) q = q.where("reports.community_id", "=", scope.communityId);
  if (options.cursor) q = q.where("reports.id", "<", options.cursor);
  const rows = await q.execute();
  const items = rows.slice(0, limit);
  const posts = await reportPosts(
    db,
    items.map((r) => r.id),
  );
  return {
    items: items.map((r) => ({ ...r, posts: posts.filter((p) => p.reportId === r.id) })),
    nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null,
  };
}

export type ReportItem = Awaited<ReturnType<typeof listReports>>["items"][number];

async function reportPosts(db: Db, reportIds: string[]) {
  if (reportIds.length === 0) return [];
  return db
    .selectFrom("report_posts")
    .innerJoin("posts", "posts.id", "report_posts.post_id")
    .select([
      "report_posts.report_id as reportId",
      "posts.id",
      "posts.iri",
      "posts.thread_id as threadId",
      "posts.title",
      "posts.content_html as contentHtml",
      "posts.summary",
      "posts.audience",
      "posts.removed_at as removedAt",
      "posts.deleted_at as deletedAt",
      "posts.local",
    ])
    .where("report_posts.report_id", "in", reportIds)
    .execute();
}

/** Appeals waiting: with a community's moderators (`open`), or with the admins (`escalated`). */
export async function listAppeals(db: Db, scope: QueueScope, options: { cursor?: string; limit?: number } = {}) {
  const limit = options.limit ?? 50;
  let q = db
    .selectFrom("appeals")
    .innerJoin("moderation_actions as action", "action.id", "appeals.action_id")
    .innerJoin("actors as appellant", "appellant.id", "appeals.appellant_id")
    .leftJoin("actors as community", "community.id", "appeals.community_id")
    .leftJoin("posts", "posts.id", "action.target_post_id")
    .select([
      "appeals.id",
      "appeals.text",
      "appeals.status",
      "appeals.moderator_note as moderatorNote",
      "appeals.created_at as createdAt",
      "action.id as actionId",
      "action.action",
      "action.reason",
      "action.created_at as actedAt",
      "appellant.username as appellantUsername",
      "appellant.host as appellantHost",
      "appellant.local as appellantLocal",
      "community.username as communityUsername",
      "community.host as communityHost",
      "posts.id as postId",
      "posts.thread_id as threadId",
      "posts.title as postTitle",
    ])
    .where("appeals.status", "=", "communityId" in scope ? "open" : "escalated")
    .orderBy("appeals.id", "desc")
    .limit(limit + 1);
  if ("communityId" in scope) q = q.where("appeals.community_id", "=", scope.communityId);
  if (options.cursor) q = q.where("appeals.id", "<", options.cursor);
  const rows = await q.execute();
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

export type AppealItem = Awaited<ReturnType<typeof listAppeals>>["items"][number];
