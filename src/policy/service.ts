import { z } from "zod";
import type { BlockSeverity, Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { invalid, notFound, parseInput } from "../errors.ts";
import { now } from "../ids.ts";
import { updateSettings } from "../instance/settings.ts";
import { tombstonePosts } from "../posts/tombstone.ts";
import { domainKeys, domainSchema, ownHostProblem } from "./domains.ts";

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
 * thread holds together).
 */
export async function blockDomain(
  db: Db,
  input: DomainBlockInput,
  instance: { origin?: string } = {},
): Promise<{ created: boolean; purged: PurgeCounts | null }> {
  const b = parseInput(domainBlockInput, input);
  const ownHost = instance.origin ? ownHostProblem(b.domain, instance.origin) : null;
  if (ownHost) throw invalid(ownHost, { domain: ownHost });
  return inTransaction(db, async (trx) => {
    const existing = await trx
      .selectFrom("domain_blocks")
      .select(["domain", "public_comment", "private_comment"])
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
    return { created: !existing, purged };
  });
}

export async function unblockDomain(db: Db, domain: string): Promise<void> {
  const d = parseInput(domainSchema, domain);
  const result = await db.deleteFrom("domain_blocks").where("domain", "=", d).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound(`block of ${d}`);
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
  await db
    .updateTable("actors")
    .set({ name: null, summary_html: null, avatar_url: null, url: null, deleted_at: ts })
    .where("id", "in", ids)
    .execute();
  return { actors: ids.length, follows: Number(follows.numDeletedRows), posts: Number(posts?.n ?? 0) };
}

// ---- allow list and mode ----

export async function allowDomain(db: Db, domain: string): Promise<void> {
  const d = parseInput(domainSchema, domain);
  await db
    .insertInto("domain_allows")
    .values({ domain: d, created_at: now() })
    .onConflict((oc) => oc.column("domain").doNothing())
    .execute();
}

export async function disallowDomain(db: Db, domain: string): Promise<void> {
  const d = parseInput(domainSchema, domain);
  const result = await db.deleteFrom("domain_allows").where("domain", "=", d).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound(`${d} on the allow list`);
}

export async function listDomainAllows(db: Db) {
  return db.selectFrom("domain_allows").selectAll().orderBy("domain").execute();
}

export async function setFederationMode(db: Db, mode: "open" | "allowlist"): Promise<void> {
  await updateSettings(db, { federationMode: mode });
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
