import type { ExpressionBuilder } from "kysely";
import { z } from "zod";
import type { Database, Db, JoinPolicy, Visibility } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { handleSchema, RESERVED_NAMES, SYSTEM_NAMES } from "../accounts/names.ts";
import { assertNameFree } from "../accounts/service.ts";
import { renderMarkdown } from "../content/markdown.ts";
import { conflict, DomainError, forbidden, invalid, notFound, parseInput } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { newId, now } from "../ids.ts";
import { getSettings } from "../instance/settings.ts";
import { parseDomainList } from "../policy/domains.ts";
import { actorIri, followIri, hostOf } from "../urls.ts";

export const communitySettingsInput = z.object({
  name: z.string().trim().min(1, "is required").max(100, "must be at most 100 characters"),
  description: z.string().max(10_000, "must be at most 10000 characters").default(""),
  rules: z.string().max(10_000, "must be at most 10000 characters").default(""),
  visibility: z.enum(["public", "members"]).default("public"),
  join: z.enum(["open", "approval"]).default("open"),
  federation: z.enum(["federated", "local"]).default("federated"),
  /** The only servers to federate with, one domain per line; empty for any. */
  allowedServers: z
    .string()
    .max(20_000)
    .default("")
    .transform((text, ctx) => {
      const { domains, invalid } = parseDomainList(text);
      if (invalid.length > 0)
        ctx.addIssue({ code: "custom", message: `not domain names: ${invalid.slice(0, 5).join(", ")}` });
      return domains.join("\n");
    }),
  /** Threads older than this many days are deleted (with federated Deletes); empty keeps them. */
  retentionDays: z
    .union([z.string(), z.number(), z.null()])
    .default(null)
    .transform((v, ctx) => {
      const text = v === null ? "" : String(v).trim();
      if (text === "") return null;
      if (!/^\d+$/.test(text)) {
        ctx.addIssue({ code: "custom", message: "must be a whole number of days" });
        return z.NEVER;
      }
      const days = Number(text);
      if (days < 1 || days > 36_500) {
        ctx.addIssue({ code: "custom", message: "must be from 1 to 36500 days" });
        return z.NEVER;
      }
      return days;
    }),
  /** Members who erase their account may leave their posts here, anonymized. */
  allowAnonymize: z.boolean().default(false),
  /** lemmy#1580: the public moderation log says "a moderator"; left unchanged when not given. */
  hideModlogNames: z.boolean().optional(),
});

export const createCommunityInput = communitySettingsInput.extend({
  slug: handleSchema,
});
export type CreateCommunityInput = z.input<typeof createCommunityInput>;

/** What the community form calls its fields, so an error names the field the person sees. */
const FORM_LABELS: Record<string, string> = { slug: "Handle" };

/** Re-words a validation error's message with the form's labels; the per-field errors keep their keys. */
function withFormLabels<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    const message = Object.entries(e.fields)
      .map(([k, v]) => `${FORM_LABELS[k] ?? k}: ${v}`)
      .join("; ");
    throw invalid(message, e.fields);
  }
}

interface Creator {
  actorId: string;
  role: "admin" | "member";
}

/** Whether `user` may create communities under the instance setting. */
export async function mayCreateCommunity(db: Db, user: Creator): Promise<boolean> {
  if (user.role === "admin") return true;
  return (await getSettings(db)).communityCreation === "members";
}

/**
 * Creates a community: a Group actor with its settings; the creator becomes
 * its first moderator and member.
 */
