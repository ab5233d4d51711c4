// A thread's collections, which other servers read to fill in what they
// missed (issue 12): its FEP-7888 `context` (every post of the thread) and
// each post's `replies` (under `/collections/`, since `/posts/{id}/replies`
// is the reply form). They are read as the posts are: public ones by all
// (signed requests only, with authorized fetch), a members-only community's
// only by servers with an approved member (objects.ts `mayFetchPost`).
import type { Federation, RequestContext } from "@fedify/fedify";
import { Object as ApObject, Note, Page } from "@fedify/fedify/vocab";
import type { AppContext } from "../src/context.ts";
import { postForFederation, postsForFederation } from "../src/posts/outbound.ts";
import { mayFetchPost, servable, toApObject } from "./objects.ts";

const PAGE = 50;

/** Which posts a collection lists: a whole thread, or one post's direct replies. */
type Scope = { thread: string } | { parent: string };

export function registerThreadCollections(federation: Federation<AppContext>): void {
  federation
    .setOrderedCollectionDispatcher("context", ApObject, "/posts/{id}/context", async (ctx, { id }, cursor) => {
      const root = await postForFederation(ctx.data.db, id);
      if (!servable(root) || root.type !== "Page" || root.parentIri !== null) return null;
      return page(ctx, { thread: id }, cursor);
    })
    .setCounter(async (ctx, { id }) => ((await mayServe(ctx, id)) ? count(ctx, { thread: id }) : null))
    .setFirstCursor(async (ctx, { id }) => ((await mayServe(ctx, id)) ? "" : null))
    .authorize((ctx, { id }) => mayRead(ctx, id));
  // How many liked a post, as Mastodon serves it: a count, never who (a health community's likes say much).
  for (const [name, path] of [
    ["thread likes", "/posts/{id}/collections/likes"],
    ["reply likes", "/replies/{id}/collections/likes"],
  ] as const) {
    federation
      .setCollectionDispatcher(name, ApObject, path, async (ctx, { id }) =>
        (await mayServe(ctx, id)) ? { items: [] } : null,
      )
      .setCounter(async (ctx, { id }) => ((await mayServe(ctx, id)) ? likeCount(ctx, id) : null))
      .authorize((ctx, { id }) => mayRead(ctx, id));
  }
  for (const [name, path] of [
    ["thread replies", "/posts/{id}/collections/replies"],
    ["reply replies", "/replies/{id}/collections/replies"],
  ] as const) {
    federation
      .setOrderedCollectionDispatcher(name, ApObject, path, async (ctx, { id }, cursor) => {
        if (!(await mayServe(ctx, id))) return null;
        return page(ctx, { parent: id }, cursor);
      })
      .setCounter(async (ctx, { id }) => ((await mayServe(ctx, id)) ? count(ctx, { parent: id }) : null))
      .setFirstCursor(async (ctx, { id }) => ((await mayServe(ctx, id)) ? "" : null))
      .authorize((ctx, { id }) => mayRead(ctx, id));
  }
}

/** Readable as the post is; one that is not ours or not live gets the dispatcher's 404, not a 401 that hints. */
function mayRead(ctx: RequestContext<AppContext>, id: string | undefined): Promise<boolean> {
  return id === undefined ? Promise.resolve(true) : mayFetchPost(ctx, id);
}

/** Only our own live posts have collections; anything else is a 404 (never a hint that it exists). */
async function mayServe(ctx: RequestContext<AppContext>, id: string): Promise<boolean> {
  return servable(await postForFederation(ctx.data.db, id));
}

function listed(ctx: RequestContext<AppContext>, scope: Scope) {
  let q = ctx.data.db
    .selectFrom("posts")
    .where("deleted_at", "is", null)
    .where("removed_at", "is", null)
    .where("audience", "!=", "direct");
  q = "thread" in scope ? q.where("thread_id", "=", scope.thread) : q.where("parent_id", "=", scope.parent);
  return q;
}

async function count(ctx: RequestContext<AppContext>, scope: Scope): Promise<number> {
  const row = await listed(ctx, scope)
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function likeCount(ctx: RequestContext<AppContext>, id: string): Promise<number> {
  return (await postForFederation(ctx.data.db, id))?.likeCount ?? 0;
}

/**
 * One page, oldest first (parents before their replies). Our posts are
 * embedded as we serve them; others' are named by IRI only, to be read from
 * their own servers (which is all a reader may believe of them anyway).
 */
async function page(ctx: RequestContext<AppContext>, scope: Scope, cursor: string | null) {
  const rows = await listed(ctx, scope)
    .select(["id", "iri", "type", "local", "thread_id"])
    .where("id", ">", cursor ?? "")
    .orderBy("id")
    .limit(PAGE)
    .execute();
  // Our posts of the page in one batch of queries, not five per post.
  const ours = new Map(
    (
      await postsForFederation(
        ctx.data.db,
        rows.filter((r) => r.local === 1).map((r) => r.id),
      )
    ).map((p) => [p.id, p]),
  );
  const items: ApObject[] = [];
  for (const row of rows) {
    if (row.local !== 1) {
      items.push(row.type === "Page" ? new Page({ id: new URL(row.iri) }) : new Note({ id: new URL(row.iri) }));
      continue;
    }
    const post = ours.get(row.id);
    if (servable(post)) items.push(toApObject(ctx, { ...post, threadId: row.thread_id }));
  }
  return { items, nextCursor: rows.length === PAGE ? (rows.at(-1)?.id ?? null) : null };
}
