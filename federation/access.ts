// Who may fetch what. Public objects are open to all, unless the instance runs
// with authorized fetch (then every ActivityPub GET of an object or collection
// must be signed, by a server we don't block). Members-only communities serve
// their threads only to requests signed by an actor whose server has an
// approved member; anyone else gets 401 (or 404 when there is no such object).
import type { RequestContext } from "@fedify/fedify";
import { hasMemberOnServer } from "../src/communities/membership.ts";
import type { AppContext } from "../src/context.ts";
import { instanceLoader } from "./remote.ts";

async function signerHost(ctx: RequestContext<AppContext>): Promise<string | null> {
  const owner = await ctx.getSignedKeyOwner({ documentLoader: await instanceLoader(ctx) }).catch(() => null);
  return owner?.id?.host ?? null;
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
