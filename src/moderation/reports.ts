// Reports (DSA Art. 16 notices): from members, logged-out visitors and other
// servers (`Flag`), into one queue per community for its moderators and one
// for the instance's admins. Each is resolved or dismissed with a note, and
// the reporter is told.

import type { Insertable } from "kysely";
import { z } from "zod";
import type { Db, ReportCategory, ReportsTable } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { conflict, forbidden, invalid, notFound, parseInput } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { newId, now } from "../ids.ts";
import { notify } from "../notifications/service.ts";
import { type Acting, assertMayModerate } from "./authority.ts";

export const REPORT_CATEGORIES: Record<ReportCategory, string> = {
  medical_misinformation: "Medical misinformation",
  harassment: "Harassment or hate",
  self_harm: "Risk of self-harm",
  spam: "Spam or advertising",
  privacy: "Privacy breach (someone's health or identity exposed)",
  illegal: "Illegal content",
  other: "Something else",
};
export const COMMENT_MAX = 2000;
/** Reports one remote account may file an hour (Mastodon's instance actor files all of its server's). */
export const REMOTE_REPORTS_PER_HOUR = 30;

const reportInput = z.object({
  category: z.enum(Object.keys(REPORT_CATEGORIES) as [ReportCategory, ...ReportCategory[]], {
    error: "choose a reason",
  }),
  comment: z.string().trim().max(COMMENT_MAX, `must be at most ${COMMENT_MAX} characters`).default(""),
  contact: z
    .string()
    .trim()
    .max(320, "must be at most 320 characters")
    .optional()
    .transform((v) => v || null)
    .refine((v) => v === null || /^[^\s@]+@[^\s@]+$/.test(v), "must be an email address"),
  forward: z.boolean().default(false),
});

export interface NewReport {
  /** The reporting member; null for a logged-out visitor. */
  reporterId: string | null;
  postIds?: string[];
  /** The person reported (defaults to the reported post's author). */
  actorId?: string | null;
  category: string;
  comment?: string;
  /** A visitor's address for the outcome. */
  contact?: string;
  /** Also send it to the reported content's server (Mastodon's "forward"). */
  forward?: boolean;
}

/** Files a report from a member or a visitor; returns its id. */
export async function fileReport(db: Db, origin: string, input: NewReport): Promise<string> {
  const data = parseInput(reportInput, {
    category: input.category,
    comment: input.comment,
    contact: input.contact,
    forward: input.forward,
  });
  const postIds = [...new Set(input.postIds ?? [])].slice(0, 20);
  if (postIds.length === 0 && !input.actorId) throw invalid("a report names a post or a person");
  if (input.reporterId === null && postIds.length === 0) throw forbidden("log in to report a person");
  return inTransaction(db, async (trx) => {
    const posts = await reportedPosts(trx, postIds);
    // Visitors report what anyone can read: public posts.
    if (input.reporterId === null && posts.some((p) => p.audience !== "public")) throw notFound("post");
    let targetActor = input.actorId ?? posts[0]?.author_id ?? null;
    if (input.actorId) {
      const actor = await trx.selectFrom("actors").select("id").where("id", "=", input.actorId).executeTakeFirst();
      if (!actor) throw notFound("person");
      targetActor = actor.id;
    }
    if (input.reporterId !== null && targetActor === input.reporterId) throw forbidden("you cannot report yourself");
    const id = newId();
    await storeReport(
      trx,
      {
        id,
        iri: `${origin}/reports/${id}`,
        reporter_id: input.reporterId,
        reporter_contact: input.reporterId === null ? data.contact : null,
        community_id: posts.find((p) => p.community_id)?.community_id ?? null,
        target_actor_id: targetActor,
        category: data.category,
        comment: data.comment,
        forward: data.forward ? 1 : 0,
        remote: 0,
      },
      posts,
    );
    await recordEvent(trx, { type: "report.filed", reportId: id });
    return id;
  });
}

/**
 * A report the instance files itself (crisis keywords in a community that asked to be told): no reporter,
 * no contact, never sent to another server.
 */
