// What a member can be told about. Each kind is one line: its label in the
// list of notifications, also the name of its switch on the settings page.
// Another feature adds a kind with one line here and a notify() call.
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
  /** For admins: someone applied to join the instance (sign-ups need approval). */
  registration: "New sign-up to review",
  /** Someone answered one of the member's posts. */
  reply: "New reply to your post",
  /** Someone named the member in a post. */
  mention: "You were mentioned",
  /** A direct message to the member. */
  message: "New direct message",
  /** Someone liked one of the member's posts (grouped per post on the page). */
  like: "Someone liked your post",
  /** For moderators: someone asks to join a community that vets its members. */
  join_request: "New request to join",
  /** Someone followed the member. */
  follow: "Someone followed you",
  /** Someone asks to follow the member, who approves it (src/follows/requests.ts). */
  follow_request: "Someone asked to follow you",
} as const;

export type NotificationKind = keyof typeof NOTIFICATION_KINDS;

/**
 * Kinds a member cannot turn off: a statement of reasons must reach the
 * person concerned (DSA Art. 17), and review queues must reach reviewers.
 */
export const REQUIRED_KINDS: ReadonlySet<NotificationKind> = new Set([
  "moderation",
  "report_closed",
  "appeal_decided",
  "report_filed",
  "appeal_filed",
  "registration",
]);
