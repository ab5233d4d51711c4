import type { Context, Federation } from "@fedify/fedify";
import { isActor } from "@fedify/fedify/vocab";
import { findActorByIri, findRemoteActorByHandle } from "../src/actors/remote.ts";
import type { AppContext, RemoteLookup } from "../src/context.ts";
import { ingestPost } from "./inbox/ingest.ts";
import { actorIdFor, instanceLoader, isPostObject, type PostObject, persistActor } from "./remote.ts";

const HANDLE = /^@?([^@\s/]+)@([a-z0-9.-]+(?::\d+)?)$/i;

/**
 * A URL that turned out not to be an actor is kept a moment for `resolvePost`,
 * which the search box asks next: one fetch per pasted link, not two.
 */
const LOOKED_UP_MS = 30_000;
const LOOKED_UP_MAX = 32;

/** Resolves handles and URLs for the web and CLI (search box, joining remote communities). */
export function remoteLookup(federation: Federation<AppContext>, data: AppContext): RemoteLookup {
  const lookedUp = new Map<string, { object: unknown; at: number }>();
  const context = () => federation.createContext(new URL(data.config.origin), data);
  const fetchObject = async (ctx: Context<AppContext>, q: string): Promise<unknown> => {
    const kept = lookedUp.get(q);
    lookedUp.delete(q);
    if (kept && Date.now() - kept.at < LOOKED_UP_MS) return kept.object;
    // A signed fetch through the instance's bounded loader (private addresses, size and time limits).
    return ctx.lookupObject(q, { documentLoader: await instanceLoader(ctx) }).catch(() => null);
  };
  return {
    async resolveActor(query) {
      const q = query.trim();
      const ctx = context();
      const handle = HANDLE.exec(q);
      const [, username, host] = handle ?? [];
      if (username && host) {
        const known = await findRemoteActorByHandle(data.db, username, host);
        if (known) return known.id;
        // WebFinger (Fedify resolves acct: over https).
        const object = await fetchObject(ctx, `@${username}@${host}`);
        return object && isActor(object) ? persistActor(ctx, object) : null;
      }
      if (!/^https?:\/\//.test(q)) return null;
      const known = await findActorByIri(data.db, q);
      if (known) return known.id;
      // A post we hold is no actor: no need to ask its server.
      if (await heldPost(data, q)) return null;
      const object = await fetchObject(ctx, q);
      if (object && isActor(object)) return persistActor(ctx, object);
      if (isPostObject(object)) {
        if (lookedUp.size >= LOOKED_UP_MAX) lookedUp.delete(lookedUp.keys().next().value ?? "");
        lookedUp.set(q, { object, at: Date.now() });
      }
      return null;
    },

    async resolvePost(url) {
      const q = url.trim();
      if (!/^https?:\/\//.test(q)) return null;
      const known = await heldPost(data, q);
      if (known) return known;
      if (data.policy.isSuspended(q)) return null;
      const ctx = context();
      const object = await fetchObject(ctx, q);
      if (!isPostObject(object) || !object.id || data.policy.isSuspended(object.id.href)) return null;
      // Stored exactly as a delivered post would be: ingest checks origins, bans, locks and communities.
      const result = await ingestPost(ctx, object, { announcedBy: (await sameOriginGroup(ctx, object)) ?? undefined });
      return result.stored ? result.postId : null;
    },
  };
}

/** The post we hold at this IRI or web URL. */
async function heldPost(data: AppContext, url: string): Promise<string | null> {
  const row = await data.db
    .selectFrom("posts")
    .select("id")
    .where((eb) => eb.or([eb("iri", "=", url), eb("url", "=", url)]))
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  return row?.id ?? null;
}

/**
 * The remote community a fetched thread belongs to, when that community lives
 * on the thread's own server: that server speaks for both (FEP-fe34), as the
 * community re-sharing the thread would. A community elsewhere is not taken
 * on a post's word, so ingest refuses such a thread, as it does when delivered.
 */
async function sameOriginGroup(ctx: Context<AppContext>, object: PostObject): Promise<string | null> {
  if (!object.id) return null;
  const origin = object.id.origin;
  const named = [...object.audienceIds, ...object.toIds, ...object.ccIds].filter((u) => u.origin === origin);
  for (const iri of named) {
    const known = await findActorByIri(ctx.data.db, iri.href);
    if (known) {
      if (known.type === "Group" && known.local === 0 && !known.deleted_at) return known.id;
      continue;
    }
    // Only `audience` (FEP-1b12) names the community for sure; fetch it if we don't know it yet.
    if (!object.audienceIds.some((u) => u.href === iri.href)) continue;
    const id = await actorIdFor(ctx, iri);
    const actor = id ? await findActorByIri(ctx.data.db, iri.href) : undefined;
    if (actor?.type === "Group") return actor.id;
  }
  return null;
}
