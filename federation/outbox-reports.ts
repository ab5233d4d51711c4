// Reports on the wire. A report about a post in a remote community goes to
// that community as Lemmy sends it (`Flag` from the reporter, `to` the
// community); one the reporter asked to forward goes to the reported
// content's server as Mastodon sends it (`Flag` from the instance actor,
// naming the account and its posts, the reporter unnamed). Closing a report
// another server sent us answers it with Lemmy's `Resolve`. Nothing about
// local content in a local community leaves, and a visitor's address never.
import type { Context } from "@fedify/fedify";
import { Activity, Flag } from "@fedify/fedify/vocab";
import type { Db } from "../db/schema.ts";
import { INSTANCE_IDENTIFIER } from "../src/actors/instance.ts";
import type { AppContext } from "../src/context.ts";
import { newId } from "../src/ids.ts";
import { REPORT_CATEGORIES } from "../src/moderation/reports.ts";
import { moderationActivityIri } from "../src/urls.ts";
import { recipient, sendTo } from "./send.ts";

/** A report with its reporter, the person reported, the resolver and whether its community is ours. */
function reportRow(db: Db, reportId: string) {
  return db
    .selectFrom("reports")
    .leftJoin("actors as reporter", "reporter.id", "reports.reporter_id")
    .leftJoin("actors as target", "target.id", "reports.target_actor_id")
    .leftJoin("actors as resolver", "resolver.id", "reports.resolved_by")
    .leftJoin("actors as community", "community.id", "reports.community_id")
    .select([
      "reports.iri",
      "reports.category",
      "reports.comment",
      "reports.forward",
      "reports.remote",
      "reports.status",
      "reporter.iri as reporterIri",
      "reporter.local as reporterLocal",
      "reporter.username_key as reporterKey",
      "reporter.inbox_url as reporterInbox",
      "reporter.shared_inbox_url as reporterSharedInbox",
      "target.iri as targetIri",
      "target.local as targetLocal",
      "target.host as targetHost",
      "target.inbox_url as targetInbox",
      "target.shared_inbox_url as targetSharedInbox",
      "resolver.iri as resolverIri",
      "resolver.local as resolverLocal",
      "resolver.username_key as resolverKey",
      "community.iri as communityIri",
      "community.local as communityLocal",
    ])
    .where("reports.id", "=", reportId)
    .executeTakeFirst();
}

/** The posts a report names, with their authors and communities. */
function reportedPosts(db: Db, reportId: string) {
  return db
    .selectFrom("report_posts")
    .innerJoin("posts", "posts.id", "report_posts.post_id")
    .innerJoin("actors as author", "author.id", "posts.author_id")
    .leftJoin("actors as community", "community.id", "posts.community_id")
    .select([
      "posts.iri",
      "author.iri as authorIri",
      "author.local as authorLocal",
      "author.host as authorHost",
      "author.inbox_url as authorInbox",
      "author.shared_inbox_url as authorSharedInbox",
      "community.iri as communityIri",
      "community.local as communityLocal",
      "community.host as communityHost",
      "community.inbox_url as communityInbox",
      "community.shared_inbox_url as communitySharedInbox",
    ])
    .where("report_posts.report_id", "=", reportId)
    .orderBy("posts.id")
    .execute();
}

/** Our Flag's IRI for the first `Flag` of a report (a `Resolve` names it), a fragment of it for any further one. */
function flagIds(iri: string) {
  let n = 0;
  return () => new URL(++n === 1 ? iri : `${iri}#${n}`);
}

