// Questions and marked answers. The author of a thread marks it as a
// question; its asker or a community moderator marks replies as accepted
// answers (several may be), and a moderator marks a verified clinician's reply
// as a "clinician answer". Marks are made on the thread's own server only and
// go out with the question (an `Update` of it, federation/answers.ts), which
// other Kindred instances believe from that server alone.
import type { AnswerKind } from "../../db/answers-schema.ts";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { forbidden, notFound } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { now } from "../ids.ts";
import { mayModerate } from "../moderation/authority.ts";

export type { AnswerKind };

/** A local thread of a community, live: the only kind marked here. */
async function localThread(db: Db, threadId: string) {
  const root = await db
    .selectFrom("posts")
    .select(["id", "author_id", "community_id", "parent_id", "local", "deleted_at", "removed_at"])
    .where("id", "=", threadId)
    .executeTakeFirst();
  if (!root || root.parent_id !== null || !root.community_id || root.deleted_at) throw notFound("thread");
  // Marks belong to the thread's own server: elsewhere they arrive with its `Update`.
  if (root.local !== 1) throw forbidden("questions are marked on the server the thread comes from");
  if (root.removed_at) throw forbidden("this thread was removed by a moderator");
  return { ...root, community_id: root.community_id };
}

export async function isQuestion(db: Db, threadId: string): Promise<boolean> {
  return (
    (await db.selectFrom("questions").select("post_id").where("post_id", "=", threadId).executeTakeFirst()) !==
    undefined
  );
}

/** The thread's author (or a moderator) marks it as a question, or takes that back. */
export async function setQuestion(db: Db, threadId: string, actorId: string, question: boolean): Promise<void> {
  const root = await localThread(db, threadId);
  if (root.author_id !== actorId && !(await mayModerate(db, root.community_id, actorId)))
    throw forbidden("only the thread's author or a moderator can mark it as a question");
  await inTransaction(db, async (trx) => {
    if (question === (await isQuestion(trx, threadId))) return;
    if (question)
      await trx
        .insertInto("questions")
        .values({ post_id: threadId, created_at: now(), published_marks: null })
        // Two clicks at once: one row, never a 500.
        .onConflict((oc) => oc.doNothing())
        .execute();
    else await trx.deleteFrom("questions").where("post_id", "=", threadId).execute();
    await recordEvent(trx, { type: "post.updated", postId: threadId });
  });
}

/**
 * Marks (or unmarks) a reply of a question. "accepted": the asker or a
 * moderator; "clinician": a moderator, on a reply by a member this instance
 * verified as a clinician.
 */
export async function setAnswerMark(
  db: Db,
  replyId: string,
  actorId: string,
  kind: AnswerKind,
  marked: boolean,
): Promise<{ threadId: string }> {
  const reply = await db
    .selectFrom("posts")
    .leftJoin("users", "users.actor_id", "posts.author_id")
    .select(["posts.id", "posts.thread_id", "posts.parent_id", "posts.deleted_at", "posts.removed_at"])
    .select("users.is_clinician")
    .where("posts.id", "=", replyId)
    .executeTakeFirst();
  if (!reply || reply.parent_id === null || reply.deleted_at) throw notFound("reply");
  const root = await localThread(db, reply.thread_id);
  if (!(await isQuestion(db, root.id))) throw forbidden("only the replies of a question can be marked as answers");
  const moderates = await mayModerate(db, root.community_id, actorId);
  if (kind === "accepted" && !moderates && root.author_id !== actorId)
    throw forbidden("only the person who asked or a moderator can mark an accepted answer");
  if (kind === "clinician" && !moderates) throw forbidden("only a moderator can mark a clinician answer");
  if (marked && kind === "clinician" && reply.is_clinician !== 1)
    throw forbidden("only a reply by a verified clinician can be marked as a clinician answer");
  if (marked && reply.removed_at) throw forbidden("a removed reply cannot be marked as an answer");
  await inTransaction(db, async (trx) => {
    const held = await trx
      .selectFrom("answer_marks")
      .select("post_id")
      .where("post_id", "=", reply.id)
      .where("kind", "=", kind)
      .executeTakeFirst();
    if (marked === (held !== undefined)) return;
    if (marked)
      await trx
        .insertInto("answer_marks")
        .values({ post_id: reply.id, thread_id: root.id, kind, marked_by: actorId, marked_at: now() })
        .onConflict((oc) => oc.doNothing())
        .execute();
    else await trx.deleteFrom("answer_marks").where("post_id", "=", reply.id).where("kind", "=", kind).execute();
    await recordEvent(trx, { type: "post.updated", postId: root.id });
  });
  return { threadId: root.id };
}

export interface ThreadAnswers {
  question: boolean;
  /** Kinds of mark by reply id; replies deleted or removed are left out. */
  marks: Map<string, Set<AnswerKind>>;
}

