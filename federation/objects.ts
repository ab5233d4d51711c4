import type { Federation, RequestContext } from "@fedify/fedify";
import { Hashtag, Mention, Note, Page, PUBLIC_COLLECTION, Source } from "@fedify/fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import type { AppContext } from "../src/context.ts";
import { type FederatedPost, postForFederation } from "../src/posts/outbound.ts";
import { paths } from "../src/urls.ts";
import { mayFetch, mayFetchMembersOnly } from "./access.ts";

/** Threads are `Page`s with a `name` (as Lemmy sends them); replies are `Note`s. */
export function registerObjects(federation: Federation<AppContext>): void {
  federation
    .setObjectDispatcher(Page, paths.post as "/posts/{id}", async (ctx, { id }) => {
      const post = await servablePost(ctx, id);
      return post?.type === "Page" ? (toApObject(ctx, post) as Page) : null;
    })
    .authorize((ctx, { id }) => mayFetchPost(ctx, id));
  federation
    .setObjectDispatcher(Note, paths.reply as "/replies/{id}", async (ctx, { id }) => {
      const post = await servablePost(ctx, id);
      return post?.type === "Note" ? (toApObject(ctx, post) as Note) : null;
    })
    .authorize((ctx, { id }) => mayFetchPost(ctx, id));
}

/** Live local posts of communities; direct messages are never served. */
async function servablePost(ctx: RequestContext<AppContext>, id: string) {
  const post = await postForFederation(ctx.data.db, id);
  if (post?.local !== 1 || post.deletedAt || post.removedAt || post.audience === "direct") return undefined;
  // Local-only communities are never offered outside the instance.
  if (post.communityFederation === "local") return undefined;
  return post;
}

/** Public posts for everyone (or signed requests, with authorized fetch); members-only ones for member servers. */
async function mayFetchPost(ctx: RequestContext<AppContext>, id: string): Promise<boolean> {
  const post = await servablePost(ctx, id);
  if (!post) return true; // the dispatcher answers 404
  if (post.audience === "public" || post.audience === "unlisted") return mayFetch(ctx);
  return post.communityId !== null && mayFetchMembersOnly(ctx, post.communityId);
}

/** Our wire shape of a post (FEP-1b12: `audience` is the community). */
export function toApObject(ctx: RequestContext<AppContext> | { data: AppContext }, post: FederatedPost): Page | Note {
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
    published: Temporal.Instant.from(post.publishedAt),
    updated: post.updatedAt ? Temporal.Instant.from(post.updatedAt) : null,
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
