// What a member can be told about. Each kind is one line: its label in the
// list of notifications. Other features add theirs here (issue 12 brings
// replies, mentions, messages, likes and follows).
export const NOTIFICATION_KINDS = {
  /** A moderator acted on the member's content or on them: the statement of reasons (DSA Art. 17). */
  moderation: "A moderator acted on your content",
  /** A report the member filed was handled. */
  report_closed: "Your report was handled",
  /** A decision on the member's appeal. */
  appeal_decided: "Your appeal was decided",
  /** For moderators and admins: a new report in their queue. */
  report_filed: "New report to review",
  /** For moderators and admins: a new appeal (or one escalated to the admins). */
  appeal_filed: "New appeal to review",
} as const;

export type NotificationKind = keyof typeof NOTIFICATION_KINDS;
