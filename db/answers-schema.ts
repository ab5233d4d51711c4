// Table types of verified clinicians and marked answers (issue 13). Part of db/schema.ts.
import type { Iso } from "./scalars.ts";

/** The admin-set badge (its holder's `users.is_clinician` is 1 while it exists). */
export interface ClinicianBadgesTable {
  user_id: string;
  /** What they are verified as: "Nurse", "Cardiologist". */
  profession: string;
  /** A professional register's reference, shown so readers can check it. */
  registration: string | null;
  verified_by: string | null;
  verified_at: Iso;
}

/** A thread its author marked as a question. */
export interface QuestionsTable {
  post_id: string;
  created_at: Iso;
  /** A remote question's marks as its server published them: JSON `{accepted: [iri], clinician: [iri]}`. */
  published_marks: string | null;
}

export type AnswerKind = "accepted" | "clinician";

export interface AnswerMarksTable {
  post_id: string;
  thread_id: string;
  kind: AnswerKind;
  /** Null when the mark came from the thread's origin server. */
  marked_by: string | null;
  marked_at: Iso;
}

/** These tables, as db/schema.ts's `Database` extends them. */
export interface AnswersTables {
  clinician_badges: ClinicianBadgesTable;
  questions: QuestionsTable;
  answer_marks: AnswerMarksTable;
}
