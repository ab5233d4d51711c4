// The Deletes of an erasure. One `Delete(Person)` per server that holds
// anything of theirs: Mastodon, Misskey, Pleroma, Lemmy and PieFed (with
// Lemmy's `removeData`, added on the wire) drop the person and every post of
// theirs on it, so what we queue follows the number of servers, not posts ×
// servers. A post's own `Delete` goes only where that is not enough: to the
// remote communities they posted in (which relay it to their own followers,
// whom we don't know) and to servers that keep the posts of a deleted person
// (NodeBB handles a `Delete` of a post only).
import type { Context } from "@fedify/fedify";
import type { Recipient } from "@fedify/fedify/vocab";
import { Delete, PUBLIC_COLLECTION } from "@fedify/fedify/vocab";
import { KyselyKvStore } from "../db/kv-store.ts";
import type { AppContext } from "../src/context.ts";
import { markUndeliverable } from "../src/deliveries/ledger.ts";
import { erasureSent, markErasureSent } from "../src/erasure/completion.ts";
import { removeErasedContent } from "../src/erasure/content.ts";
import type { ErasurePlan } from "../src/erasure/plan.ts";
import { recordEvent } from "../src/events.ts";
import { logger } from "../src/logging.ts";
import { boundedDocumentLoader } from "./documents.ts";
import { keyPairsOf } from "./keys.ts";
import { deliverable } from "./policy.ts";
import { activityId, recipient, sendTo } from "./send.ts";

const log = logger("federation", "erasure");

/** Post deletions sent per event: each event stays well inside the queue's lease however many posts there are. */
const ERASURE_BATCH = 200;

/** Software (NodeInfo's `software.name`) that keeps a person's posts when the person is deleted. */
const KEEPS_POSTS_OF_DELETED_PEOPLE = new Set(["nodebb"]);

/** How long a server's software, once looked up, is taken as known. */
const SOFTWARE_KNOWN_MS = 86_400_000;

const byInbox = (inbox: string): Recipient => ({ id: new URL(inbox), inboxId: new URL(inbox), endpoints: null });

/**
 * Sends an erasure's Deletes: `Delete(Person)` to every server first, then
 * the posts' own Deletes in batches, each batch recording the next as a new
 * event (with an id derived from the erasure and what is left, so a batch
 * dispatched again after a crash records the same next batch, whose
 * activities are then not queued twice); the last marks the erasure sent.
 */
export async function actorErased(ctx: Context<AppContext>, plan: ErasurePlan): Promise<void> {
  const { db } = ctx.data;
  if (await erasureSent(db, plan.erasureId)) return;
  // Their posts go in short transactions after the account's (content.ts): if the process that erased
  // them stopped midway, the rest goes now, before any Delete tells a server to fetch a post and find it gone.
  await removeErasedContent(db, plan.actorId);
  // Keys are made when first needed; a member whose posts only ever went out
  // through community re-shares may have none yet, and the Delete must be signed.
  await keyPairsOf(db, plan.actorId);
  const sender = { identifier: plan.identifier };
  const actor = new URL(plan.actorIri);
  let postDeletesTo = plan.postDeletesTo ?? [];
  if (plan.inboxes.length > 0) {
    const reachable = deliverable(ctx.data.policy, plan.inboxes.map(byInbox));
    const reached = new Set(reachable.map((r) => r.inboxId?.href));
    const refused = plan.inboxes.filter((inbox) => !reached.has(new URL(inbox).href));
    // Servers we may no longer reach (suspended since) are settled at once in the receipt.
    if (refused.length > 0)
      await markUndeliverable(db, plan.deleteIri, refused, "not sent: the server is blocked by this instance");
    if (reachable.length > 0)
      await ctx.sendActivity(
        sender,
        reachable,
        new Delete({ id: new URL(plan.deleteIri), actor, object: actor, tos: [PUBLIC_COLLECTION] }),
      );
    postDeletesTo = await keepingPosts(
      ctx,
      [...reached].flatMap((inbox) => (inbox ? [inbox] : [])),
    );
  }
  let budget = ERASURE_BATCH;
  const rest: ErasurePlan["communities"] = [];
  for (const group of plan.communities) {
    const targets = [
      ...(group.inbox ? [recipient(group.groupIri, group.inbox, null)] : []),
      ...postDeletesTo.map(byInbox),
    ];
    if (targets.length === 0) continue;
    const now = group.postIris.slice(0, budget);
    budget -= now.length;
    if (now.length < group.postIris.length) rest.push({ ...group, postIris: group.postIris.slice(now.length) });
    for (const postIri of now) {
      // A bare IRI, as for any post deletion (outbox.ts): NodeBB drops its copy only then.
      const del = new Delete({
        id: activityId(ctx, "delete-post"),
        actor,
        object: new URL(postIri),
        tos: [PUBLIC_COLLECTION],
      });
      await sendTo(ctx, sender, targets, del);
    }
  }
  const left = rest.reduce((n, g) => n + g.postIris.length, 0);
  if (left > 0)
    await recordEvent(
      db,
      { type: "actor.erased", plan: { ...plan, inboxes: [], communities: rest, postDeletesTo } },
      `${plan.erasureId}-${left}`,
    );
  else await markErasureSent(db, plan.erasureId);
}

/** Of `inboxes`, those on servers whose software keeps the posts of a deleted person. */
async function keepingPosts(ctx: Context<AppContext>, inboxes: string[]): Promise<string[]> {
  const origins = [...new Set(inboxes.map((inbox) => new URL(inbox).origin))];
  const keeping = new Set<string>();
  // A few lookups at a time: an erasure may reach hundreds of servers.
  for (let i = 0; i < origins.length; i += 8) {
    const chunk = origins.slice(i, i + 8);
    const names = await Promise.all(chunk.map((origin) => softwareOf(ctx, origin)));
    chunk.forEach((origin, k) => {
      if (KEEPS_POSTS_OF_DELETED_PEOPLE.has(names[k] ?? "")) keeping.add(origin);
    });
  }
  return inboxes.filter((inbox) => keeping.has(new URL(inbox).origin));
}

/**
 * A server's software by its NodeInfo, remembered for a day; null when it
 * publishes none or does not answer (such a server is taken to honour
 * `Delete(Person)`, as every widespread one does).
 */
async function softwareOf(ctx: Context<AppContext>, origin: string): Promise<string | null> {
  const kv = new KyselyKvStore(ctx.data.db);
  const key = ["kindred", "software", origin] as const;
  const known = await kv.get<{ name: string | null; at: number }>(key);
  if (known && Date.now() - known.at < SOFTWARE_KNOWN_MS) return known.name;
  const load = boundedDocumentLoader({ allowPrivateAddress: ctx.data.config.allowPrivateAddress });
  let name: string | null = null;
  try {
    const wellKnown = (await load(new URL("/.well-known/nodeinfo", origin).href)).document as {
      links?: { rel?: unknown; href?: unknown }[];
    };
    const href = wellKnown.links?.find(
      (l) => typeof l.rel === "string" && l.rel.startsWith("http://nodeinfo.diaspora.software/ns/schema/"),
    )?.href;
    if (typeof href === "string") {
      const info = (await load(new URL(href, origin).href)).document as { software?: { name?: unknown } };
      if (typeof info.software?.name === "string") name = info.software.name.toLowerCase();
    }
  } catch (error) {
    log.debug("no NodeInfo from {origin}: {error}", { origin, error: String(error) });
  }
  await kv.set(key, { name, at: Date.now() });
  return name;
}
