// Lemmy's moderation activities, shaped as Lemmy sends them (its assets in
// ../shared/fixtures/real-world/lemmy/activities/{community,deletion,block}):
// for fake Lemmy servers in the moderation suites.
import { randomUUID } from "node:crypto";
import { PUBLIC } from "./peer.ts";

const LEMMY_CONTEXT = ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"];

export type LemmyModeration = "remove" | "lock" | "feature" | "unfeature" | "add_mod" | "remove_mod" | "block";

/**
 * A moderation activity exactly as Lemmy sends it (the shapes of
 * ../shared/fixtures/real-world/lemmy/activities/{deletion,community,block}):
 * a removal is a `Delete` with a `summary`, a pin an `Add` to the group's
 * `featured`, a ban a `Block` whose `target` is the group. Its id is on the
 * actor's origin unless `idOrigin` says otherwise (forgeries).
 */
export function lemmyModeration(
  kind: LemmyModeration,
  v: {
    actor: string;
    group: string;
    object: string;
    summary?: string;
    endTime?: string;
    removeData?: boolean;
    idOrigin?: string;
  },
): Record<string, any> {
  const id = (path: string) => `${v.idOrigin ?? new URL(v.actor).origin}/activities/${path}/${randomUUID()}`;
  const common = { actor: v.actor, to: [PUBLIC], object: v.object, cc: [v.group], audience: v.group };
  switch (kind) {
    case "remove":
      return { "@context": LEMMY_CONTEXT, ...common, type: "Delete", summary: v.summary ?? "", id: id("delete") };
    case "lock":
      return { "@context": LEMMY_CONTEXT, id: id("lock"), ...common, type: "Lock", summary: v.summary };
    case "feature":
    case "unfeature": {
      const type = kind === "feature" ? "Add" : "Remove";
      return { "@context": LEMMY_CONTEXT, ...common, type, target: `${v.group}/featured`, id: id("add") };
    }
    case "add_mod":
    case "remove_mod": {
      const type = kind === "add_mod" ? "Add" : "Remove";
      return {
        "@context": LEMMY_CONTEXT,
        ...common,
        target: `${v.group}/moderators`,
        type,
        id: id(type.toLowerCase()),
      };
    }
    case "block":
      return {
        "@context": LEMMY_CONTEXT,
        ...common,
        target: v.group,
        type: "Block",
        removeData: v.removeData ?? false,
        summary: v.summary,
        endTime: v.endTime,
        id: id("block"),
      };
  }
}

/** Lemmy's `Undo` of a removal, lock or ban: the activity undone embedded (without its context). */
export function lemmyUndo(inner: Record<string, any>, summary?: string): Record<string, any> {
  const { "@context": _context, ...object } = inner;
  const origin = new URL(inner.id).origin;
  return {
    "@context": LEMMY_CONTEXT,
    actor: inner.actor,
    to: [PUBLIC],
    object,
    cc: inner.cc,
    audience: inner.audience,
    type: "Undo",
    summary,
    id: `${origin}/activities/undo/${randomUUID()}`,
  };
}

/** A Lemmy community's `Announce` of an activity (FEP-1b12), embedded without its context. */
export function lemmyAnnounce(group: string, inner: Record<string, any>): Record<string, any> {
  const { "@context": _context, ...object } = inner;
  return {
    "@context": LEMMY_CONTEXT,
    actor: group,
    to: [PUBLIC],
    object,
    cc: [`${group}/followers`],
    type: "Announce",
    id: `${new URL(group).origin}/activities/announce/${String(inner.type).toLowerCase()}/${randomUUID()}`,
  };
}
