import { z } from "zod";
import type { BlockSeverity, Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { invalid, notFound, parseInput } from "../errors.ts";
import { now } from "../ids.ts";
import { updateSettings } from "../instance/settings.ts";
import { tombstonePosts } from "../posts/tombstone.ts";
import { domainKeys, domainSchema, ownHostProblem } from "./domains.ts";
import { bumpPolicyVersion, settlePolicyChange } from "./version.ts";

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .optional()
    .transform((v) => (v ? v : null));

export const domainBlockInput = z.object({
  domain: domainSchema,
  severity: z.enum(["suspend", "silence", "noop"], { message: "must be suspend, silence or noop" }).default("suspend"),
  rejectMedia: z.boolean().default(false),
  rejectReports: z.boolean().default(false),
  publicComment: optionalText(1000),
  privateComment: optionalText(1000),
  obfuscate: z.boolean().default(false),
});
export type DomainBlockInput = z.input<typeof domainBlockInput>;
export type DomainBlock = z.output<typeof domainBlockInput>;

/** Hosts of actors we hold under `domain` (the domain itself and its subdomains). */
function actorsUnder(db: Db, domain: string) {
  return db
    .selectFrom("actors")
    .select("id")
    .where("local", "=", 0)
    .where((eb) =>
      eb.or([
        eb("host", "=", domain),
        eb("host", "like", `%.${domain}`),
        eb("host", "like", `${domain}:%`),
        eb("host", "like", `%.${domain}:%`),
      ]),
    );
}

/**
 * Adds or changes a block. Every entry point (web, CLI, import) passes the
 * instance's `origin`: our own host is refused. A suspension purges what we hold from the domain
 * in the same transaction: follows both ways, likes, cached actors and their
 * posts (a post others replied to stays as a "[deleted]" tombstone so the
 * thread holds together). Changing a suspension into a lighter block revives
 * the accounts it marked deleted (see unblockDomain). Every change of the
 * policy is in force in every process when it returns (version.ts).
 */
export async function blockDomain(
  db: Db,
  input: DomainBlockInput,
  instance: { origin?: string } = {},
): Promise<{ created: boolean; purged: PurgeCounts | null }> {
  const b = parseInput(domainBlockInput, input);
  const ownHost = instance.origin ? ownHostProblem(b.domain, instance.origin) : null;
  if (ownHost) throw invalid(ownHost, { domain: ownHost });
  const result = await inTransaction(db, async (trx) => {
    const existing = await trx
      .selectFrom("domain_blocks")
      .select(["domain", "severity", "public_comment", "private_comment"])
      .where("domain", "=", b.domain)
      .executeTakeFirst();
    const ts = now();
    // A comment not given (as in an imported list) keeps the one written here before.
    const values = {
      severity: b.severity,
      reject_media: b.rejectMedia ? 1 : 0,
      reject_reports: b.rejectReports ? 1 : 0,
      public_comment: input.publicComment === undefined ? (existing?.public_comment ?? null) : b.publicComment,
      private_comment: input.privateComment === undefined ? (existing?.private_comment ?? null) : b.privateComment,
      obfuscate: b.obfuscate ? 1 : 0,
      updated_at: ts,
    } as const;
    if (existing) await trx.updateTable("domain_blocks").set(values).where("domain", "=", b.domain).execute();
    else
      await trx
        .insertInto("domain_blocks")
        .values({ domain: b.domain, created_at: ts, ...values })
        .execute();
    const purged = b.severity === "suspend" ? await purgeDomain(trx, b.domain) : null;
    if (existing?.severity === "suspend" && b.severity !== "suspend") await revivePurged(trx, b.domain);
    await bumpPolicyVersion(trx);
    return { created: !existing, purged };
  });
  await settlePolicyChange(db);
  return result;
}

/**
 * Lifts a block. Lifting a suspension revives the accounts its purge marked
 * deleted, so their later posts are accepted again (as Mastodon unsuspends a
 * domain's accounts); what the purge removed stays gone, and accounts deleted
 * by their own `Delete(Person)` stay deleted.
 */
export async function unblockDomain(db: Db, domain: string): Promise<void> {
  const d = parseInput(domainSchema, domain);
  await inTransaction(db, async (trx) => {
    const result = await trx.deleteFrom("domain_blocks").where("domain", "=", d).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`block of ${d}`);
    await revivePurged(trx, d);
    await bumpPolicyVersion(trx);
  });
  await settlePolicyChange(db);
}

/**
 * The accounts the suspension of `domain` marked deleted, once it no longer
 * suspends them: revived, unless another suspension (a parent's or a
 * subdomain's) still covers their host, which then answers for them. Their
 * profile comes back with the next fetch of their actor document.
 */
