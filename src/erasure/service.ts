// Erasure (GDPR Art. 17): a member removes themselves from this instance and
// from every server their content reached. One transaction removes every row
// of their content and personal data and records the `actor.erased` event,
// which carries what the outbox needs (where to send the `Delete`s) because
// the rows it would read are gone. The actor row stays, emptied, so the name
// stays reserved; its keys stay until the `Delete`s are delivered or given up.
import { randomBytes } from "node:crypto";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { verifyPassword } from "../accounts/passwords.ts";
import type { QueuedDeliveries } from "../context.ts";
import { DomainError, forbidden, notFound } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { newId, now } from "../ids.ts";
import { forgetImagesOf } from "../media/service.ts";
import { hostOf } from "../urls.ts";
import { ensureAnonymousActor } from "./anonymous.ts";
import { removeErasedContent } from "./content.ts";
import type { ErasureMode, ErasurePlan } from "./plan.ts";
import { receiptTokenHash } from "./receipt.ts";

/** What an erasure would remove, for the confirmation page. */
export async function erasureSummary(db: Db, actorId: string) {
  const count = async (q: { executeTakeFirst(): Promise<{ n: number | string | bigint } | undefined> }) =>
    Number((await q.executeTakeFirst())?.n ?? 0);
  const own = db.selectFrom("posts").where("author_id", "=", actorId).where("deleted_at", "is", null);
  const [threads, replies, messages, likes, memberships, servers] = await Promise.all([
    count(
      own
        .select((eb) => eb.fn.countAll().as("n"))
        .where("parent_id", "is", null)
        .where("audience", "!=", "direct"),
    ),
    count(
      own
        .select((eb) => eb.fn.countAll().as("n"))
        .where("parent_id", "is not", null)
        .where("audience", "!=", "direct"),
    ),
    count(own.select((eb) => eb.fn.countAll().as("n")).where("audience", "=", "direct")),
    count(
      db
        .selectFrom("likes")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("actor_id", "=", actorId),
    ),
    count(
      db
        .selectFrom("follows")
        .innerJoin("actors", "actors.id", "follows.followee_id")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("follows.follower_id", "=", actorId)
        .where("actors.type", "=", "Group"),
    ),
    count(
      db
        .selectFrom("deliveries")
        .select((eb) => eb.fn.count("host").distinct().as("n"))
        .where("actor_id", "=", actorId),
    ),
  ]);
  const anonymizable = await db
    .selectFrom("posts")
    .innerJoin("communities", "communities.actor_id", "posts.community_id")
    .innerJoin("actors", "actors.id", "communities.actor_id")
    .select(["actors.username as slug", "actors.name"])
    .select((eb) => eb.fn.countAll().as("posts"))
    .where("posts.author_id", "=", actorId)
    .where("posts.deleted_at", "is", null)
    .where("posts.audience", "!=", "direct")
    .where("communities.allow_anonymize", "=", 1)
    .groupBy(["actors.username", "actors.name"])
    .execute();
  return {
    threads,
    replies,
    messages,
    likes,
    memberships,
    servers,
    anonymizable: anonymizable.map((a) => ({ slug: a.slug, name: a.name, posts: Number(a.posts) })),
  };
}

/** Checks the member's password before an erasure asked for on the web. */
export async function confirmPassword(db: Db, actorId: string, password: string): Promise<void> {
  const row = await db.selectFrom("users").select("password_hash").where("actor_id", "=", actorId).executeTakeFirst();
  if (!row || !(await verifyPassword(row.password_hash, password)))
    throw new DomainError("forbidden", "the password is not correct", { password: "is not correct" });
}

export interface ErasureResult {
  erasureId: string;
  /** The secret part of the receipt's address; only its hash is stored. */
  receiptToken: string;
  handle: string;
  /** Files to remove once the transaction has committed (avatar, export archives). */
  files: { avatarUrl: string | null; exportFiles: string[] };
}

/**
 * Erases a local member. `anonymize` keeps their posts in communities that
 * allow it, detached from them (moved to the instance's anonymous actor);
 * everything else goes either way. `queued` is Fedify's queue, whose waiting
 * deliveries of their content go too.
 */
