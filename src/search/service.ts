// Full-text search over the posts a viewer may read (db/migrations/0011-search.ts
// builds the indexes). One query function hides SQLite FTS5 and PostgreSQL tsvector.
import { type Expression, type ExpressionBuilder, sql } from "kysely";
import type { Dialect } from "../../db/connect.ts";
import type { Database, Db } from "../../db/schema.ts";
import { notFilteredFor } from "../filters/service.ts";

/** A piece of a snippet: plain text, `mark`ed where it matched. Views escape both. */
export interface SnippetPart {
  text: string;
  mark: boolean;
}

export interface PostHit {
  id: string;
  threadId: string;
  type: "Page" | "Note" | "Article";
  title: string | null;
  /** The thread's title, for a reply. */
  threadTitle: string | null;
  authorUsername: string;
  authorHost: string;
  authorLocal: boolean;
  authorName: string | null;
  publishedAt: string;
  snippet: SnippetPart[];
}

export interface SearchPage {
  items: PostHit[];
  /** Opaque: the offset of the next page (ranked results have no stable id order). */
  nextCursor: string | null;
}

// Control characters never survive into sanitized text, so they cannot be forged by a post.
const START = "\u0002";
const STOP = "\u0003";
const MAX_OFFSET = 1000;

/** The words of a query (letters and digits), at most 12: both engines then AND them. */
export function queryWords(q: string): string[] {
  return (q.normalize("NFKC").match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 12);
}

/** Splits engine output marked with START/STOP into parts; stray markers are dropped. */
export function snippetParts(marked: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  const push = (text: string, mark: boolean) => {
    const clean = text.replaceAll(STOP, "").replaceAll(START, "");
    if (clean) parts.push({ text: clean, mark });
  };
  const [head = "", ...chunks] = marked.split(START);
  push(head, false);
  for (const chunk of chunks) {
    const stop = chunk.indexOf(STOP);
    if (stop < 0) push(chunk, false);
    else {
      push(chunk.slice(0, stop), true);
      push(chunk.slice(stop + 1), false);
    }
  }
  return parts;
}

type Eb = ExpressionBuilder<Database & { author: Database["actors"] }, "posts" | "author">;

/** What a viewer may read, as in src/posts/queries.ts (readablePost, visibleAudience). */
function readableBy(eb: Eb, viewerId: string | undefined) {
  const member = (followee: Expression<string | null>) =>
    eb.exists(
      eb
        .selectFrom("follows as vf")
        .select("vf.id")
        .where("vf.follower_id", "=", viewerId ?? "")
        .where("vf.followee_id", "=", followee)
        .where("vf.status", "=", "accepted"),
    );
  const followee = eb.fn.coalesce("posts.community_id", "posts.author_id");
  const audience = viewerId
    ? eb.or([
        eb("posts.audience", "in", ["public", "unlisted"]),
        eb("posts.author_id", "=", viewerId),
        eb.and([eb("posts.audience", "=", "followers"), member(followee)]),
      ])
    : eb("posts.audience", "=", "public");
  // A members-only community hides every thread from non-members (mayRead).
  const membersOnly = eb.exists(
    eb
      .selectFrom("communities as vc")
      .select("vc.actor_id")
      .whereRef("vc.actor_id", "=", "posts.community_id")
      .where("vc.visibility", "=", "members"),
  );
  const community = viewerId ? eb.or([eb.not(membersOnly), member(eb.ref("posts.community_id"))]) : eb.not(membersOnly);
  return eb.and([eb("posts.audience", "!=", "direct"), audience, community]);
}

