// Seeds a database the size the pages bench asks for: 100,000 posts in 50
// communities, written as rows in transactions (the services one post at a time
// would take minutes and measure the write path, not the pages).
import { v7 as uuidv7 } from "uuid";
import type { Db } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { createUser } from "../src/accounts/service.ts";
import { createCommunity, getCommunity } from "../src/communities/service.ts";
import { postIri } from "../src/urls.ts";

export interface Seeded {
  /** The community whose page is measured (its slug). */
  slug: string;
  /** The thread with 200 replies. */
  threadId: string;
  /** A member who wrote posts (the actor document measured beside the community's). */
  username: string;
  communityId: string;
  posts: number;
}

const COMMUNITIES = 50;
const THREADS_PER_COMMUNITY = 1_000;
const BIG_THREAD_REPLIES = 200;
const AUTHORS = 20;
const DAY = 86_400_000;

export function postRow(
  origin: string,
  at: number,
  author: string,
  community: string,
  thread: { parent: string; thread: string } | null,
) {
  const id = uuidv7({ msecs: at });
  const ts = new Date(at).toISOString();
  const body = thread
    ? `A reply written at ${ts}, with some words of support.`
    : "How do you manage the fatigue? ".repeat(8);
  return {
    id,
    iri: postIri(origin, id),
    url: postIri(origin, id),
    type: thread ? ("Note" as const) : ("Page" as const),
    author_id: author,
    community_id: community,
    parent_id: thread?.parent ?? null,
    thread_id: thread?.thread ?? id,
    title: thread ? null : `Thread started ${ts}`,
    source: body,
    content_html: `<p>${body}</p>`,
    summary: null,
    sensitive: 0 as const,
    audience: "public" as const,
    language: null,
    local: 1 as const,
    published_at: ts,
    updated_at: null,
    deleted_at: null as string | null,
    removed_at: null as string | null,
    removed_by: null,
    locked: 0 as const,
    pinned_at: null,
    created_at: ts,
    warning_category_id: null,
  };
}

/**
 * 50 communities of 1,000 threads and 1,000 replies each (100,000 posts over
 * the last 90 days, a few deleted and removed so the filters have work to do);
 * the first community's newest thread has 200 replies.
 */
export async function seedPages(db: Db, origin: string): Promise<Seeded> {
  const admin = await createUser(
    db,
    origin,
    { username: "admin", password: "benchmark-password" },
    { role: "admin", allowReserved: true },
  );
  const authors: string[] = [admin.actorId];
  for (let i = 1; i < AUTHORS; i++)
    authors.push((await createUser(db, origin, { username: `member${i}`, password: "benchmark-password" })).actorId);
  const communities: string[] = [];
  for (let i = 0; i < COMMUNITIES; i++) {
    await createCommunity(db, origin, { actorId: admin.actorId, role: "admin" }, { slug: `c${i}`, name: `C ${i}` });
    communities.push((await getCommunity(db, `c${i}`)).id);
  }
  const start = Date.now() - 90 * DAY;
  const step = (90 * DAY) / (COMMUNITIES * THREADS_PER_COMMUNITY * 2);
  let clock = start;
  const tick = () => {
    clock += step;
    return Math.floor(clock);
  };
  let posts = 0;
  let threadId = "";
  for (const [ci, community] of communities.entries()) {
    const rows: ReturnType<typeof postRow>[] = [];
    const threads: string[] = [];
    for (let t = 0; t < THREADS_PER_COMMUNITY; t++) {
      const row = postRow(origin, tick(), authors[t % AUTHORS] as string, community, null);
      // One in a hundred deleted, one in a hundred removed: listed pages skip them.
      if (t % 100 === 7) row.deleted_at = row.published_at;
      if (t % 100 === 13) row.removed_at = row.published_at;
      rows.push(row);
      threads.push(row.id);
    }
    const big = threads.at(-2) as string;
    if (ci === 0) threadId = big;
    for (let r = 0; r < THREADS_PER_COMMUNITY; r++) {
      const inBig = ci === 0 && r < BIG_THREAD_REPLIES;
      const thread = inBig ? big : (threads[(r * 7) % THREADS_PER_COMMUNITY] as string);
      // Replies are newer than their thread: the big thread's come last of all.
      const at = inBig ? Date.now() - (BIG_THREAD_REPLIES - r) * 1000 : tick();
      rows.push(postRow(origin, at, authors[(r + 3) % AUTHORS] as string, community, { parent: thread, thread }));
    }
    // Replies to a thread must come after it in id order; the rows' ids are time-ordered by construction.
    await inTransaction(db, async (trx) => {
      for (let i = 0; i < rows.length; i += 500)
        await trx
          .insertInto("posts")
          .values(rows.slice(i, i + 500))
          .execute();
    });
    posts += rows.length;
  }
  return { slug: "c0", threadId, username: "member1", communityId: communities[0] as string, posts };
}
