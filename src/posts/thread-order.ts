// The orders of a community's thread list and their cursors. A computed key
// (latest activity, likes) pages by `key_id` so that ties never repeat or skip.
import { type RawBuilder, sql } from "kysely";
import { DomainError } from "../errors.ts";
import { likeCount } from "./like-counts.ts";

/** How a community's threads are ordered: newest, latest reply, most liked (within a period). */
export type ThreadSort = "new" | "active" | "top";
/** Days of each period of the "top" sort; `null` for all time. */
export const TOP_PERIODS = { day: 1, week: 7, month: 30, year: 365, all: null } as const;
export type TopPeriod = keyof typeof TOP_PERIODS;

/**
 * A computed sort key: the page is ordered by it, then by id, and its cursor is
 * `key_id`, so a page starts strictly after the last row of the previous one
 * whatever else has the same key (keyset pagination: no repeats, no skips).
 */
export interface SortKey {
  expr: RawBuilder<string | number>;
  parse(key: string): string | number | null;
}

/**
 * Latest activity of a thread: its newest reply not deleted or removed, else its own publication. The replies'
 * times come from one grouped pass over the community's replies (`activity`, joined in listThreads),
 * not a lookup per thread.
 */
export const activityKey: SortKey = {
  expr: sql<string>`coalesce(activity.latest, posts.published_at)`,
  parse: (key) => (key.length > 0 && key.length <= 40 ? key : null),
};
export const likesKey: SortKey = {
  // As the threads show it: a remote thread's likes include those its origin counts (like-counts.ts).
  expr: likeCount,
  parse: (key) => (/^\d{1,12}$/.test(key) ? Number(key) : null),
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function splitCursor(cursor: string, key: SortKey): [string | number, string] {
  const at = cursor.lastIndexOf("_");
  const k = at > 0 ? key.parse(cursor.slice(0, at)) : null;
  const id = cursor.slice(at + 1);
  if (k === null || !UUID.test(id)) throw new DomainError("bad_request", "cursor: not one this list gave out");
  return [k, id];
}

export const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