export async function reportFiled(ctx: Context<AppContext>, reportId: string): Promise<void> {
  const report = await reportRow(ctx.data.db, reportId);
  if (!report?.iri || report.remote === 1) return;
  const posts = await reportedPosts(ctx.data.db, reportId);
  const nextId = flagIds(report.iri);
  // The reporter's words, or the reason they chose when they wrote none; never their contact address.
  const text = report.comment || REPORT_CATEGORIES[report.category] || "";
  const instance = { iri: ctx.getActorUri(INSTANCE_IDENTIFIER), key: INSTANCE_IDENTIFIER };
  const reporter =
    report.reporterLocal === 1 && report.reporterIri && report.reporterKey
      ? { iri: new URL(report.reporterIri), key: report.reporterKey }
      : instance;

  // Lemmy: each post in a remote community is reported to that community, by the member who reported it.
  const reached = new Set<string>();
  for (const p of posts) {
    if (p.communityLocal !== 0 || !p.communityIri || !p.communityHost) continue;
    const community = new URL(p.communityIri);
    const flag = new Flag({
      id: nextId(),
      actor: reporter.iri,
      object: new URL(p.iri),
      tos: [community],
      summary: text,
      content: text,
      audience: community,
    });
    await sendTo(
      ctx,
      { identifier: reporter.key },
      recipient(p.communityIri, p.communityInbox, p.communitySharedInbox),
      flag,
    );
    reached.add(p.communityHost);
  }
  if (report.forward !== 1) return;

  // Mastodon: one Flag per server, naming the account and its posts there, from the instance.
  const servers = new Map<string, { to: ReturnType<typeof recipient>; objects: URL[] }>();
  if (report.targetLocal === 0 && report.targetIri && report.targetHost)
    servers.set(report.targetHost, {
      to: recipient(report.targetIri, report.targetInbox, report.targetSharedInbox),
      objects: [new URL(report.targetIri)],
    });
  for (const p of posts) {
    if (p.authorLocal !== 0) continue;
    const server = servers.get(p.authorHost) ?? {
      to: recipient(p.authorIri, p.authorInbox, p.authorSharedInbox),
      objects: [],
    };
    server.objects.push(new URL(p.iri));
    servers.set(p.authorHost, server);
  }
  for (const [host, server] of servers) {
    // A server that got Lemmy's Flag has the report already.
    if (reached.has(host)) continue;
    const flag = new Flag({
      id: nextId(),
      actor: instance.iri,
      objects: server.objects,
      content: text,
      tos: [server.to.id as URL],
    });
    await sendTo(ctx, { identifier: instance.key }, server.to, flag);
  }
}

/**
 * A report another server sent us (its `Flag`), resolved or dismissed here:
 * Lemmy's `Resolve`, naming the `Flag`, goes back to the reporter, from the
 * moderator who closed it (the instance actor when no person did).
 */
export async function reportClosed(ctx: Context<AppContext>, reportId: string): Promise<void> {
  const report = await reportRow(ctx.data.db, reportId);
  if (!report?.iri || report.remote !== 1 || (report.status !== "resolved" && report.status !== "dismissed")) return;
  if (!report.reporterIri || report.reporterLocal !== 0) return;
  const posts = await reportedPosts(ctx.data.db, reportId);
  const resolver =
    report.resolverLocal === 1 && report.resolverIri && report.resolverKey
      ? { iri: new URL(report.resolverIri), key: report.resolverKey }
      : { iri: ctx.getActorUri(INSTANCE_IDENTIFIER), key: INSTANCE_IDENTIFIER };
  // Lemmy addresses both to the community the report was about (its `to` must name it).
  const community = report.communityLocal === 1 && report.communityIri ? new URL(report.communityIri) : null;
  const addressing = community ? { tos: [community], audience: community } : { tos: [new URL(report.reporterIri)] };
  const reported =
    posts.length === 1 && posts[0]
      ? { object: new URL(posts[0].iri) }
      : {
          objects: [...(report.targetIri ? [report.targetIri] : []), ...posts.map((p) => p.iri)].map((i) => new URL(i)),
        };
  const flag = new Flag({ id: new URL(report.iri), actor: new URL(report.reporterIri), ...reported, ...addressing });
  // Fedify has no `Resolve`: a plain Activity whose id names the kind, typed on the wire (wire.ts).
  const resolve = new Activity({
    id: new URL(moderationActivityIri(ctx.data.config.origin, "resolve", newId())),
    actor: resolver.iri,
    object: flag,
    ...addressing,
  });
  await sendTo(
    ctx,
    { identifier: resolver.key },
    recipient(report.reporterIri, report.reporterInbox, report.reporterSharedInbox),
    resolve,
  );
}