/** A thread's question state and marked answers, as the thread page shows them. */
export async function threadAnswers(db: Db, threadId: string): Promise<ThreadAnswers> {
  const marks = new Map<string, Set<AnswerKind>>();
  const question = await isQuestion(db, threadId);
  if (!question) return { question, marks };
  const rows = await db
    .selectFrom("answer_marks")
    .innerJoin("posts", "posts.id", "answer_marks.post_id")
    .select(["answer_marks.post_id", "answer_marks.kind"])
    .where("answer_marks.thread_id", "=", threadId)
    .where("posts.deleted_at", "is", null)
    .where("posts.removed_at", "is", null)
    .orderBy("answer_marks.post_id")
    .execute();
  for (const r of rows) marks.set(r.post_id, (marks.get(r.post_id) ?? new Set()).add(r.kind));
  return { question, marks };
}

/** What federation publishes of a local thread: whether it is a question, and its marked replies' IRIs. */
export async function answersForFederation(db: Db, threadId: string) {
  const { question, marks } = await threadAnswers(db, threadId);
  if (!question) return { question, accepted: [], clinician: [] };
  const iris = await db
    .selectFrom("posts")
    .select(["id", "iri"])
    .where("thread_id", "=", threadId)
    .where("id", "in", [...marks.keys(), ""])
    .orderBy("id")
    .execute();
  const withKind = (kind: AnswerKind) => iris.filter((p) => marks.get(p.id)?.has(kind)).map((p) => p.iri);
  return { question, accepted: withKind("accepted"), clinician: withKind("clinician") };
}

export interface PublishedAnswers {
  question: boolean;
  accepted: string[];
  clinician: string[];
}

/**
 * Marks a remote thread's server published with its question: they replace
 * what we held. Only replies of that thread are marked (one arriving later is
 * marked as it arrives, `markOnArrival`); any other IRI is ignored. The
 * caller has checked that the statement comes from the thread's own server.
 */
export async function receiveAnswers(db: Db, threadIri: string, published: PublishedAnswers): Promise<void> {
  await inTransaction(db, async (trx) => {
    const root = await trx
      .selectFrom("posts")
      .select(["id", "local", "parent_id"])
      .where("iri", "=", threadIri)
      .executeTakeFirst();
    if (!root || root.local === 1 || root.parent_id !== null) return;
    await trx.deleteFrom("answer_marks").where("thread_id", "=", root.id).execute();
    await trx.deleteFrom("questions").where("post_id", "=", root.id).execute();
    if (!published.question) return;
    const marks = {
      accepted: published.accepted.slice(0, MARKS_MAX),
      clinician: published.clinician.slice(0, MARKS_MAX),
    };
    const ts = now();
    await trx
      .insertInto("questions")
      .values({ post_id: root.id, created_at: ts, published_marks: JSON.stringify(marks) })
      .execute();
    for (const kind of ["accepted", "clinician"] as const) {
      if (marks[kind].length === 0) continue;
      let replies = trx
        .selectFrom("posts")
        .leftJoin("users", "users.actor_id", "posts.author_id")
        .select("posts.id")
        .where("posts.thread_id", "=", root.id)
        .where("posts.id", "!=", root.id)
        .where("posts.iri", "in", marks[kind]);
      // Our own members' replies are clinician answers only if we verified them: another server can't lend
      // our badge's authority to anyone here.
      if (kind === "clinician")
        replies = replies.where((eb) => eb.or([eb("posts.local", "=", 0), eb("users.is_clinician", "=", 1)]));
      const found = await replies.execute();
      if (found.length > 0)
        await trx
          .insertInto("answer_marks")
          .values(found.map((r) => ({ post_id: r.id, thread_id: root.id, kind, marked_by: null, marked_at: ts })))
          .execute();
    }
  });
}

/** A reply of a remote question that arrives after its server marked it (a backfill, a late delivery). */
export async function markOnArrival(db: Db, postId: string): Promise<void> {
  const row = await db
    .selectFrom("posts")
    .innerJoin("questions", "questions.post_id", "posts.thread_id")
    .select(["posts.iri", "posts.thread_id", "questions.published_marks"])
    .where("posts.id", "=", postId)
    .where("posts.local", "=", 0)
    .executeTakeFirst();
  if (!row?.published_marks || row.thread_id === postId) return;
  const marks = JSON.parse(row.published_marks) as { accepted?: string[]; clinician?: string[] };
  for (const kind of ["accepted", "clinician"] as const) {
    if (!marks[kind]?.includes(row.iri)) continue;
    await db
      .insertInto("answer_marks")
      .values({ post_id: postId, thread_id: row.thread_id, kind, marked_by: null, marked_at: now() })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** At most this many marks of each kind are read from another server's question. */
export const MARKS_MAX = 50;