/** Posts matching `q` that `viewerId` may read, best first, with highlighted snippets. */
export async function searchPosts(
  db: Db,
  dialect: Dialect,
  q: string,
  viewerId: string | undefined,
  options: { cursor?: string; limit?: number } = {},
): Promise<SearchPage> {
  const words = queryWords(q);
  const limit = Math.min(options.limit ?? 20, 50);
  const offset = Math.min(Math.max(Number.parseInt(options.cursor ?? "0", 10) || 0, 0), MAX_OFFSET);
  if (words.length === 0) return { items: [], nextCursor: null };
  let query = baseOf(db)
    .where("posts.deleted_at", "is", null)
    .where("posts.removed_at", "is", null)
    // A reply in a removed or deleted thread is gone from view with it.
    .where("thread.removed_at", "is", null)
    .where("thread.deleted_at", "is", null)
    // A deleted account's posts are tombstones already; its name is not offered either.
    .where("author.deleted_at", "is", null)
    .where((eb) => readableBy(eb, viewerId));
  if (viewerId) query = query.where(notFilteredFor(viewerId));
  const page =
    dialect === "postgres"
      ? await postgres(query, words, limit + 1, offset)
      : await sqlite(query, words, limit + 1, offset);
  const items = page.slice(0, limit).map((r) => ({
    id: r.id,
    threadId: r.threadId,
    type: r.type,
    title: r.title,
    threadTitle: r.threadTitle,
    authorUsername: r.authorUsername,
    authorHost: r.authorHost,
    authorLocal: r.authorLocal === 1,
    authorName: r.authorName,
    publishedAt: r.publishedAt,
    snippet: snippetParts(r.snippet ?? "").map((p) =>
      dialect === "postgres" ? { ...p, text: decodeEntities(p.text) } : p,
    ),
  }));
  const next = offset + limit;
  return { items, nextCursor: page.length > limit && next <= MAX_OFFSET ? String(next) : null };
}

type Base = ReturnType<typeof baseOf>;
/** Shared columns of a hit; the engine adds `rank` and `snippet`. */
const baseOf = (db: Db) =>
  db
    .selectFrom("posts")
    .innerJoin("actors as author", "author.id", "posts.author_id")
    .innerJoin("posts as thread", "thread.id", "posts.thread_id")
    // Sanctioned accounts (src/sanctions/): a suspended one shows nowhere, a limited one not in public search.
    .where("author.suspended_at", "is", null)
    .where("author.limited_at", "is", null)
    .select([
      "posts.id",
      "posts.thread_id as threadId",
      "posts.type",
      "posts.title",
      "thread.title as threadTitle",
      "author.username as authorUsername",
      "author.host as authorHost",
      "author.local as authorLocal",
      "author.name as authorName",
      "posts.published_at as publishedAt",
    ]);

async function sqlite(query: Base, words: string[], limit: number, offset: number) {
  // Each word quoted (doubling quotes), so no input is read as FTS5 syntax; adjacent phrases are ANDed.
  const match = words.map((w) => `"${w.replaceAll('"', '""')}"`).join(" ");
  return query
    .innerJoin("post_search_keys as sk", "sk.post_id", "posts.id")
    .innerJoin(sql<{ rowid: number }>`post_search`.as("post_search"), "post_search.rowid", "sk.rowid")
    .select([
      // Column weights: the title counts ten times the body; bm25 is lower for better matches.
      sql<number>`bm25(post_search, 10.0, 1.0)`.as("rank"),
      sql<string>`snippet(post_search, 1, ${START}, ${STOP}, '…', 24)`.as("snippet"),
    ])
    .where(sql<boolean>`post_search MATCH ${match}`)
    .orderBy("rank", "asc")
    .orderBy("posts.id", "desc")
    .limit(limit)
    .offset(offset)
    .execute();
}

/** The text of `content_html`, entities still encoded, as the migration's generated column reads it. */
const bodyText = sql`regexp_replace(posts.content_html, '<[^>]*>', ' ', 'g')`;

const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** Decodes the entities of HTML text (PostgreSQL's snippets keep them), once. */
export function decodeEntities(text: string): string {
  return text.replace(
    /&(?:#x([0-9a-f]{1,6})|#([0-9]{1,7})|([a-z]+));/gi,
    (all, hex?: string, dec?: string, name?: string) => {
      if (name) return named[name.toLowerCase()] ?? all;
      const code = hex ? Number.parseInt(hex, 16) : Number(dec);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    },
  );
}

async function postgres(query: Base, words: string[], limit: number, offset: number) {
  const tsq = sql`plainto_tsquery('english'::regconfig, ${words.join(" ")})`;
  const options = [
    `StartSel=${START}, StopSel=${STOP}`,
    'MaxWords=40, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "',
  ].join(", ");
  return query
    .select([
      sql<number>`ts_rank(posts.search_vector, ${tsq})`.as("rank"),
      sql<string>`ts_headline('english'::regconfig, ${bodyText}, ${tsq}, ${options})`.as("snippet"),
    ])
    .where(sql<boolean>`posts.search_vector @@ ${tsq}`)
    .orderBy("rank", "desc")
    .orderBy("posts.id", "desc")
    .limit(limit)
    .offset(offset)
    .execute();
}
