import type { Federation, RequestContext } from "@fedify/fedify";
import { Collection, Hashtag, Mention, Note, Page, PUBLIC_COLLECTION, Source, Tombstone } from "@fedify/fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import type { AppContext } from "../src/context.ts";
import { gonePost } from "../src/erasure/gone.ts";
import { type FederatedPost, postForFederation } from "../src/posts/outbound.ts";
import { paths, postIri } from "../src/urls.ts";
import { mayFetch, mayFetchMembersOnly } from "./access.ts";
import { servedQuestion } from "./answers.ts";
import { imageAttachments } from "./images.ts";

/**
 * Threads are `Page`s with a `name` (as Lemmy sends them); replies are `Note`s.
 * A deleted one is a `Tombstone`, which wire.ts answers with `410 Gone`.
 */
export function registerObjects(federation: Federation<AppContext>): void {
  federation
    .setObjectDispatcher(Page, paths.post as "/posts/{id}", async (ctx, { id }) => {
      const post = await postForFederation(ctx.data.db, id);
      if (servable(post) && post.type === "Page") return servedQuestion(ctx, toApObject(ctx, post) as Page, post.id);
      return asServed<Page>(await tombstoneOf(ctx, id, Page, post));
    })
    .authorize((ctx, { id }) => mayFetchPost(ctx, id));
  federation
    .setObjectDispatcher(Note, paths.reply as "/replies/{id}", async (ctx, { id }) => {
      const post = await postForFederation(ctx.data.db, id);
      if (servable(post) && post.type === "Note") return toApObject(ctx, post) as Note;
      return asServed<Note>(await tombstoneOf(ctx, id, Note, post));
    })
    .authorize((ctx, { id }) => mayFetchPost(ctx, id));
}

/**
 * Fedify types an object dispatcher's result as its class, but serves
 * whatever it returns; the `Tombstone` of a deleted post is served in its
 * place (and answered `410 Gone` by wire.ts, as Fedify does for actors).
 */
const asServed = <T>(tombstone: Tombstone | null): T | null => tombstone as unknown as T | null;

/**
 * The `Tombstone` of a local post deleted here, at its own IRI: kept as a
 * tombstone row (its author, a moderator or retention deleted it) or removed
 * by an erasure (src/erasure/gone.ts). NodeBB drops its copy on a `Delete`
 * only when the IRI answers 410; the `Tombstone` says no more than that the
 * IRI is gone.
 */
async function tombstoneOf(
  ctx: RequestContext<AppContext>,
  id: string,
  type: typeof Page | typeof Note,
  post: FederatedPost | undefined,
): Promise<Tombstone | null> {
  const kind = type === Page ? "Page" : "Note";
  const gone = post
    ? post.local === 1 && post.deletedAt !== null && post.type === kind
    : (await gonePost(ctx.data.db, id))?.type === kind;
  if (!gone) return null;
  const iri = type === Page ? ctx.getObjectUri(Page, { id }) : ctx.getObjectUri(Note, { id });
  return new Tombstone({ id: iri, formerType: type });
}

/**
 * Live local posts of communities; direct messages are never served. A post
 * a moderator removed (or a reply in a removed thread) answers 404 like a missing one, not 410 with a
 * `Tombstone`: a restore may bring it back, and NodeBB would drop its copy
 * for good on a 410.
 */
export function servable(post: FederatedPost | undefined): post is FederatedPost {
  if (post?.local !== 1 || post.deletedAt || post.removedAt || post.audience === "direct") return false;
  // A reply in a removed thread goes out of view with it.
  if (post.threadRemovedAt) return false;
  // Nothing of a suspended account is served (it is hidden, not deleted: no Tombstone either).
  if (post.authorSuspendedAt) return false;
  // Local-only communities are never offered outside the instance.
  return post.communityFederation !== "local";
}

/** Public posts for everyone (or signed requests, with authorized fetch); members-only ones for member servers. */
export async function mayFetchPost(ctx: RequestContext<AppContext>, id: string): Promise<boolean> {
  const post = await postForFederation(ctx.data.db, id);
  if (!servable(post)) return true; // the dispatcher answers 404, or 410 with a Tombstone
  if (post.audience === "public" || post.audience === "unlisted") return mayFetch(ctx);
  return post.communityId !== null && mayFetchMembersOnly(ctx, post.communityId);
}

/** A post as federation renders it: its `threadId` names the thread's `context` collection. */
export type ThreadedPost = FederatedPost;

/**
 * A post's thread collections: `context` (FEP-7888, every post of the thread,
 * served by collections.ts at the thread's IRI + `/context`) and `replies`
 * (its direct replies, at its IRI + `/collections/replies`), and `likes` (how
 * many, at its IRI + `/collections/likes`). Direct messages have none.
 */
function threadLinks(
  origin: string,
  post: ThreadedPost,
): { contexts: URL[]; replies: URL | null; likes: Collection | null } {
  if (post.audience === "direct") return { contexts: [], replies: null, likes: null };
  return {
    contexts: [new URL(`${postIri(origin, post.threadId)}/context`)],
    replies: new URL(`${post.iri}/collections/replies`),
    // Embedded as Mastodon does, so a server reading the post has the count without another request.
    likes: new Collection({ id: new URL(`${post.iri}/collections/likes`), totalItems: post.likeCount }),
  };
}

/** Our wire shape of a post (FEP-1b12: `audience` is the community). */
export function toApObject(ctx: RequestContext<AppContext> | { data: AppContext }, post: ThreadedPost): Page | Note {
  const origin = ctx.data.config.origin;
  const community = post.communityIri ? new URL(post.communityIri) : null;
  const followers = post.communityFollowers ? new URL(post.communityFollowers) : null;
  const values = {
    id: new URL(post.iri),
    url: new URL(post.url ?? post.iri),
    attribution: new URL(post.authorIri),
    audience: community,
    // Direct messages go to their recipients only (and name them, as Mastodon expects).
    tos:
      post.audience === "direct"
        ? post.recipients.map((r) => new URL(r.iri))
        : post.audience === "public"
          ? [PUBLIC_COLLECTION]
          : followers
            ? [followers]
            : [],
    ccs: [
      ...(post.audience === "public" && community ? [community] : []),
      ...(post.audience === "public" && followers ? [followers] : []),
      ...(post.audience === "public" || post.audience === "unlisted" ? post.mentions.map((m) => new URL(m.iri)) : []),
    ],
    content: post.contentHtml,
    source: post.source === null ? null : new Source({ content: post.source, mediaType: "text/markdown" }),
    summary: post.summary,
    sensitive: post.sensitive === 1,
    replyTarget: post.parentIri ? new URL(post.parentIri) : null,
    ...threadLinks(origin, post),
    published: Temporal.Instant.from(post.publishedAt),
    updated: post.updatedAt ? Temporal.Instant.from(post.updatedAt) : null,
    attachments: imageAttachments(origin, post.images),
    tags: [
      ...post.tags.map(
        (tag) => new Hashtag({ name: `#${tag}`, href: new URL(`${origin}/tags/${encodeURIComponent(tag)}`) }),
      ),
      ...[...post.recipients, ...post.mentions].map(
        (r) => new Mention({ href: new URL(r.iri), name: `@${r.username}@${r.host}` }),
      ),
    ],
  };
  return post.type === "Page" ? new Page({ ...values, name: post.title }) : new Note(values);
}
