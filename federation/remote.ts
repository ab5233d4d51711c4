// Translating remote ActivityPub objects into the values our domain stores:
// actors persisted by IRI, posts with sanitized HTML.
import type { Context, DocumentLoader } from "@fedify/fedify";
import {
  type Actor,
  type Object as ApObject,
  Application,
  Article,
  Group,
  Hashtag,
  isActor,
  Note,
  Organization,
  Page,
  PUBLIC_COLLECTION,
  Service,
} from "@fedify/fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import type { ActorType, PostAudience } from "../db/schema.ts";
import { INSTANCE_IDENTIFIER } from "../src/actors/instance.ts";
import { findActorByIri, upsertRemoteActor } from "../src/actors/remote.ts";
import { htmlToText, sanitizeHtml } from "../src/content/markdown.ts";
import type { AppContext } from "../src/context.ts";
import { remoteImages } from "./images.ts";
import { titleFromContent } from "./titles.ts";
import { originOf } from "./wire.ts";

export type PostObject = Note | Page | Article;
export const isPostObject = (o: unknown): o is PostObject =>
  o instanceof Note || o instanceof Page || o instanceof Article;

/** Fetches made on nobody's behalf are signed by the instance actor (servers with authorized fetch require it). */
export const instanceLoader = (ctx: Context<AppContext>): Promise<DocumentLoader> =>
  ctx.getDocumentLoader({ identifier: INSTANCE_IDENTIFIER });

const text = (v: unknown): string | null => (v == null ? null : String(v));

function actorType(a: Actor): ActorType {
  if (a instanceof Group) return "Group";
  if (a instanceof Application) return "Application";
  if (a instanceof Service) return "Service";
  if (a instanceof Organization) return "Organization";
  return "Person";
}

/** Stores (or refreshes) a remote actor; returns its row id. Local actors are never overwritten. */
export async function persistActor(ctx: Context<AppContext>, actor: Actor): Promise<string | null> {
  if (!actor.id) return null;
  const local = await findActorByIri(ctx.data.db, actor.id.href);
  if (local?.local === 1) return local.id;
  if (actor.id.origin === new URL(ctx.data.config.origin).origin) return null;
  const icon = await actor.getIcon().catch(() => null);
  const iconUrl = webUrl(icon?.url instanceof URL ? icon.url.href : (icon?.url?.href?.href ?? null));
  const url = webUrl(actor.url instanceof URL ? actor.url.href : (actor.url?.href?.href ?? null));
  return upsertRemoteActor(ctx.data.db, {
    iri: actor.id.href,
    type: actorType(actor),
    username: text(actor.preferredUsername) ?? actor.id.pathname.split("/").filter(Boolean).pop() ?? actor.id.host,
    host: actor.id.host,
    name: actor.name ? htmlToText(String(actor.name)).slice(0, 200) : null,
    summaryHtml: actor.summary ? sanitizeHtml(String(actor.summary)) : null,
    url,
    inboxUrl: actor.inboxId?.href ?? null,
    sharedInboxUrl: actor.endpoints?.sharedInbox?.href ?? null,
    outboxUrl: actor.outboxId?.href ?? null,
    followersUrl: actor.followersId?.href ?? null,
    followingUrl: actor.followingId?.href ?? null,
    featuredUrl: actor.featuredId?.href ?? null,
    // Media from servers whose media we reject is not even referenced.
    avatarUrl: ctx.data.policy.check(actor.id.host).rejectMedia ? null : iconUrl,
    manuallyApprovesFollowers: actor.manuallyApprovesFollowers ?? false,
    discoverable: actor.discoverable ?? false,
  });
}

/**
 * The JSON document at `iri`, fetched from its own server through the
 * instance's bounded loader, or null. It counts only if it was served from
 * that origin (after redirects) under that very id: a server speaks for what
 * it hosts, nothing else (FEP-fe34). Lemmy serves its activities at their ids.
 */
