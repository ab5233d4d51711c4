// Questions and marked answers on a thread page: the labels, the marked
// answers shown first under the question, and the marking buttons.
import { html } from "hono/html";
import type { PostItem } from "./components.ts";
import { flag, type Html, inlineForm, type PageContext } from "./layout.ts";

export type AnswerKind = "accepted" | "clinician";

export interface AnswersView {
  question: boolean;
  /** Kinds of mark by reply id. */
  marks: Map<string, Set<AnswerKind>>;
  /** The marked replies, clinician answers first, each once (also those on later pages of replies). */
  answers: PostItem[];
  /** The reader may mark the thread as a question (its author or a moderator, on its own server). */
  mayMarkQuestion: boolean;
  /** The reader may mark accepted answers (the asker or a moderator). */
  mayAccept: boolean;
  /** The reader may mark a verified clinician's reply as a clinician answer (a moderator). */
  mayMarkClinician: boolean;
}

const LABELS: Record<AnswerKind, string> = { clinician: "Clinician answer", accepted: "Accepted answer" };

/** "Clinician answer" and "Accepted answer" labels of a reply. */
export function answerLabels(a: AnswersView | undefined, p: PostItem): Html | string {
  const kinds = a?.question ? a.marks.get(p.id) : undefined;
  if (!kinds || kinds.size === 0) return "";
  const order: AnswerKind[] = ["clinician", "accepted"];
  return html`${order
    .filter((k) => kinds.has(k))
    .map((k) => html` · <span class="tag answer ${k}">${LABELS[k]}</span>`)}`;
}

/** Under the question, before the discussion: its marked answers, with their labels. */
export function markedAnswers(a: AnswersView | undefined, render: (p: PostItem) => Html): Html | string {
  if (!a?.question || a.answers.length === 0) return "";
  const items = a.answers.map((p) => html`<li id="answer-${p.id}">${render(p)}</li>`);
  return html`<section class="marked-answers" aria-labelledby="answers-h">
  <h2 id="answers-h">${a.answers.length === 1 ? "Marked answer" : "Marked answers"}</h2>
  <ol class="replies">${items}</ol>
</section>`;
}

/** The buttons marking a reply as an answer, for those who may. */
export function answerActions(page: PageContext, a: AnswersView | undefined, p: PostItem): Html | string {
  if (!a?.question || p.deletedAt || p.removedAt || p.parentId === null) return "";
  const kinds = a.marks.get(p.id);
  const button = (kind: AnswerKind, mark: string, unmark: string) => {
    const marked = kinds?.has(kind) ?? false;
    return html` ${inlineForm(
      page.csrf,
      `/posts/${p.id}/answer`,
      html`<input type="hidden" name="kind" value="${kind}"><input type="hidden" name="marked" value="${
        marked ? "0" : "1"
      }"><button class="link">${marked ? unmark : mark}</button>`,
    )}`;
  };
  const accept = a.mayAccept ? button("accepted", "Mark as accepted answer", "Unmark accepted answer") : "";
  const clinician =
    a.mayMarkClinician && (p.authorClinician || kinds?.has("clinician"))
      ? button("clinician", "Mark as clinician answer", "Unmark clinician answer")
      : "";
  return html`${accept}${clinician}`;
}

/** The thread author's (or a moderator's) switch between a question and a discussion. */
export function questionSwitch(page: PageContext, a: AnswersView | undefined, root: PostItem): Html | string {
  if (!a?.mayMarkQuestion || root.deletedAt || root.removedAt) return "";
  const label = a.question ? "Not a question" : "Mark as question";
  return html` ${inlineForm(
    page.csrf,
    `/posts/${root.id}/question`,
    html`<input type="hidden" name="question" value="${a.question ? "0" : "1"}"><button class="link">${label}</button>`,
  )}`;
}

/** The composer's checkbox: a new thread asked as a question. */
export function questionField(checked: boolean): Html {
  return html`<label class="check"><input type="checkbox" name="question" value="1"${flag("checked", checked)}>
  This is a question (replies can be marked as answers)</label>`;
}