export async function eraseAccount(
  db: Db,
  origin: string,
  actorId: string,
  options: {
    mode?: ErasureMode;
    queued: QueuedDeliveries;
    /** False only where a test stands in for a process killed right after the account's transaction. */
    removeContentNow?: boolean;
  },
): Promise<ErasureResult> {
  const mode = options.mode ?? "delete";
  // The account goes in one transaction, with the event that sends the Deletes; its posts in short
  // ones after it (content.ts), finished by the outbox before it sends if this process stops meanwhile.
  const result = await inTransaction(db, async (trx) => {
    const actor = await trx
      .selectFrom("actors")
      .innerJoin("users", "users.actor_id", "actors.id")
      .select(["actors.id", "actors.iri", "actors.username", "actors.username_key", "actors.avatar_url", "users.role"])
      .where("actors.id", "=", actorId)
      .where("actors.local", "=", 1)
      .where("actors.deleted_at", "is", null)
      .executeTakeFirst();
    if (!actor) throw notFound("account");
    if (actor.role === "admin") {
      const others = await trx
        .selectFrom("users")
        .select("actor_id")
        .where("role", "=", "admin")
        .where("actor_id", "!=", actorId)
        .executeTakeFirst();
      if (!others) throw forbidden("the only admin cannot erase their account; make another user an admin first");
    }
    const ts = now();
    const erasureId = newId();
    const deleteIri = new URL(`/activities/${erasureId}`, origin).href;
    const handle = `@${actor.username}@${hostOf(origin)}`;

    if (mode === "anonymize") await anonymizePosts(trx, origin, actorId);
    const plan: ErasurePlan = {
      erasureId,
      actorId,
      actorIri: actor.iri,
      identifier: actor.username_key,
      deleteIri,
      inboxes: await inboxesToTell(trx, actorId),
      communities: await communitiesToTell(trx, actorId),
    };
    const exportFiles = await removePersonalData(trx, actor.id, actor.username_key);
    // Deliveries of their content still waiting for a server that was down hold its text.
    await options.queued.forget(trx, actor.iri);
    await trx
      .updateTable("actors")
      .set({
        name: null,
        summary_html: null,
        avatar_url: null,
        discoverable: 0,
        manually_approves_followers: 1,
        deleted_at: ts,
        updated_at: ts,
      })
      .where("id", "=", actorId)
      .execute();

    const receiptToken = randomBytes(24).toString("base64url");
    await trx
      .insertInto("erasures")
      .values({
        id: erasureId,
        actor_id: actorId,
        handle,
        token_hash: receiptTokenHash(receiptToken),
        mode,
        activity_iri: deleteIri,
        created_at: ts,
        sent_at: null,
        completed_at: null,
      })
      .execute();
    // The receipt lists every server from the start, as "queued" until tried (in chunks: bound-parameter limits).
    for (let i = 0; i < plan.inboxes.length; i += 500) {
      await trx
        .insertInto("deliveries")
        .values(
          plan.inboxes.slice(i, i + 500).map((inbox) => ({
            id: newId(),
            actor_id: actorId,
            activity_iri: deleteIri,
            object_iri: actor.iri,
            inbox_url: inbox,
            host: new URL(inbox).host,
            status: "pending" as const,
            attempts: 0,
            last_error: null,
            created_at: ts,
            updated_at: ts,
            delivered_at: null,
          })),
        )
        .execute();
    }
    await recordEvent(trx, { type: "actor.erased", plan });
    return { erasureId, receiptToken, handle, files: { avatarUrl: actor.avatar_url, exportFiles } };
  });
  if (options.removeContentNow !== false) await removeErasedContent(db, actorId);
  return result;
}

/**
 * Inboxes of everyone who received their objects (the ledger) or has a follow
 * with them, one per server where a shared inbox exists.
 */
async function inboxesToTell(db: Db, actorId: string): Promise<string[]> {
  const ledger = await db
    .selectFrom("deliveries")
    .select("inbox_url")
    .distinct()
    .where("actor_id", "=", actorId)
    .execute();
  const related = await db
    .selectFrom("follows")
    .innerJoin("actors", (j) =>
      j.on((eb) =>
        eb.or([
          eb("actors.id", "=", eb.ref("follows.follower_id")),
          eb("actors.id", "=", eb.ref("follows.followee_id")),
        ]),
      ),
    )
    .select(["actors.inbox_url", "actors.shared_inbox_url"])
    .where((eb) => eb.or([eb("follows.follower_id", "=", actorId), eb("follows.followee_id", "=", actorId)]))
    .where("actors.local", "=", 0)
    .execute();
  const messaged = await db
    .selectFrom("post_recipients")
    .innerJoin("posts", "posts.id", "post_recipients.post_id")
    .innerJoin("actors", "actors.id", "post_recipients.actor_id")
    .select(["actors.inbox_url", "actors.shared_inbox_url"])
    .where("posts.author_id", "=", actorId)
    .where("actors.local", "=", 0)
    .execute();
  // Followers of the communities they posted in got their posts as the community's re-shares.
  const communityFollowers = await db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.follower_id")
    .select(["actors.inbox_url", "actors.shared_inbox_url"])
    .distinct()
    .where(
      "follows.followee_id",
      "in",
      db
        .selectFrom("posts")
        .select("community_id")
        .where("author_id", "=", actorId)
        .where("community_id", "is not", null),
    )
    .where("follows.status", "=", "accepted")
    .where("actors.local", "=", 0)
    .execute();
  const inboxes = new Set(ledger.map((r) => r.inbox_url));
  for (const r of [...related, ...messaged, ...communityFollowers]) {
    const inbox = r.shared_inbox_url ?? r.inbox_url;
    if (inbox) inboxes.add(inbox);
  }
  return [...inboxes].sort();
}

