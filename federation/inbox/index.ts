import type { Federation } from "@fedify/fedify";
import { Accept, Announce, Create, Delete, Follow, Like, Reject, Undo, Update } from "@fedify/fedify/vocab";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { INSTANCE_IDENTIFIER } from "../../src/actors/instance.ts";
import { onAnnounce } from "./announce.ts";
import { onCreate } from "./create.ts";
import { onDelete, onUnverifiedDelete } from "./delete.ts";
import { onAccept, onFollow, onReject } from "./follow.ts";
import { onLike } from "./like.ts";
import { onUndo } from "./undo.ts";
import { onUpdate } from "./update.ts";

const log = logger("federation", "inbox");

/**
 * The routing table. Fedify verifies signatures (draft-cavage, RFC 9421,
 * integrity proofs) and drops activities already seen (by id) before these
 * run; unknown types are acknowledged with 202 and dropped.
 */
export function registerInbox(federation: Federation<AppContext>): void {
  federation
    .setInboxListeners("/@{identifier}/inbox", "/inbox")
    .setSharedKeyDispatcher(() => ({ identifier: INSTANCE_IDENTIFIER }))
    .on(Follow, onFollow)
    .on(Accept, onAccept)
    .on(Reject, onReject)
    .on(Undo, onUndo)
    .on(Create, onCreate)
    .on(Announce, onAnnounce)
    .on(Like, onLike)
    .on(Update, onUpdate)
    .on(Delete, onDelete)
    .onUnverifiedActivity(onUnverifiedDelete)
    .onError((_ctx, error) => {
      log.error("inbox handler failed: {error}", { error });
    });
}
