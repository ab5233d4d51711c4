// Reports (DSA Art. 16 notices) over the web: the form for a post (members,
// and visitors for public posts) or a person (members), the confirmation
// saying who reviews it, and the review queues: one per community for its
// moderators, one for the instance's admins.
import { Hono } from "hono";
import type { FormState } from "../../views/pages/auth.ts";
import {
  type ReportCard,
  type ReportTarget,
  reportPage,
  reportQueuePage,
  reportSentPage,
} from "../../views/pages/reports.ts";
import { findLocalUser } from "../accounts/service.ts";
import { findRemoteActorByHandle } from "../actors/remote.ts";
import { communityOfPost } from "../communities/membership.ts";
import { getCommunity } from "../communities/service.ts";
import { htmlToText } from "../content/markdown.ts";
import { conflict, DomainError, forbidden, invalid, notFound } from "../errors.ts";
import { readablePost } from "../posts/queries.ts";
import { clientIp } from "../web/client-ip.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { AT, formFields, handleOf } from "../web/forms.ts";
import { consume } from "../web/rate-limit.ts";
import { requireAdmin, requireUser } from "../web/session.ts";
import { type Acting, isCommunityModerator, mayModerate } from "./authority.ts";
import { listReports, type QueueScope, type ReportItem } from "./queues.ts";
import { COMMENT_MAX, closeReport, fileReport, findReport, REPORT_CATEGORIES } from "./reports.ts";

export const reportRoutes = new Hono<WebEnv>();

const categories = Object.entries(REPORT_CATEGORIES).map(([value, label]) => ({ value, label }));
const PAGE = 25;
/** Reports one member or one address may send in an hour: plenty for people, little for a flood. */
const REPORTS_PER_HOUR = { member: 30, visitor: 10 };

const handle = (username: string, host: string, local: boolean | number) =>
  local === true || local === 1 ? `@${username}` : `@${username}@${host}`;
const excerpt = (contentHtml: string, summary: string | null) => {
  if (summary) return `Content warning: ${summary}`;
  const text = htmlToText(contentHtml);
  return text.length > 280 ? `${text.slice(0, 279)}…` : text;
};

/** The post reported, as the reporter may read it: visitors report public posts only. */
async function reportedPost(c: WebContext): Promise<{ id: string; target: ReportTarget }> {
  const app = c.get("app");
  const viewer = c.get("user");
  const post = await readablePost(app.db, c.req.param("id") ?? "", viewer?.actorId);
  if (post.deletedAt || (!viewer && post.audience !== "public")) throw notFound("post");
  // Already dealt with; and its text is for its author and the moderators only, not for this form.
  if (post.removedAt) throw conflict("the moderators already removed this post");
  if (viewer && post.authorId === viewer.actorId) throw forbidden("you cannot report your own post");
  const community = post.communityId ? await communityOfPost(app.db, post.communityId) : undefined;
  const communityServer = community?.slug.includes("@") ? community.slug.slice(community.slug.indexOf("@") + 1) : null;
  const servers = [...new Set([post.authorLocal ? null : post.authorHost, communityServer])].filter(
    (s): s is string => s !== null,
  );
  const author = handle(post.authorUsername, post.authorHost, post.authorLocal);
  const label =
    post.audience === "direct"
      ? `a direct message from ${author}`
      : post.parentId
        ? `a reply by ${author}`
        : `“${post.title ?? "(untitled)"}” by ${author}`;
  return {
    id: post.id,
    target: {
      kind: "post",
      action: `/posts/${post.id}/report`,
      label,
      href: post.parentId ? `/posts/${post.threadId}#post-${post.id}` : `/posts/${post.id}`,
      excerpt: excerpt(post.contentHtml, post.summary),
      reviewers:
        community && !communityServer
          ? `the moderators of ${community.name ?? community.slug}`
          : `the admins of ${app.config.instanceName}`,
      forward:
        servers.length > 0
          ? { servers, communityServer, reporterHandle: viewer ? `@${viewer.username}@${hostOf(c)}` : null }
          : null,
      visitor: !viewer,
    },
  };
}

const hostOf = (c: WebContext) => new URL(c.get("app").config.origin).host;