export async function fetchFromOrigin(ctx: Context<AppContext>, iri: string): Promise<Record<string, unknown> | null> {
  const origin = originOf(iri);
  if (!origin || ctx.data.policy.isSuspended(iri)) return null;
  const fetched = await (await instanceLoader(ctx))(iri).catch(() => null);
  const doc = fetched?.document;
  if (!fetched || !doc || typeof doc !== "object" || Array.isArray(doc)) return null;
  const record = doc as Record<string, unknown>;
  return originOf(fetched.documentUrl) === origin && record.id === iri ? record : null;
}

/** The row id of the actor at `iri`, fetching and storing it when unknown. */
export async function actorIdFor(
  ctx: Context<AppContext>,
  iri: URL | null,
  loader?: DocumentLoader,
): Promise<string | null> {
  if (!iri || ctx.data.policy.isSuspended(iri.href)) return null;
  const known = await findActorByIri(ctx.data.db, iri.href);
  if (known) return known.id;
  const fetched = await ctx
    .lookupObject(iri, { documentLoader: loader ?? (await instanceLoader(ctx)) })
    .catch(() => null);
  return fetched && isActor(fetched) ? persistActor(ctx, fetched) : null;
}

/** Addressing of a remote object, in our terms. */
export function audienceOf(o: ApObject): PostAudience {
  const to = o.toIds.map((u) => u.href);
  const cc = o.ccIds.map((u) => u.href);
  if (to.includes(PUBLIC_COLLECTION.href)) return "public";
  if (cc.includes(PUBLIC_COLLECTION.href)) return "unlisted";
  return to.some((u) => u.endsWith("/followers")) || cc.some((u) => u.endsWith("/followers")) ? "followers" : "direct";
}

/** The content values of a remote post, sanitized. */
export async function postValues(o: PostObject) {
  const tags: string[] = [];
  for await (const tag of o.getTags()) {
    if (tag instanceof Hashtag && tag.name) tags.push(String(tag.name).replace(/^#/, "").toLowerCase().slice(0, 64));
  }
  // A `summary` warns only on a Note (Mastodon's CW) or when `sensitive` says so: NodeBB and others send an
  // Article's or Page's summary as an excerpt, which would put every topic behind a false warning.
  const warns = o instanceof Note || o.sensitive === true;
  const summary = warns && o.summary ? htmlToText(String(o.summary)).slice(0, 500) || null : null;
  const url = webUrl(o.url instanceof URL ? o.url.href : (o.url?.href?.href ?? o.id?.href ?? null));
  const contentHtml = sanitizeHtml(o.content ? String(o.content) : "");
  const named = o.name ? htmlToText(String(o.name)).slice(0, 200) : null;
  // A microblog post opening a thread (a mention of the community, no `name`) is titled from its text.
  const title = named || (o.replyTargetId ? null : titleFromContent(contentHtml));
  return {
    type: (o instanceof Page ? "Page" : o instanceof Article ? "Article" : "Note") as "Page" | "Note" | "Article",
    url,
    title,
    contentHtml,
    summary,
    sensitive: o.sensitive ?? summary !== null,
    language: null,
    // Never in the future: a post dated years ahead would escape community retention.
    publishedAt: isoOf(
      o.published && Temporal.Instant.compare(o.published, Temporal.Now.instant()) < 0
        ? o.published
        : Temporal.Now.instant(),
    ),
    updatedAt: o.updated ? isoOf(o.updated) : null,
    tags,
    images: await remoteImages(o),
  };
}

/** Our timestamp format (millisecond ISO-8601 UTC), whatever precision the remote used. */
export const isoOf = (instant: { epochMilliseconds: number }) => new Date(instant.epochMilliseconds).toISOString();

/** Only http(s) links from remote documents reach our pages (no javascript: or data: URLs). */
export const webUrl = (url: string | null): string | null => (url && /^https?:\/\//i.test(url) ? url : null);