export async function fileAutomaticReport(
  db: Db,
  origin: string,
  input: { postId: string; category: ReportCategory; comment: string },
): Promise<string> {
  return inTransaction(db, async (trx) => {
    const posts = await reportedPosts(trx, [input.postId]);
    const id = newId();
    await storeReport(
      trx,
      {
        id,
        iri: `${origin}/reports/${id}`,
        reporter_id: null,
        reporter_contact: null,
        community_id: posts[0]?.community_id ?? null,
        target_actor_id: posts[0]?.author_id ?? null,
        category: input.category,
        comment: input.comment,
        forward: 0,
        remote: 0,
      },
      posts,
    );
    await recordEvent(trx, { type: "report.filed", reportId: id });
    return id;
  });
}

async function reportedPosts(db: Db, postIds: string[]) {
  if (postIds.length === 0) return [];
  const rows = await db
    .selectFrom("posts")
    .select(["id", "community_id", "author_id", "audience", "deleted_at"])
    .where("id", "in", postIds)
    .execute();
  if (rows.length !== postIds.length || rows.some((r) => r.deleted_at)) throw notFound("post");
  return rows;
}

/** A `Flag` from another server, already resolved to rows here; ignored when already stored. */
export async function receiveReport(
  db: Db,
  input: {
    iri: string;
    reporterId: string;
    postIds: string[];
    actorId: string | null;
    communityId: string | null;
    comment: string;
  },
): Promise<string | null> {
  return inTransaction(db, async (trx) => {
    const known = await trx.selectFrom("reports").select("id").where("iri", "=", input.iri).executeTakeFirst();
    if (known) return null;
    // One account cannot flood the moderators: beyond this many reports an hour, its Flags are dropped.
    const recent = await trx
      .selectFrom("reports")
      .select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("reporter_id", "=", input.reporterId)
      .where("created_at", ">", new Date(Date.now() - 3_600_000).toISOString())
      .executeTakeFirstOrThrow();
    if (Number(recent.n) >= REMOTE_REPORTS_PER_HOUR) return null;
    const posts = await trx
      .selectFrom("posts")
      .select(["id", "community_id", "author_id"])
      .where("id", "in", input.postIds.length > 0 ? input.postIds : [""])
      .execute();
    const id = newId();
    await storeReport(
      trx,
      {
        id,
        iri: input.iri,
        reporter_id: input.reporterId,
        reporter_contact: null,
        community_id: input.communityId ?? posts.find((p) => p.community_id)?.community_id ?? null,
        target_actor_id: input.actorId ?? posts[0]?.author_id ?? null,
        category: "other",
        comment: input.comment.slice(0, COMMENT_MAX),
        forward: 0,
        remote: 1,
      },
      posts,
    );
    return id;
  });
}

/** Writes an open report and the posts it names; the reviewers are told. */
async function storeReport(
  db: Db,
  row: Omit<Insertable<ReportsTable>, "status" | "created_at">,
  posts: { id: string }[],
): Promise<void> {
  await db
    .insertInto("reports")
    .values({ ...row, status: "open", resolution_note: null, resolved_by: null, resolved_at: null, created_at: now() })
    .execute();
  if (posts.length > 0)
    await db
      .insertInto("report_posts")
      .values(posts.map((p) => ({ report_id: row.id, post_id: p.id })))
      .execute();
  await tellReviewers(db, row.id);
}

/** The community's local moderators, or the admins for reports outside any community of ours. */
async function tellReviewers(db: Db, reportId: string): Promise<void> {
  const report = await db
    .selectFrom("reports")
    .leftJoin("communities", "communities.actor_id", "reports.community_id")
    .select(["reports.community_id", "reports.target_actor_id", "communities.actor_id as localCommunity"])
    .where("reports.id", "=", reportId)
    .executeTakeFirstOrThrow();
  // Never the person reported, should they moderate here.
  const reviewers = report.localCommunity
    ? await db
        .selectFrom("community_moderators")
        .select("actor_id")
        .where("community_id", "=", report.localCommunity)
        .execute()
    : await db.selectFrom("users").select("actor_id").where("role", "=", "admin").execute();
  await notify(
    db,
    reviewers
      .filter((r) => r.actor_id !== report.target_actor_id)
      .map((r) => ({
        userId: r.actor_id,
        kind: "report_filed" as const,
        reportId,
        communityId: report.community_id,
      })),
  );
}

export async function findReport(db: Db, reportId: string) {
  const report = await db.selectFrom("reports").selectAll().where("id", "=", reportId).executeTakeFirst();
  if (!report) throw notFound("report");
  return report;
}

/**
 * Who reviews a report: a moderator of its (local) community, or an admin.
 * Reports outside our communities are for admins only.
 */
