// Members' own controls over what reaches them: mute or block a person, or
// block a whole server. Muted and blocked people's posts are hidden from the
// member's pages; a block also drops their direct messages to the member, and
// a server block ends the member's follows with that server.
import { type Expression, type ExpressionBuilder, sql } from "kysely";
import type { Database, Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { forbidden, notFound, parseInput } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { newId, now } from "../ids.ts";
import { domainSchema } from "../policy/domains.ts";

export type PersonFilter = "mute" | "block";

export async function filterPerson(db: Db, userId: string, targetActorId: string, kind: PersonFilter): Promise<void> {
  if (userId === targetActorId) throw forbidden("you cannot mute or block yourself");
  const target = await db.selectFrom("actors").select("id").where("id", "=", targetActorId).executeTakeFirst();
  if (!target) throw notFound("person");
  await inTransaction(db, async (trx) => {
    await trx
      .deleteFrom("member_filters")
      .where("user_id", "=", userId)
      .where("target_actor_id", "=", targetActorId)
      .execute();
    await trx
      .insertInto("member_filters")
      .values({
        id: newId(),
        user_id: userId,
        kind,
        target_actor_id: targetActorId,
        target_domain: null,
        created_at: now(),
      })
      .execute();
  });
}

export async function unfilterPerson(db: Db, userId: string, targetActorId: string): Promise<void> {
  await db
    .deleteFrom("member_filters")
    .where("user_id", "=", userId)
    .where("target_actor_id", "=", targetActorId)
    .execute();
}

/** Blocks a whole server for one member: hidden, and the member's follows with it end (federated Undo). */
export async function blockServer(db: Db, userId: string, domain: string): Promise<{ followsEnded: number }> {
  const d = parseInput(domainSchema, domain);
  return inTransaction(db, async (trx) => {
    const exists = await trx
      .selectFrom("member_filters")
      .select("id")
      .where("user_id", "=", userId)
      .where("target_domain", "=", d)
      .executeTakeFirst();
    if (!exists)
      await trx
        .insertInto("member_filters")
        .values({
          id: newId(),
          user_id: userId,
          kind: "block_domain",
          target_actor_id: null,
          target_domain: d,
          created_at: now(),
        })
        .execute();
    const follows = await trx
      .selectFrom("follows")
      .innerJoin("actors", "actors.id", "follows.followee_id")
      .select(["follows.iri", "follows.followee_id"])
      .where("follows.follower_id", "=", userId)
      .where((eb) => eb.or([eb("actors.host", "=", d), eb("actors.host", "like", `%.${d}`)]))
      .execute();
    for (const f of follows) {
      await trx
        .deleteFrom("follows")
        .where("follower_id", "=", userId)
        .where("followee_id", "=", f.followee_id)
        .execute();
      await recordEvent(trx, {
        type: "follow.undone",
        followIri: f.iri,
        followerId: userId,
        followeeId: f.followee_id,
      });
    }
    return { followsEnded: follows.length };
  });
}

export async function unblockServer(db: Db, userId: string, domain: string): Promise<void> {
  const d = parseInput(domainSchema, domain);
  await db.deleteFrom("member_filters").where("user_id", "=", userId).where("target_domain", "=", d).execute();
}

export async function listFilters(db: Db, userId: string) {
  return db
    .selectFrom("member_filters")
    .leftJoin("actors", "actors.id", "member_filters.target_actor_id")
    .select([
      "member_filters.kind",
      "member_filters.target_domain as domain",
      "actors.id as actorId",
      "actors.username",
      "actors.host",
      "actors.local",
    ])
    .where("member_filters.user_id", "=", userId)
    .orderBy("member_filters.created_at", "desc")
    .execute();
}

export async function filterOf(db: Db, userId: string, targetActorId: string): Promise<PersonFilter | null> {
  const row = await db
    .selectFrom("member_filters")
    .select("kind")
    .where("user_id", "=", userId)
    .where("target_actor_id", "=", targetActorId)
    .executeTakeFirst();
  return row?.kind === "mute" || row?.kind === "block" ? row.kind : null;
}

/** Whether `userId` refuses messages from `authorId` (a block of them or of their server). */
export async function refusesMessagesFrom(db: Db, userId: string, authorId: string): Promise<boolean> {
  const author = await db.selectFrom("actors").select("host").where("id", "=", authorId).executeTakeFirst();
  if (!author) return false;
  const row = await db
    .selectFrom("member_filters")
    .select("id")
    .where("user_id", "=", userId)
    .where((eb) =>
      eb.or([
        eb.and([eb("kind", "=", "block"), eb("target_actor_id", "=", authorId)]),
        eb.and([
          eb("kind", "=", "block_domain"),
          eb.or([
            eb("target_domain", "=", author.host),
            eb(eb.val(author.host), "like", subdomainPattern(eb.ref("target_domain"))),
          ]),
        ]),
      ]),
    )
    .executeTakeFirst();
  return row !== undefined;
}

/** A condition for post queries: the post's author is not hidden from `viewerId`. */
export function notFilteredFor(viewerId: string) {
  return (eb: ExpressionBuilder<Database & { author: Database["actors"] }, "posts" | "author">) =>
    eb.not(
      eb.exists(
        eb
          .selectFrom("member_filters as mf")
          .select("mf.id")
          .where("mf.user_id", "=", viewerId)
          .where((f) =>
            f.or([
              f("mf.target_actor_id", "=", f.ref("posts.author_id")),
              f("mf.target_domain", "=", f.ref("author.host")),
              f(f.ref("author.host"), "like", subdomainPattern(f.ref("mf.target_domain"))),
            ]),
          ),
      ),
    );
}

/**
 * `'%.' || domain`: the LIKE pattern for a domain's subdomains. Written as a
 * literal, because PostgreSQL cannot type a bound parameter inside concat().
 */
const subdomainPattern = (domain: Expression<string | null>) => sql<string>`'%.' || ${domain}`;