/** Their live posts in federated communities, grouped by community. */
async function communitiesToTell(db: Db, actorId: string): Promise<ErasurePlan["communities"]> {
  const rows = await db
    .selectFrom("posts")
    .innerJoin("actors as community", "community.id", "posts.community_id")
    .leftJoin("communities", "communities.actor_id", "posts.community_id")
    .select([
      "posts.iri",
      "community.iri as groupIri",
      "community.local",
      "community.username_key as groupKey",
      "community.inbox_url as inbox",
      "communities.federation",
    ])
    .where("posts.author_id", "=", actorId)
    .where("posts.deleted_at", "is", null)
    .where("posts.audience", "!=", "direct")
    .orderBy("posts.id")
    .execute();
  const byGroup = new Map<string, ErasurePlan["communities"][number]>();
  for (const r of rows) {
    if (r.local === 1 && r.federation === "local") continue;
    let entry = byGroup.get(r.groupIri);
    if (!entry) {
      entry = {
        groupKey: r.local === 1 ? r.groupKey : null,
        groupIri: r.groupIri,
        inbox: r.local === 1 ? null : r.inbox,
        postIris: [],
      };
      byGroup.set(r.groupIri, entry);
    }
    entry.postIris.push(r.iri);
  }
  return [...byGroup.values()];
}

/**
 * Moves their posts in communities that allow it to the anonymous actor; their text stays, their name goes,
 * and so do their images (a photo can say who took it better than a name).
 */
async function anonymizePosts(db: Db, origin: string, actorId: string): Promise<void> {
  const anonymousId = await ensureAnonymousActor(db, origin);
  const allowing = db.selectFrom("communities").select("actor_id").where("allow_anonymize", "=", 1);
  const kept = db
    .selectFrom("posts")
    .select("id")
    .where("author_id", "=", actorId)
    .where("deleted_at", "is", null)
    .where("audience", "!=", "direct")
    .where("community_id", "in", allowing);
  await forgetImagesOf(db, kept);
  await db.updateTable("posts").set({ author_id: anonymousId }).where("id", "in", kept).execute();
}

/**
 * Every other row about them: account, sessions, likes, follows, roles,
 * filters, reports and moderation records, exports. Returns
 * the export archives' file names (read as the rows go, so an archive that
 * became ready meanwhile is not missed).
 */
async function removePersonalData(db: Db, actorId: string, usernameKey: string): Promise<string[]> {
  await db.deleteFrom("likes").where("actor_id", "=", actorId).execute();
  await db
    .deleteFrom("follows")
    .where((eb) => eb.or([eb("follower_id", "=", actorId), eb("followee_id", "=", actorId)]))
    .execute();
  await db.deleteFrom("community_moderators").where("actor_id", "=", actorId).execute();
  await db.updateTable("communities").set({ created_by: null }).where("created_by", "=", actorId).execute();
  await db.deleteFrom("community_bans").where("actor_id", "=", actorId).execute();
  await db.deleteFrom("post_recipients").where("actor_id", "=", actorId).execute();
  await db.deleteFrom("post_mentions").where("actor_id", "=", actorId).execute();
  await db.deleteFrom("hidden_posts").where("actor_id", "=", actorId).execute();
  // Their clinician badge, and which marks and badges they gave (the marks themselves stay).
  await db.deleteFrom("clinician_badges").where("user_id", "=", actorId).execute();
  await db.updateTable("clinician_badges").set({ verified_by: null }).where("verified_by", "=", actorId).execute();
  await db.updateTable("answer_marks").set({ marked_by: null }).where("marked_by", "=", actorId).execute();
  await db
    .deleteFrom("member_filters")
    .where((eb) => eb.or([eb("user_id", "=", actorId), eb("target_actor_id", "=", actorId)]))
    .execute();
  // Reports by or about them, and moderation records naming them (which communities they joined shows there).
  await db
    .deleteFrom("reports")
    .where((eb) => eb.or([eb("reporter_id", "=", actorId), eb("target_actor_id", "=", actorId)]))
    .execute();
  await db.deleteFrom("appeals").where("appellant_id", "=", actorId).execute();
  await db.deleteFrom("notifications").where("user_id", "=", actorId).execute();
  await db.deleteFrom("notification_preferences").where("user_id", "=", actorId).execute();
  await db.deleteFrom("moderation_actions").where("target_actor_id", "=", actorId).execute();
  await db.updateTable("moderation_actions").set({ moderator_id: null }).where("moderator_id", "=", actorId).execute();
  const exports = await db.deleteFrom("exports").where("user_id", "=", actorId).returning("file_name").execute();
  await db
    .deleteFrom("rate_limits")
    .where((eb) => eb.or([eb("key", "like", `%${actorId}%`), eb("key", "=", `login:user:${usernameKey}`)]))
    .execute();
  // The ledger's history of them goes after, in batches (content.ts): it may hold millions of rows.
  await db.deleteFrom("sessions").where("user_id", "=", actorId).execute();
  await db.deleteFrom("recovery_codes").where("user_id", "=", actorId).execute();
  await db.deleteFrom("users").where("actor_id", "=", actorId).execute();
  return exports.flatMap((e) => (e.file_name ? [e.file_name] : []));
}