export async function assertMayReview(db: Db, acting: Acting, report: { community_id: string | null }) {
  const local = report.community_id
    ? await db
        .selectFrom("communities")
        .select("actor_id")
        .where("actor_id", "=", report.community_id)
        .executeTakeFirst()
    : undefined;
  if (acting.role === "admin") return assertMayModerate(db, acting, report.community_id ?? "");
  if (!local || !report.community_id) throw forbidden("only admins review this report");
  await assertMayModerate(db, acting, report.community_id);
}

/** Closes a report, resolved (something was done) or dismissed, with a note the reporter reads. */
export async function closeReport(
  db: Db,
  acting: Acting,
  reportId: string,
  outcome: "resolved" | "dismissed",
  note?: string | null,
): Promise<void> {
  const text = parseInput(z.string().trim().max(COMMENT_MAX).optional(), note ?? undefined) || null;
  await inTransaction(db, async (trx) => {
    const report = await findReport(trx, reportId);
    await assertMayReview(trx, acting, report);
    if (report.status !== "open") throw conflict(`this report is already ${report.status}`);
    await trx
      .updateTable("reports")
      .set({ status: outcome, resolution_note: text, resolved_by: acting.actorId, resolved_at: now() })
      .where("id", "=", reportId)
      .execute();
    if (report.reporter_id) await notify(trx, { userId: report.reporter_id, kind: "report_closed", reportId });
    await recordEvent(trx, { type: "report.closed", reportId });
  });
}

/**
 * An action taken from a report resolves it, with the action as its note;
 * a report already closed, or one this person may not review, stays as it is.
 */
export async function resolveByAction(
  db: Db,
  acting: Acting,
  reportId: string,
  target: { postId: string | null; actorId: string | null },
  note: string,
): Promise<void> {
  const report = await db.selectFrom("reports").selectAll().where("id", "=", reportId).executeTakeFirst();
  if (report?.status !== "open") return;
  // The action must be about what was reported, and not taken by the person reported.
  if (acting.actorId !== null && acting.actorId === report.target_actor_id) return;
  const named = target.postId
    ? await db
        .selectFrom("report_posts")
        .select("post_id")
        .where("report_id", "=", reportId)
        .where("post_id", "=", target.postId)
        .executeTakeFirst()
    : undefined;
  if (!named && (target.actorId === null || target.actorId !== report.target_actor_id)) return;
  const allowed = await assertMayReview(db, acting, report).then(
    () => true,
    () => false,
  );
  if (allowed) await closeReport(db, acting, reportId, "resolved", note.slice(0, COMMENT_MAX));
}

/** How long a visitor's address outlives the report's closing: time to write to them (then it is erased). */
export const CONTACT_KEPT_MS = 30 * 86_400_000;

/** Erases visitors' addresses on reports closed more than CONTACT_KEPT_MS ago (minimal personal data). */
export async function pruneReportContacts(db: Db, keptMs = CONTACT_KEPT_MS): Promise<number> {
  const result = await db
    .updateTable("reports")
    .set({ reporter_contact: null })
    .where("reporter_contact", "is not", null)
    .where("status", "!=", "open")
    .where("resolved_at", "<", new Date(Date.now() - keptMs).toISOString())
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Another server resolved a report we sent it (Lemmy's `Resolve`): only the server it went to may. */
export async function receiveReportResolved(db: Db, input: { iri: string; resolverHost: string }): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const report = await trx
      .selectFrom("reports")
      .leftJoin("actors as community", "community.id", "reports.community_id")
      .select([
        "reports.id",
        "reports.status",
        "reports.reporter_id",
        "community.host as ch",
        "community.local as communityLocal",
      ])
      .where("reports.iri", "=", input.iri)
      .where("reports.remote", "=", 0)
      .executeTakeFirst();
    if (report?.status !== "open") return false;
    // Only the community a report was sent to resolves it there (Lemmy): not the reported person's server.
    if (report.communityLocal !== 0 || input.resolverHost !== report.ch) return false;
    await trx
      .updateTable("reports")
      .set({ status: "resolved", resolved_at: now(), resolution_note: `Resolved on ${input.resolverHost}` })
      .where("id", "=", report.id)
      .execute();
    if (report.reporter_id)
      await notify(trx, { userId: report.reporter_id, kind: "report_closed", reportId: report.id });
    return true;
  });
}