/** The person reported (members only): a local member or someone on another server. */
async function reportedPerson(c: WebContext): Promise<{ id: string; target: ReportTarget }> {
  const user = requireUser(c);
  const db = c.get("app").db;
  const name = handleOf(c);
  const at = name.lastIndexOf("@");
  const remote = at > 0 ? await findRemoteActorByHandle(db, name.slice(0, at), name.slice(at + 1)) : undefined;
  const person =
    at > 0
      ? remote && remote.type !== "Group" && !remote.deleted_at
        ? { id: remote.id, host: remote.host }
        : undefined
      : await findLocalUser(db, name).then((u) => (u ? { id: u.actorId, host: null } : undefined));
  if (!person) throw notFound(`@${name}`);
  if (person.id === user.actorId) throw forbidden("you cannot report yourself");
  return {
    id: person.id,
    target: {
      kind: "person",
      action: `/@${name}/report`,
      label: `@${name}`,
      href: `/@${name}`,
      excerpt: null,
      reviewers: `the admins of ${c.get("app").config.instanceName}`,
      forward: person.host
        ? { servers: [person.host], communityServer: null, reporterHandle: `@${user.username}@${hostOf(c)}` }
        : null,
      visitor: false,
    },
  };
}

type Resolve = (c: WebContext) => Promise<{ id: string; target: ReportTarget }>;

/** The form, its submission and the confirmation, for posts and for people alike. */
function reportForm(path: string, resolve: Resolve, report: (id: string) => { postIds?: string[]; actorId?: string }) {
  const render = (c: WebContext, target: ReportTarget, state: FormState = {}, status: 200 | 422 = 200) =>
    c.html(reportPage(pageContext(c), target, categories, state), status);
  reportRoutes.get(path, async (c) => render(c, (await resolve(c)).target));
  reportRoutes.post(path, async (c) => {
    const app = c.get("app");
    const viewer = c.get("user");
    const { id, target } = await resolve(c);
    const form = await formFields(c);
    const who = viewer ? `report:member:${viewer.actorId}` : `report:ip:${clientIp(c)}`;
    await consume(app.db, who, viewer ? REPORTS_PER_HOUR.member : REPORTS_PER_HOUR.visitor, 3_600_000);
    const forward = target.forward !== null && form.forward === "1";
    try {
      await fileReport(app.db, app.config.origin, {
        reporterId: viewer?.actorId ?? null,
        ...report(id),
        category: form.category ?? "",
        comment: form.comment,
        contact: viewer ? undefined : form.contact,
        forward,
      });
    } catch (e) {
      if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
      return render(c, target, { values: form, errors: e.fields, message: e.message }, 422);
    }
    return c.redirect(`${c.req.path}/sent${forward ? "?forwarded=1" : ""}`, 303);
  });
  reportRoutes.get(`${path}/sent`, async (c) => {
    const { target } = await resolve(c).catch((e) => {
      // Reporting one's own content is refused, but the page after it never is.
      if (e instanceof DomainError && e.code === "forbidden") throw notFound("report");
      throw e;
    });
    const forwarded = c.req.query("forwarded") === "1" && target.forward ? target.forward.servers : [];
    return c.html(
      reportSentPage(pageContext(c), {
        reviewers: target.reviewers,
        forwardedTo: forwarded,
        back: target.href ?? "/",
        visitor: target.visitor,
      }),
    );
  });
}

reportForm("/posts/:id/report", reportedPost, (id) => ({ postIds: [id] }));
reportForm(`${AT}/report`, reportedPerson, (id) => ({ actorId: id }));

// The queues.

const STATUSES = ["open", "resolved", "dismissed"] as const;
type Status = (typeof STATUSES)[number];

function statusOf(c: WebContext): Status {
  const s = c.req.query("status") ?? "open";
  if (!(STATUSES as readonly string[]).includes(s))
    throw invalid("status: must be open, resolved or dismissed", { status: "must be open, resolved or dismissed" });
  return s as Status;
}

/** A local community's queue: its moderators, and the instance's admins, acting as what they are. */
export async function reviewing(
  c: WebContext,
): Promise<{ community: { id: string; slug: string; name: string }; acting: Acting }> {
  const user = requireUser(c);
  const db = c.get("app").db;
  const community = await getCommunity(db, handleOf(c));
  // Reports about remote communities are reviewed by our admins, in /admin/reports.
  if (community.local !== 1) throw notFound(`community "${handleOf(c)}"`);
  if (!(await mayModerate(db, community.id, user.actorId)))
    throw forbidden("only moderators of this community can do this");
  const role = (await isCommunityModerator(db, community.id, user.actorId)) ? "moderator" : "admin";
  return {
    community: { id: community.id, slug: community.slug, name: community.name ?? community.slug },
    acting: { role, actorId: user.actorId },
  };
}

