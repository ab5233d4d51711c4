import type { Federation, InboxContext } from "@fedify/fedify";
import { Accept, Activity, Announce, Create, Delete, Follow, Like, Reject, Undo, Update } from "@fedify/fedify/vocab";
import { INSTANCE_IDENTIFIER } from "../../src/actors/instance.ts";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { onAnnounce } from "./announce.ts";
import { onCreate } from "./create.ts";
import { onDelete, onUnverifiedDelete } from "./delete.ts";
import { onAccept, onFollow, onReject } from "./follow.ts";
import { onLike } from "./like.ts";
import { onUndo } from "./undo.ts";
import { onUnsupported, UNSUPPORTED_TYPES } from "./unsupported.ts";
import { onUpdate } from "./update.ts";

const log = logger("federation", "inbox");

/** Drops activities whose actor is on a suspended domain (a second line behind the 403 at the door). */
function allowed<T extends Activity>(handler: (ctx: InboxContext<AppContext>, activity: T) => Promise<void>) {
  return async (ctx: InboxContext<AppContext>, activity: T): Promise<void> => {
    if (activity.actorId && ctx.data.policy.isSuspended(activity.actorId.href)) {
      return log.debug("activity from a suspended domain dropped: {actor}", { actor: activity.actorId.href });
    }
    await handler(ctx, activity);
  };
}

/**
 * The routing table. Fedify verifies signatures (draft-cavage, RFC 9421,
 * integrity proofs) and drops activities already seen (by id) before these
 * run; types we don't handle are acknowledged with 202 and dropped, with one
 * debug line (unsupported.ts), never Fedify's error line quoting the activity.
 */
export function registerInbox(federation: Federation<AppContext>): void {
  const inbox = federation
    .setInboxListeners("/@{identifier}/inbox", "/inbox")
    .setSharedKeyDispatcher(() => ({ identifier: INSTANCE_IDENTIFIER }))
    .on(Follow, allowed(onFollow))
    .on(Accept, allowed(onAccept))
    .on(Reject, allowed(onReject))
    .on(Undo, allowed(onUndo))
    .on(Create, allowed(onCreate))
    .on(Announce, allowed(onAnnounce))
    .on(Like, allowed(onLike))
    .on(Update, allowed(onUpdate))
    .on(Delete, allowed(onDelete));
  for (const type of UNSUPPORTED_TYPES) inbox.on<Activity>(type, onUnsupported);
  inbox
    .on(Activity, onUnsupported)
    .onUnverifiedActivity(onUnverifiedDelete)
    .onError((_ctx, error) => {
      log.error("inbox handler failed: {error}", { error });
    });
}
