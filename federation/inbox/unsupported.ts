import type { InboxContext } from "@fedify/fedify";
import {
  Activity,
  Arrive,
  Dislike,
  EmojiReact,
  getTypeId,
  Ignore,
  Invite,
  Join,
  Leave,
  Listen,
  Move,
  Offer,
  Question,
  Read,
  TentativeAccept,
  TentativeReject,
  Travel,
  View,
} from "@fedify/fedify/vocab";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";

const log = logger("federation", "inbox", "unsupported");

/**
 * Activity types other servers send that Kindred does not handle (yet):
 * reactions, account moves, polls, scrobbles, read receipts, check-ins, group
 * joins and invitations. Each is acknowledged and dropped. (Flag, Add, Remove
 * and Block have handlers of their own, which drop what is not moderation.)
 * Fedify picks a listener by the activity's class, most specific first, so
 * these also keep `TentativeAccept` and `TentativeReject` from reaching the
 * `Accept` and `Reject` handlers (they are subclasses); `Activity`,
 * registered last, catches any other type Fedify can parse (index.ts routes
 * Lemmy's `Lock` and `Resolve` from there by the type they were sent as).
 */
export const UNSUPPORTED_TYPES = [
  EmojiReact,
  Ignore,
  Move,
  Question,
  Listen,
  Read,
  View,
  Arrive,
  Travel,
  Invite,
  Offer,
  Join,
  Leave,
  TentativeAccept,
  TentativeReject,
  Dislike,
] as const;

/**
 * Acknowledges (202) and drops an activity Kindred does not handle, with one
 * `debug` line naming only its type and id: its content (a report's comment,
 * say) is someone's words about their health, and is never logged.
 */
export async function onUnsupported(_ctx: InboxContext<AppContext>, activity: Activity): Promise<void> {
  log.debug("unsupported activity dropped: {type} {id}", {
    type: await typeName(activity),
    id: activity.id?.href ?? null,
  });
}

/** The short name of the activity's type; for one Fedify only knows as `Activity`, the type it was sent as. */
export async function typeName(activity: Activity): Promise<string> {
  if (activity.constructor !== Activity) return getTypeId(activity).href.replace(/^.*[#/]/, "");
  try {
    const json = (await activity.toJsonLd()) as { type?: unknown };
    if (typeof json.type === "string" && /^[\w:#/.-]{1,100}$/.test(json.type)) return json.type;
  } catch {
    // Only the name is missing.
  }
  return "Activity";
}