async function revivePurged(trx: Db, domain: string): Promise<void> {
  const marked = await trx
    .selectFrom("actors")
    .select(["id", "host"])
    .where("purged_by_block", "=", domain)
    .where("local", "=", 0)
    .execute();
  if (marked.length === 0) return;
  const suspensions = new Set(
    (
      await trx
        .selectFrom("domain_blocks")
        .select("domain")
        .where("severity", "=", "suspend")
        .where("domain", "!=", domain)
        .execute()
    ).map((b) => b.domain),
  );
  // Keyed by the suspension that still covers them; "" for those none covers.
  const byBlock = new Map<string, string[]>();
  for (const actor of marked) {
    const by = domainKeys(actor.host).find((k) => suspensions.has(k)) ?? "";
    const ids = byBlock.get(by) ?? [];
    ids.push(actor.id);
    byBlock.set(by, ids);
  }
  for (const [by, ids] of byBlock) {
    const values = by ? { purged_by_block: by } : { deleted_at: null, purged_by_block: null, fetched_at: null };
    // In slices: a domain can have many accounts, and a statement only so many parameters.
    for (let i = 0; i < ids.length; i += 500) {
      await trx
        .updateTable("actors")
        .set(values)
        .where("id", "in", ids.slice(i, i + 500))
        .execute();
    }
  }
}

export async function listDomainBlocks(db: Db) {
  return db.selectFrom("domain_blocks").selectAll().orderBy("domain").execute();
}

export interface PurgeCounts {
  actors: number;
  follows: number;
  posts: number;
}

/** Removes what we hold from actors under `domain` (see blockDomain). */
export async function purgeDomain(db: Db, domain: string): Promise<PurgeCounts> {
  const ids = (await actorsUnder(db, domain).execute()).map((a) => a.id);
  if (ids.length === 0) return { actors: 0, follows: 0, posts: 0 };
  const ts = now();
  const follows = await db
    .deleteFrom("follows")
    .where((eb) => eb.or([eb("follower_id", "in", ids), eb("followee_id", "in", ids)]))
    .executeTakeFirst();
  await db.deleteFrom("likes").where("actor_id", "in", ids).execute();
  await db.deleteFrom("post_mentions").where("actor_id", "in", ids).execute();
  await db.deleteFrom("post_recipients").where("actor_id", "in", ids).execute();
  const theirs = db.selectFrom("posts").select("id").where("author_id", "in", ids);
  const posts = await db
    .selectFrom("posts")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("author_id", "in", ids)
    .executeTakeFirst();
  await tombstonePosts(db, theirs, ts);
  // Posts nobody else answered go; the others stay as tombstones.
  await db
    .deleteFrom("posts")
    .where("author_id", "in", ids)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom("posts as c").select("c.id").whereRef("c.parent_id", "=", "posts.id"))),
    )
    .execute();
  // The actor rows stay (tombstoned posts point at them), emptied of what they said about themselves.
  // Those not already deleted are marked as this block's doing: lifting it revives them (revivePurged).
  await db
    .updateTable("actors")
    .set({ name: null, summary_html: null, avatar_url: null, url: null, deleted_at: ts, purged_by_block: domain })
    .where("id", "in", ids)
    .where("deleted_at", "is", null)
    .execute();
  await db
    .updateTable("actors")
    .set({ name: null, summary_html: null, avatar_url: null, url: null })
    .where("id", "in", ids)
    .where("deleted_at", "is not", null)
    .execute();
  return { actors: ids.length, follows: Number(follows.numDeletedRows), posts: Number(posts?.n ?? 0) };
}

// ---- allow list and mode ----

export async function allowDomain(db: Db, domain: string): Promise<void> {
  const d = parseInput(domainSchema, domain);
  await inTransaction(db, async (trx) => {
    await trx
      .insertInto("domain_allows")
      .values({ domain: d, created_at: now() })
      .onConflict((oc) => oc.column("domain").doNothing())
      .execute();
    await bumpPolicyVersion(trx);
  });
  await settlePolicyChange(db);
}

export async function disallowDomain(db: Db, domain: string): Promise<void> {
  const d = parseInput(domainSchema, domain);
  await inTransaction(db, async (trx) => {
    const result = await trx.deleteFrom("domain_allows").where("domain", "=", d).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`${d} on the allow list`);
    await bumpPolicyVersion(trx);
  });
  await settlePolicyChange(db);
}

export async function listDomainAllows(db: Db) {
  return db.selectFrom("domain_allows").selectAll().orderBy("domain").execute();
}

export async function setFederationMode(db: Db, mode: "open" | "allowlist"): Promise<void> {
  await inTransaction(db, async (trx) => {
    await updateSettings(trx, { federationMode: mode });
    await bumpPolicyVersion(trx);
  });
  await settlePolicyChange(db);
}

/** Local follows (both ways) with actors under `domain`: what a suspension would cut. */
export async function localFollowsWith(db: Db, domain: string): Promise<number> {
  const ids = actorsUnder(db, domain);
  const row = await db
    .selectFrom("follows")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where((eb) => eb.or([eb("follower_id", "in", ids), eb("followee_id", "in", ids)]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The existing block that already covers `domain` through a parent domain, if any. */
export function coveringBlock(blocks: Map<string, BlockSeverity>, domain: string): string | undefined {
  return domainKeys(domain)
    .slice(1)
    .find((k) => blocks.has(k));
}
