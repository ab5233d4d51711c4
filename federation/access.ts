// Who may fetch what. Public objects are open to all, unless the instance runs
// with authorized fetch (then every ActivityPub GET of an object or collection
// must be signed, by a server we don't block). Members-only communities serve
// their threads only to requests signed by an actor whose server has an
// approved member; anyone else gets 401 (or 404 when there is no such object).
// Who belongs to what is the actor's own business (collections.ts): the lists
// go to the actor itself, a community's moderators to its members.
import type { Context, RequestContext } from "@fedify/fedify";
import { type Actor, Application } from "@fedify/fedify/vocab";
import { hasMemberOnServer, isModerator, membership } from "../src/communities/membership.ts";
import type { AppContext } from "../src/context.ts";
import { instanceLoader } from "./remote.ts";

/** The actor whose key signed the request; null when unsigned or the signature does not check out. */
async function signer(ctx: RequestContext<AppContext>): Promise<Actor | null> {
  return ctx.getSignedKeyOwner({ documentLoader: await instanceLoader(ctx) }).catch(() => null);
}

async function signerHost(ctx: RequestContext<AppContext>): Promise<string | null> {
  return (await signer(ctx))?.id?.host ?? null;
}

/** The instance-wide rule: with authorized fetch on, a valid signature from an unblocked server. */
export async function mayFetch(ctx: RequestContext<AppContext>): Promise<boolean> {
  if (!ctx.data.config.authorizedFetch) return true;
  const host = await signerHost(ctx);
  return host !== null && !ctx.data.policy.isSuspended(host);
}

/** A members-only community's content: the signer's server must have an approved member. */
export async function mayFetchMembersOnly(ctx: RequestContext<AppContext>, communityId: string): Promise<boolean> {
  const host = await signerHost(ctx);
  if (host === null || ctx.data.policy.isSuspended(host)) return false;
  return hasMemberOnServer(ctx.data.db, communityId, host);
}

/**
 * Whether the request is signed by the (local) actor `iri` itself: only it
 * sees whom it follows and who follows it. False outside a request.
 */
export async function signedBy(ctx: Context<AppContext>, iri: string): Promise<boolean> {
  if (!isRequest(ctx)) return false;
  return (await signer(ctx))?.id?.href === iri;
}

const isRequest = (ctx: Context<AppContext>): ctx is RequestContext<AppContext> => "getSignedKeyOwner" in ctx;

/**
 * Who may read the names of a community's moderators (FEP-1b12, which Lemmy
 * reads to know who may moderate): the community itself, its approved members
 * and its moderators, and the instance actor (`Application`, which Lemmy and
 * Mastodon sign their fetches with) of a server that has an approved member.
 */
export async function mayListModerators(
  ctx: RequestContext<AppContext>,
  community: { id: string; iri: string },
): Promise<boolean> {
  const owner = await signer(ctx);
  const id = owner?.id;
  if (!owner || !id) return false;
  if (id.href === community.iri) return true;
  if (ctx.data.policy.isSuspended(id.host)) return false;
  const db = ctx.data.db;
  if (owner instanceof Application) return hasMemberOnServer(db, community.id, id.host);
  const row = await db.selectFrom("actors").select("id").where("iri", "=", id.href).executeTakeFirst();
  if (!row) return false;
  return (await membership(db, community.id, row.id)) === "accepted" || (await isModerator(db, community.id, row.id));
}