/** A reported post: what it was, where to read it, and the moderators' remove link while the report is open. */
function postCard(r: ReportItem, p: ReportItem["posts"][number]): ReportCard["posts"][number] {
  const thread = p.id === p.threadId;
  const readable = !p.deletedAt && p.audience !== "direct";
  const title = p.title ? `“${p.title}”` : thread ? "a thread" : "a reply";
  return {
    label: p.audience === "direct" ? "a direct message" : title,
    excerpt: p.deletedAt ? "" : excerpt(p.contentHtml, p.summary),
    // Reviewers cannot open a direct message's page: its excerpt is all they get.
    href: !readable ? null : thread ? `/posts/${p.id}` : `/posts/${p.threadId}#post-${p.id}`,
    state: p.deletedAt ? "deleted" : p.removedAt ? "removed" : null,
    removeHref:
      r.communityId && readable && !p.removedAt && r.status === "open" ? `/posts/${p.id}/remove?report=${r.id}` : null,
  };
}

function reportCard(r: ReportItem, closeAction: string): ReportCard {
  const server = r.reporterType === "Application" || r.reporterType === "Service";
  const reporter =
    r.reporterUsername === null
      ? "a visitor"
      : server && r.reporterLocal !== 1
        ? `the server ${r.reporterHost}`
        : handle(r.reporterUsername, r.reporterHost ?? "", r.reporterLocal ?? 0);
  const communitySlug = r.communityUsername
    ? r.communityLocal === 1
      ? r.communityUsername
      : `${r.communityUsername}@${r.communityHost}`
    : null;
  const person = r.targetUsername ? handle(r.targetUsername, r.targetHost ?? "", r.targetLocal ?? 0) : null;
  return {
    id: r.id,
    category: REPORT_CATEGORIES[r.category] ?? r.category,
    comment: r.comment,
    reporter,
    contact: r.contact,
    remote: r.remote === 1,
    forward: r.forward === 1,
    createdAt: r.createdAt,
    status: r.status,
    note: r.note,
    resolvedAt: r.resolvedAt,
    community: communitySlug ? { slug: communitySlug, href: `/@${communitySlug}` } : null,
    person:
      person && r.targetId
        ? {
            handle: person,
            href: `/${person}`,
            banHref:
              r.communityLocal === 1 && r.status === "open"
                ? `/@${communitySlug}/ban/${r.targetId}?report=${r.id}`
                : null,
          }
        : null,
    posts: r.posts.map((p) => postCard(r, p)),
    closeAction,
  };
}

async function renderQueue(c: WebContext, scope: QueueScope, title: string, base: string) {
  const status = statusOf(c);
  const cursor = c.req.query("cursor");
  const page = await listReports(c.get("app").db, scope, { status, cursor, limit: PAGE });
  const appeals = base.replace(/reports$/, "appeals");
  // A reviewer who is reported never sees who reported them: those go to the others.
  const viewerId = c.get("user")?.actorId;
  return c.html(
    reportQueuePage(pageContext(c), {
      title,
      base,
      status,
      items: page.items.filter((r) => r.targetId !== viewerId).map((r) => reportCard(r, `${base}/${r.id}`)),
      nextHref: page.nextCursor ? `${base}?status=${status}&cursor=${encodeURIComponent(page.nextCursor)}` : null,
      related: [{ href: appeals, label: "Appeals" }],
    }),
  );
}

/** Resolves or dismisses a report with the reviewer's note for the reporter. */
async function close(c: WebContext, acting: Acting, report: { id: string; target_actor_id: string | null }) {
  if (report.target_actor_id === acting.actorId)
    throw forbidden("this report is about you: the other moderators or the admins review it");
  const form = await formFields(c);
  const outcome = form.outcome;
  if (outcome !== "resolved" && outcome !== "dismissed")
    throw invalid("outcome: choose resolve or dismiss", { outcome: "choose resolve or dismiss" });
  const note = form.note?.trim() ?? "";
  if (note.length > COMMENT_MAX)
    throw invalid(`note: must be at most ${COMMENT_MAX} characters`, { note: `must be at most ${COMMENT_MAX}` });
  await closeReport(c.get("app").db, acting, report.id, outcome, note);
}

reportRoutes.get(`${AT}/reports`, async (c) => {
  const { community } = await reviewing(c);
  return renderQueue(c, { communityId: community.id }, `Reports in ${community.name}`, `/@${community.slug}/reports`);
});

reportRoutes.post(`${AT}/reports/:id`, async (c) => {
  const { community, acting } = await reviewing(c);
  const report = await findReport(c.get("app").db, c.req.param("id"));
  if (report.community_id !== community.id) throw notFound("report");
  await close(c, acting, report);
  return c.redirect(`/@${community.slug}/reports`, 303);
});

reportRoutes.get("/admin/reports", async (c) => {
  requireAdmin(c);
  return renderQueue(c, { instance: true }, "All reports", "/admin/reports");
});

reportRoutes.post("/admin/reports/:id", async (c) => {
  const admin = requireAdmin(c);
  await close(c, { role: "admin", actorId: admin.actorId }, await findReport(c.get("app").db, c.req.param("id")));
  return c.redirect("/admin/reports", 303);
});
