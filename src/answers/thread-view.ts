// What a thread page shows of a question: its marks, its marked answers (first
// under the question) and who may mark what.
import type { Db } from "../../db/schema.ts";
import { getPost, type PostView } from "../posts/queries.ts";
import { type AnswerKind, threadAnswers } from "./service.ts";

/** Clinician answers lead, then accepted ones, each in the order they were written. */
const rank = (kinds: Set<AnswerKind> | undefined) => (kinds?.has("clinician") ? 0 : 1);

export async function answersView(
  db: Db,
  root: PostView,
  replies: PostView[],
  viewerId: string | undefined,
  moderates: boolean,
) {
  const { question, marks } = await threadAnswers(db, root.id);
  const onPage = new Map(replies.map((p) => [p.id, p]));
  const answers: PostView[] = [];
  for (const id of [...marks.keys()].sort()) {
    // A marked reply on a later page of replies still leads this one (unless the reader may not see it).
    const post = onPage.get(id) ?? (await getPost(db, id, viewerId).catch(() => undefined));
    if (post && post.audience === root.audience) answers.push(post);
  }
  answers.sort((a, b) => rank(marks.get(a.id)) - rank(marks.get(b.id)) || (a.id < b.id ? -1 : 1));
  const own = root.local && !root.deletedAt && !root.removedAt && viewerId !== undefined;
  return {
    question,
    marks,
    answers: question ? answers : [],
    mayMarkQuestion: own && (root.authorId === viewerId || moderates),
    mayAccept: own && question && (root.authorId === viewerId || moderates),
    mayMarkClinician: own && question && moderates,
  };
}