export async function createCommunity(
  db: Db,
  origin: string,
  creator: Creator,
  input: CreateCommunityInput,
  options: { allowReserved?: boolean } = {},
) {
  const data = withFormLabels(() => parseInput(createCommunityInput, input));
  if (!(await mayCreateCommunity(db, creator))) throw forbidden("only admins may create communities on this instance");
  const key = data.slug.toLowerCase();
  if (SYSTEM_NAMES.has(key) || (!options.allowReserved && RESERVED_NAMES.has(key))) {
    throw conflict(`the name "${data.slug}" is reserved`, { slug: "is reserved" });
  }
  const host = hostOf(origin);
  const id = newId();
  const ts = now();
  const iri = actorIri(origin, key);
  await inTransaction(db, async (trx) => {
    await assertNameFree(trx, host, key, data.slug).catch((e) => {
      throw e instanceof DomainError ? conflict(e.message, { slug: "is already taken" }) : e;
    });
    await trx
      .insertInto("actors")
      .values({
        id,
        iri,
        type: "Group",
        username: key,
        username_key: key,
        host,
        local: 1,
        name: data.name,
        summary_html: data.description.trim() ? renderMarkdown(data.description, origin) : null,
        url: iri,
        inbox_url: `${iri}/inbox`,
        shared_inbox_url: `${origin}/inbox`,
        outbox_url: `${iri}/outbox`,
        followers_url: `${iri}/followers`,
        following_url: `${iri}/following`,
        featured_url: `${iri}/featured`,
        avatar_url: null,
        manually_approves_followers: approvesFollowers(data.join, data.visibility),
        discoverable: data.federation === "federated" && data.visibility === "public" ? 1 : 0,
        created_at: ts,
        updated_at: ts,
        fetched_at: null,
        deleted_at: null,
      })
      .execute();
    await trx
      .insertInto("communities")
      .values({
        actor_id: id,
        description_source: data.description,
        rules_source: data.rules,
        rules_html: data.rules.trim() ? renderMarkdown(data.rules, origin) : "",
        visibility: data.visibility,
        join_policy: data.join,
        federation: data.federation,
        retention_days: data.retentionDays,
        allowed_servers: data.allowedServers,
        allow_anonymize: data.allowAnonymize ? 1 : 0,
        hide_modlog_names: data.hideModlogNames ? 1 : 0,
        created_by: creator.actorId,
        created_at: ts,
      })
      .execute();
    await trx
      .insertInto("community_moderators")
      .values({ community_id: id, actor_id: creator.actorId, created_at: ts })
      .execute();
    const followId = newId();
    await trx
      .insertInto("follows")
      .values({
        id: followId,
        iri: followIri(origin, followId),
        follower_id: creator.actorId,
        followee_id: id,
        status: "accepted",
        created_at: ts,
        accepted_at: ts,
      })
      .execute();
  });
  return { actorId: id, slug: key, iri };
}

/** A members-only community always vets its followers, whatever the join policy. */
/** Whether joining needs a moderator's approval (members-only communities always do). */
export const approvesFollowers = (join: JoinPolicy, visibility: Visibility) =>
  join === "approval" || visibility === "members" ? 1 : 0;

export async function updateCommunity(
  db: Db,
  origin: string,
  communityId: string,
  input: z.input<typeof communitySettingsInput>,
) {
  const data = parseInput(communitySettingsInput, input);
  const ts = now();
  await inTransaction(db, async (trx) => {
    await trx
      .updateTable("actors")
      .set({
        name: data.name,
        summary_html: data.description.trim() ? renderMarkdown(data.description, origin) : null,
        manually_approves_followers: approvesFollowers(data.join, data.visibility),
        discoverable: data.federation === "federated" && data.visibility === "public" ? 1 : 0,
        updated_at: ts,
      })
      .where("id", "=", communityId)
      .execute();
    await trx
      .updateTable("communities")
      .set({
        description_source: data.description,
        rules_source: data.rules,
        rules_html: data.rules.trim() ? renderMarkdown(data.rules, origin) : "",
        visibility: data.visibility,
        join_policy: data.join,
        federation: data.federation,
        allowed_servers: data.allowedServers,
        retention_days: data.retentionDays,
        allow_anonymize: data.allowAnonymize ? 1 : 0,
        ...(data.hideModlogNames === undefined ? {} : { hide_modlog_names: data.hideModlogNames ? 1 : 0 }),
      })
      .where("actor_id", "=", communityId)
      .execute();
    // Posts follow the community's visibility: members-only posts go to followers, never Public.
    if (data.visibility === "members") {
      await trx
        .updateTable("posts")
        .set({ audience: "followers" })
        .where("community_id", "=", communityId)
        .where("audience", "in", ["public", "unlisted"])
        .execute();
    } else {
      await trx
        .updateTable("posts")
        .set({ audience: "public" })
        .where("community_id", "=", communityId)
        .where("audience", "=", "followers")
        .execute();
    }
    await recordEvent(trx, { type: "actor.updated", actorId: communityId });
  });
}

const communityColumns = [
  "actors.id",
  "actors.iri",
  "actors.username as slug",
  "actors.name",
  "actors.summary_html as descriptionHtml",
  "actors.avatar_url as avatarUrl",
  "actors.local",
  "actors.host",
  "actors.created_at as createdAt",
  "communities.description_source as descriptionSource",
  "communities.rules_source as rulesSource",
  "communities.rules_html as rulesHtml",
  "communities.visibility",
  "communities.join_policy as joinPolicy",
  "communities.federation",
  "communities.retention_days as retentionDays",
  "communities.allowed_servers as allowedServers",
  "communities.allow_anonymize as allowAnonymize",
  "communities.hide_modlog_names as hideModlogNames",
] as const;

