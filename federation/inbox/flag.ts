// Reports from other servers. Mastodon and Misskey send a `Flag` from their
// instance actor naming the account and its posts, the comment in `content`;
// Lemmy from the reporting person, to the community, the post as `object` and
// the comment in `summary`; Mbin both. Lemmy's `Resolve` of a `Flag` we sent
// closes our report.
import type { Context, InboxContext } from "@fedify/fedify";
import type { Flag } from "@fedify/fedify/vocab";
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { htmlToText } from "../../src/content/markdown.ts";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { COMMENT_MAX, receiveReport, receiveReportResolved } from "../../src/moderation/reports.ts";
import { actorIdFor } from "../remote.ts";
import { idOf, originOf } from "../wire.ts";

const log = logger("federation", "inbox", "flag");

/** A report names at most this many things we look up (Mastodon's names an account and a few posts). */
const FLAG_OBJECTS_MAX = 50;

const httpIri = z.string().refine((v) => originOf(v) !== null, "not an http(s) IRI");
const ref = z
  .union([z.string(), z.object({ id: z.string() })])
  .transform((v) => (typeof v === "string" ? v : v.id))
  .pipe(httpIri);

const flag = z.object({
  id: httpIri,
  actor: ref,
  object: z.unknown().transform((v) => (Array.isArray(v) ? v : [v])),
  content: z.string().max(100_000).nullish(),
  summary: z.string().max(100_000).nullish(),
});

const resolve = z.object({ type: z.literal("Resolve"), actor: ref, object: ref });

export async function onFlag(ctx: InboxContext<AppContext>, activity: Flag): Promise<void> {
  await receiveFlag(ctx, await activity.toJsonLd());
}

/** Stores a report (once per Flag id) when it names something of ours; otherwise drops it. */
export async function receiveFlag(ctx: Context<AppContext>, raw: unknown): Promise<void> {
  const parsed = flag.safeParse(raw);
  if (!parsed.success) return log.debug("malformed Flag dropped");
  const report = parsed.data;
  // The comment is never logged: it is someone's words about someone's health.
  if (ctx.data.policy.rejectsReports(report.actor))
    return log.debug("Flag {id} from a server whose reports we reject dropped", { id: report.id });
  const iris = report.object
    .map(idOf)
    .filter((iri): iri is string => iri !== null && originOf(iri) !== null)
    .slice(0, FLAG_OBJECTS_MAX);
  const targets = await ourTargets(ctx.data.db, iris);
  if (targets.postIds.length === 0 && !targets.actorId)
    return log.debug("Flag {id} names nothing of ours; dropped", { id: report.id });
  const reporterId = await actorIdFor(ctx, new URL(report.actor));
  if (!reporterId) return log.debug("Flag {id} from an actor we cannot read dropped", { id: report.id });
  const comment = htmlToText(report.content || report.summary || "").slice(0, COMMENT_MAX);
  const stored = await receiveReport(ctx.data.db, {
    iri: report.id,
    reporterId,
    postIds: targets.postIds,
    actorId: targets.actorId,
    communityId: null,
    comment,
  });
  log.debug(stored ? "Flag {id} stored as report {report}" : "Flag {id} already stored", {
    id: report.id,
    report: stored,
  });
}

/**
 * What a report names that is ours to review: our members' posts, any post
 * in one of our communities, our actors. A person of another server is the
 * one reported only when they wrote one of those posts.
 */
async function ourTargets(db: Db, iris: string[]): Promise<{ postIds: string[]; actorId: string | null }> {
  if (iris.length === 0) return { postIds: [], actorId: null };
  const posts = await db
    .selectFrom("posts")
    .leftJoin("communities", "communities.actor_id", "posts.community_id")
    .select(["posts.id", "posts.author_id", "posts.local", "communities.actor_id as localCommunity"])
    .where("posts.iri", "in", iris)
    .where("posts.deleted_at", "is", null)
    .execute();
  const ours = posts.filter((p) => p.local === 1 || p.localCommunity !== null);
  const actors = await db
    .selectFrom("actors")
    .select(["id", "local"])
    .where("iri", "in", iris)
    .where("deleted_at", "is", null)
    .execute();
  const authors = new Set(ours.map((p) => p.author_id));
  const actor = actors.find((a) => a.local === 1) ?? actors.find((a) => authors.has(a.id));
  return { postIds: ours.map((p) => p.id), actorId: actor?.id ?? null };
}

/** Lemmy's `Resolve{Flag}`: the server we reported to closed it; the domain checks it is that server. */
export async function receiveResolve(ctx: Context<AppContext>, raw: unknown): Promise<void> {
  const parsed = resolve.safeParse(raw);
  if (!parsed.success) return log.debug("malformed Resolve dropped");
  const resolved = await receiveReportResolved(ctx.data.db, {
    iri: parsed.data.object,
    resolverHost: new URL(parsed.data.actor).host,
  });
  log.debug(resolved ? "Resolve of {flag} closed our report" : "Resolve of {flag} matched no open report of ours", {
    flag: parsed.data.object,
  });
}
