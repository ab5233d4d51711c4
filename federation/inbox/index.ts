import type { Federation, InboxContext } from "@fedify/fedify";
import {
  Accept,
  Activity,
  Add,
  Announce,
  Block,
  Create,
  Delete,
  Flag,
  Follow,
  Like,
  Reject,
  Remove,
  Undo,
  Update,
} from "@fedify/fedify/vocab";
import { INSTANCE_IDENTIFIER } from "../../src/actors/instance.ts";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { onAnnounce } from "./announce.ts";
import { onCreate } from "./create.ts";
import { onDelete, onUnverifiedDelete } from "./delete.ts";
import { onFlag, receiveResolve } from "./flag.ts";
import { onAccept, onFollow, onReject } from "./follow.ts";
import { onLike } from "./like.ts";
import { receiveDirectModeration } from "./moderation.ts";
import { onUndo } from "./undo.ts";
import { onUnsupported, UNSUPPORTED_TYPES } from "./unsupported.ts";
import { onUpdate } from "./update.ts";

const log = logger("federation", "inbox");

/** Drops activities whose actor is on a suspended domain (a second line behind the 403 at the door). */
function allowed<T extends Activity>(handler: (ctx: InboxContext<AppContext>, activity: T) => Promise<void>) {
  return async (ctx: InboxContext<AppContext>, activity: T): Promise<void> => {
    // Accepted before a suspension made elsewhere, handled after it: dropped too.
    await ctx.data.policy.ensureFresh();
    if (activity.actorId && ctx.data.policy.isSuspended(activity.actorId.href)) {
      return log.debug("activity from a suspended domain dropped: {actor}", { actor: activity.actorId.href });
    }
    await handler(ctx, activity);
  };
}

/** Add, Remove, Block (and Lock): moderation of one of our communities, or else not ours to handle. */
async function onModeration(ctx: InboxContext<AppContext>, activity: Activity): Promise<void> {
  if (!(await receiveDirectModeration(ctx, await activity.toJsonLd()))) await onUnsupported(ctx, activity);
}

/**
 * Types Fedify does not know arrive as a plain `Activity`, whose JSON as
 * received still says what they are: Lemmy's `Lock` and `Resolve` are routed
 * by that; anything else is dropped.
 */
async function onOther(ctx: InboxContext<AppContext>, activity: Activity): Promise<void> {
  if (activity.constructor === Activity) {
    const raw = (await activity.toJsonLd().catch(() => null)) as { type?: unknown } | null;
    if (raw?.type === "Lock") return onModeration(ctx, activity);
    if (raw?.type === "Resolve") return receiveResolve(ctx, raw);
  }
  await onUnsupported(ctx, activity);
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
    .on(Delete, allowed(onDelete))
    .on(Flag, allowed(onFlag))
    .on(Add, allowed(onModeration))
    .on(Remove, allowed(onModeration))
    .on(Block, allowed(onModeration));
  for (const type of UNSUPPORTED_TYPES) inbox.on<Activity>(type, onUnsupported);
  inbox
    .on(Activity, allowed(onOther))
    .onUnverifiedActivity(onUnverifiedDelete)
    .onError((_ctx, error) => {
      log.error("inbox handler failed: {error}", { error });
    });
}
