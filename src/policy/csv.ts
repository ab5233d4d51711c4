// Domain block lists in Mastodon's CSV format, and the lists found in the
// wild (headers without '#', a `domain` or `instance` column, no severity).
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import type { BlockSeverity } from "../../db/schema.ts";
import { normalizeDomain, ownHostProblem } from "./domains.ts";
import type { DomainBlock } from "./service.ts";

export const MASTODON_HEADER = [
  "#domain",
  "#severity",
  "#reject_media",
  "#reject_reports",
  "#public_comment",
  "#obfuscate",
];

export interface CsvProblem {
  line: number;
  message: string;
}

export interface ParsedBlockList {
  blocks: DomainBlock[];
  problems: CsvProblem[];
}

const truthy = (v: string | undefined) => /^(true|1|yes)$/i.test((v ?? "").trim());

/**
 * Parses a block list. A bad row is reported with its line number; the rest
 * still counts. With `origin`, a row naming the instance's own host is one.
 */
export function parseBlockCsv(text: string, options: { origin?: string } = {}): ParsedBlockList {
  let rows: string[][];
  let lines: number[];
  try {
    // `info` gives each record's line in the file, blank lines included.
    const records = parse(text.replace(/^\uFEFF/, ""), {
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
    rows = records.map((r) => r.record);
    lines = records.map((r) => r.info.lines);
  } catch (error) {
    return {
      blocks: [],
      problems: [
        { line: (error as { lines?: number }).lines ?? 1, message: `not valid CSV: ${(error as Error).message}` },
      ],
    };
  }
  if (rows.length === 0) return { blocks: [], problems: [{ line: 1, message: "the file is empty" }] };
  const header = (rows[0] ?? []).map((h) => h.replace(/^#/, "").trim().toLowerCase());
  const hasHeader = header.includes("domain") || header.includes("instance");
  const col = (name: string) => header.indexOf(name);
  const domainCol = hasHeader ? (col("domain") >= 0 ? col("domain") : col("instance")) : 0;
  const severityCol = hasHeader ? col("severity") : -1;
  const problems: CsvProblem[] = [];
  const seen = new Map<string, DomainBlock>();
  for (const [i, row] of rows.slice(hasHeader ? 1 : 0).entries()) {
    const line = lines[i + (hasHeader ? 1 : 0)] ?? 0;
    const rawDomain = row[domainCol] ?? "";
    if (rawDomain.startsWith("#") && !hasHeader) continue; // a comment line
    const domain = normalizeDomain(rawDomain);
    if (!domain) {
      problems.push({ line, message: `"${rawDomain}" is not a domain name` });
      continue;
    }
    const ownHost = options.origin ? ownHostProblem(domain, options.origin) : null;
    if (ownHost) {
      problems.push({ line, message: ownHost });
      continue;
    }
    const rawSeverity = (severityCol >= 0 ? row[severityCol] : "")?.trim().toLowerCase() ?? "";
    const severity = rawSeverity === "" ? "suspend" : rawSeverity;
    if (severity !== "suspend" && severity !== "silence" && severity !== "noop") {
      problems.push({ line, message: `severity "${rawSeverity}" is not suspend, silence or noop` });
      continue;
    }
    const get = (name: string) => (col(name) >= 0 && hasHeader ? row[col(name)] : undefined);
    seen.set(domain, {
      domain,
      severity: severity as BlockSeverity,
      rejectMedia: truthy(get("reject_media")),
      rejectReports: truthy(get("reject_reports")),
      publicComment: get("public_comment")?.trim() || null,
      privateComment: null,
      obfuscate: truthy(get("obfuscate")),
    });
  }
  return { blocks: [...seen.values()], problems };
}

/** Exports blocks in Mastodon's format (private comments stay private). */
export function blockCsv(
  blocks: {
    domain: string;
    severity: BlockSeverity;
    reject_media: number;
    reject_reports: number;
    public_comment: string | null;
    obfuscate: number;
  }[],
): string {
  return stringify([
    MASTODON_HEADER,
    ...blocks.map((b) => [
      b.domain,
      b.severity,
      b.reject_media === 1 ? "true" : "false",
      b.reject_reports === 1 ? "true" : "false",
      b.public_comment ?? "",
      b.obfuscate === 1 ? "true" : "false",
    ]),
  ]);
}

/** An allow list is a `#domain` CSV. */
export function allowCsv(domains: string[]): string {
  return stringify([["#domain"], ...domains.map((d) => [d])]);
}
