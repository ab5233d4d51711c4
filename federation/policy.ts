// Federation policy at the edges: inbound requests, fetches and deliveries
// to or from a suspended domain (or one outside the allow list) never happen.
import type { DocumentLoader } from "@fedify/fedify/runtime";
import type { Recipient } from "@fedify/fedify/vocab";
import type { Db } from "../db/schema.ts";
import type { DomainPolicy } from "../src/policy/matcher.ts";
import { isSuspendedIri } from "../src/sanctions/service.ts";
import { idOf } from "./wire.ts";

/** The host that signed a request (draft-cavage `Signature` or RFC 9421 `Signature-Input`). */
export function signerHost(request: Request): string | null {
  const header = request.headers.get("signature") ?? request.headers.get("signature-input") ?? "";
  const keyId = /keyid="([^"]+)"/i.exec(header)?.[1];
  if (!keyId) return null;
  try {
    return new URL(keyId).host.toLowerCase();
  } catch {
    return null;
  }
}

/** A 403 for inbox deliveries from a suspended domain, before anything is parsed or stored. */
export function refuseBlockedInbox(request: Request, policy: DomainPolicy): Response | null {
  if (request.method !== "POST" || !new URL(request.url).pathname.endsWith("/inbox")) return null;
  const host = signerHost(request);
  if (!host || !policy.isSuspended(host)) return null;
  return Response.json({ error: "this server does not federate with your domain" }, { status: 403 });
}

/**
 * A 403 for an inbox delivery from a suspended account (src/sanctions/), as for
 * a suspended domain: Mastodon answers its suspended accounts' deliveries so.
 * Runs after the gate, which has checked that the body is JSON naming its actor.
 */
export async function refuseSuspendedActor(request: Request, db: Db): Promise<Response | null> {
  if (request.method !== "POST" || !new URL(request.url).pathname.endsWith("/inbox")) return null;
  const body = (await request
    .clone()
    .json()
    .catch(() => null)) as { actor?: unknown } | null;
  const actor = idOf(body?.actor);
  if (!actor || !(await isSuspendedIri(db, actor))) return null;
  return Response.json({ error: "this server does not accept activities from your account" }, { status: 403 });
}

/** Fetches of documents on suspended domains fail as if the server were not there. */
export const policyLoader =
  (loader: DocumentLoader, policy: DomainPolicy): DocumentLoader =>
  async (url, options) => {
    await policy.ensureFresh();
    if (policy.isSuspended(url)) throw new Error(`fetch refused by domain policy: ${new URL(url).host}`);
    return loader(url, options);
  };

/** Recipients whose server we may deliver to. */
export const deliverable = (policy: DomainPolicy, recipients: Recipient[]): Recipient[] =>
  recipients.filter((r) => !policy.isSuspended((r.endpoints?.sharedInbox ?? r.inboxId ?? r.id)?.href ?? ""));