export type Community = NonNullable<Awaited<ReturnType<typeof findCommunity>>>;

/** A local community by slug (case-insensitive). */
export async function findCommunity(db: Db, slug: string) {
  return db
    .selectFrom("communities")
    .innerJoin("actors", "actors.id", "communities.actor_id")
    .select(communityColumns)
    .where("actors.username_key", "=", slug.toLowerCase())
    .where("actors.local", "=", 1)
    .where("actors.deleted_at", "is", null)
    .executeTakeFirst();
}

/**
 * A community by its handle as used in our URLs: `slug` for a local one,
 * `name@host` for a remote Group we know. Remote ones get the settings we
 * can tell from outside (public; approval when the group vets followers).
 */
export async function findCommunityByHandle(db: Db, handle: string): Promise<Community | undefined> {
  const at = handle.lastIndexOf("@");
  if (at <= 0) return findCommunity(db, handle);
  const row = await db
    .selectFrom("actors")
    .selectAll()
    .where("username_key", "=", handle.slice(0, at).toLowerCase())
    .where("host", "=", handle.slice(at + 1).toLowerCase())
    .where("local", "=", 0)
    .where("type", "=", "Group")
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    iri: row.iri,
    slug: `${row.username}@${row.host}`,
    name: row.name,
    descriptionHtml: row.summary_html,
    avatarUrl: row.avatar_url,
    local: 0,
    host: row.host,
    createdAt: row.created_at,
    descriptionSource: "",
    rulesSource: "",
    rulesHtml: "",
    visibility: "public",
    joinPolicy: row.manually_approves_followers === 1 ? "approval" : "open",
    federation: "federated",
    retentionDays: null,
    allowedServers: "",
    allowAnonymize: 0,
    hideModlogNames: 0,
  };
}

export async function getCommunity(db: Db, handle: string) {
  const community = await findCommunityByHandle(db, handle);
  if (!community) throw notFound(`community "${handle}"`);
  return community;
}

export async function memberCount(db: Db, communityId: string): Promise<number> {
  const row = await db
    .selectFrom("follows")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("followee_id", "=", communityId)
    .where("status", "=", "accepted")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A community row's accepted members, counted (a count is never a list of who). */
export const memberCountOf = (eb: ExpressionBuilder<Database, "actors">) =>
  eb
    .selectFrom("follows")
    .select((e) => e.fn.countAll<string | number>().as("n"))
    .whereRef("follows.followee_id", "=", "actors.id")
    .where("follows.status", "=", "accepted")
    .as("members");

/** Communities for `community list`, newest first, with member and thread counts. */
export async function listCommunities(db: Db, options: { cursor?: string; limit?: number } = {}) {
  const limit = options.limit ?? 50;
  let q = db
    .selectFrom("communities")
    .innerJoin("actors", "actors.id", "communities.actor_id")
    .select(communityColumns)
    .select((eb) => [
      memberCountOf(eb),
      eb
        .selectFrom("posts")
        .select((e) => e.fn.countAll<string | number>().as("n"))
        .whereRef("posts.community_id", "=", "actors.id")
        .where("posts.parent_id", "is", null)
        .where("posts.deleted_at", "is", null)
        .as("threads"),
    ])
    .where("actors.deleted_at", "is", null)
    .orderBy("actors.id", "desc")
    .limit(limit + 1);
  if (options.cursor) q = q.where("actors.id", "<", options.cursor);
  const rows = await q.execute();
  const page = rows
    .slice(0, limit)
    .map((r) => ({ ...r, members: Number(r.members ?? 0), threads: Number(r.threads ?? 0) }));
  return { items: page, nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}

/**
 * The other servers that hear of what happens in a local community: the hosts
 * of its remote members, which its activities (posts, deletions, moderation) reach.
 */
export async function followerServers(db: Db, communityId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("follows")
    .innerJoin("actors", "actors.id", "follows.follower_id")
    .select("actors.host")
    .distinct()
    .where("follows.followee_id", "=", communityId)
    .where("follows.status", "=", "accepted")
    .where("actors.local", "=", 0)
    .orderBy("actors.host")
    .execute();
  return rows.map((r) => r.host);
}
