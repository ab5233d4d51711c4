// `kindred report …`: the instance's report queue, as its admins see it in the
// web app (every community's reports and those outside any), and closing a
// report with a note the reporter reads.
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { DomainError } from "../errors.ts";
import { listReports, type ReportItem } from "../moderation/queues.ts";
import { COMMENT_MAX, closeReport } from "../moderation/reports.ts";
import { type Command, choice, command, shortText, str } from "./args.ts";
import { ADMIN, handleOf, printable } from "./moderation.ts";
import { shortTime, table } from "./output.ts";

const statusChoice = z.enum(["open", "resolved", "dismissed"]);
type Status = z.infer<typeof statusChoice>;

async function allReports(db: Db, status: Status): Promise<ReportItem[]> {
  const items: ReportItem[] = [];
  let cursor: string | undefined;
  do {
    const page = await listReports(db, { instance: true }, { status, cursor, limit: 500 });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

const handle = (username: string | null, host: string | null, local: number | null) =>
  username !== null && host !== null ? handleOf({ username, host, local: local ?? 0 }) : null;

/** A report for scripts: what it names by IRI, and a visitor's contact address (for the admin only). */
const asJson = (r: ReportItem) => ({
  id: r.id,
  iri: r.iri,
  status: r.status,
  createdAt: r.createdAt,
  category: r.category,
  comment: r.comment,
  reporter: r.reporterIri,
  contact: r.contact,
  actor: r.targetIri,
  posts: r.posts.map((p) => p.iri),
  community: handle(r.communityUsername, r.communityHost, r.communityLocal),
  remote: r.remote === 1,
  forward: r.forward === 1,
  note: r.note,
  resolvedAt: r.resolvedAt,
});

/** One line of a report's comment: collapsed, cut at `max` characters. */
function short(text: string, max = 60): string {
  const line = printable(text).replace(/\s+/g, " ").trim();
  if (line === "") return "-";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** What a report names: its first post's IRI (and how many more), or else the person. */
function reported(r: ReportItem): string {
  const [first, ...more] = r.posts;
  if (first) return printable(first.iri) + (more.length > 0 ? ` +${more.length} more` : "");
  return handle(r.targetUsername, r.targetHost, r.targetLocal) ?? "-";
}

const row = (r: ReportItem) => [
  r.id,
  shortTime(r.createdAt),
  r.category,
  r.reporterIri === null ? "visitor" : (handle(r.reporterUsername, r.reporterHost, r.reporterLocal) ?? "-"),
  reported(r),
  short(r.comment),
];

function closeCommand(verb: "resolve" | "dismiss", outcome: "resolved" | "dismissed", summary: string) {
  return command({
    name: `report ${verb}`,
    args: "<id> [--note <text>]",
    summary,
    positionals: ["id"],
    options: { note: { type: "string" } },
    check(values) {
      shortText("--note", values.note, COMMENT_MAX);
    },
    async run({ values, args, io, rt }) {
      const report = await rt.db
        .selectFrom("reports")
        .select(["id", "reporter_id", "reporter_contact", "remote"])
        .where("id", "=", args.id)
        .executeTakeFirst();
      if (!report) throw new DomainError("not_found", `no report ${args.id} (see kindred report list)`);
      await closeReport(rt.db, ADMIN, report.id, outcome, str(values.note));
      const told =
        report.remote === 1
          ? "the server that sent it is told"
          : report.reporter_id !== null
            ? "the reporter is notified"
            : report.reporter_contact !== null
              ? `the reporter, a visitor, left an address: see kindred report list --status ${outcome} --json`
              : "the reporter, a visitor, left no address";
      io.stdout.write(`${outcome} report ${report.id}; ${told}\n`);
    },
  });
}

export const reports: Command[] = [
  command({
    name: "report list",
    args: "[--status open|resolved|dismissed] [--json]",
    summary:
      "List reports (open ones by default), newest first; --json prints them with the reported posts' and " +
      "people's IRIs and a visitor's contact address.",
    positionals: [],
    options: { status: { type: "string" }, json: { type: "boolean" } },
    check(values) {
      choice("--status", values.status, statusChoice);
    },
    async run({ values, io, rt }) {
      const status = choice("--status", values.status, statusChoice) ?? "open";
      const items = await allReports(rt.db, status);
      if (values.json === true) {
        io.stdout.write(`${JSON.stringify(items.map(asJson), null, 2)}\n`);
        return;
      }
      if (items.length === 0) {
        io.stdout.write(`no ${status} reports\n`);
        return;
      }
      io.stdout.write(table(["ID", "CREATED (UTC)", "CATEGORY", "REPORTER", "REPORTED", "COMMENT"], items.map(row)));
    },
  }),
  closeCommand(
    "resolve",
    "resolved",
    "Close a report as resolved (something was done), with a --note the reporter reads.",
  ),
  closeCommand(
    "dismiss",
    "dismissed",
    "Close a report as dismissed (nothing to do), with a --note the reporter reads.",
  ),
];
