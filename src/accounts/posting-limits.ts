// How much one account may post in an hour (issue 13): enough for anyone
// taking part, too little for a flood. New accounts, the usual source of
// spam waves, get less for their first week. Admins are not limited.
// Counted from the posts themselves (no counter to keep in step): ids are
// time-ordered (UUIDv7), so "this author's posts of the last hour" is a
// range of the (author_id, id) index.
import type { Db } from "../../db/schema.ts";
import { RateLimitedError } from "../web/rate-limit.ts";

export type PostingKind = "thread" | "reply" | "message";

const HOUR_MS = 3_600_000;
const NEW_ACCOUNT_MS = 7 * 24 * HOUR_MS;

export const POSTING_LIMITS: Record<PostingKind, { established: number; fresh: number; words: string }> = {
  thread: { established: 10, fresh: 3, words: "new threads" },
  reply: { established: 60, fresh: 20, words: "replies" },
  message: { established: 30, fresh: 5, words: "direct messages" },
};

/** The smallest UUIDv7 minted at `ms`: ids at or after it were minted then or later. */
export function idFloor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

/** Throws a 429 (with when to try again) when `authorId` has posted its hour's share of `kind`. */
export async function assertMayPost(db: Db, authorId: string, kind: PostingKind, at = Date.now()): Promise<void> {
  const user = await db
    .selectFrom("users")
    .select(["role", "created_at"])
    .where("actor_id", "=", authorId)
    .executeTakeFirst();
  if (!user || user.role === "admin") return;
  const fresh = at - Date.parse(user.created_at) < NEW_ACCOUNT_MS;
  const limit = POSTING_LIMITS[kind];
  const allowed = fresh ? limit.fresh : limit.established;
  let q = db
    .selectFrom("posts")
    .select("id")
    .where("author_id", "=", authorId)
    .where("id", ">=", idFloor(at - HOUR_MS));
  q =
    kind === "message"
      ? q.where("audience", "=", "direct")
      : kind === "thread"
        ? q.where("parent_id", "is", null).where("audience", "!=", "direct")
        : q.where("parent_id", "is not", null).where("audience", "!=", "direct");
  const recent = await q.orderBy("id").limit(allowed).execute();
  if (recent.length < allowed) return;
  // The oldest counted post leaves the window first: that is when one more is allowed.
  const oldest = recent[0]?.id ?? idFloor(at);
  const oldestMs = Number.parseInt(oldest.replaceAll("-", "").slice(0, 12), 16);
  const waitSeconds = Math.max(1, Math.ceil((oldestMs + HOUR_MS - at) / 1000));
  const minutes = Math.ceil(waitSeconds / 60);
  throw new RateLimitedError(
    `you have posted ${allowed} ${limit.words} in the last hour${fresh ? " (new accounts get fewer)" : ""}: ` +
      `try again in ${minutes} minute${minutes === 1 ? "" : "s"}`,
    waitSeconds,
  );
}
