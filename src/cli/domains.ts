// `kindred domain-block …` and `kindred domain-allow …`: the domain policy, with
// block lists in Mastodon's CSV format.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { allowCsv, blockCsv, parseBlockCsv } from "../policy/csv.ts";
import { applyImport, planImport } from "../policy/import.ts";
import {
  allowDomain,
  blockDomain,
  disallowDomain,
  listDomainAllows,
  listDomainBlocks,
  unblockDomain,
} from "../policy/service.ts";
import { type Command, choice, command, type Io, str, UsageError } from "./args.ts";
import { table } from "./output.ts";

const severityChoice = z.enum(["suspend", "silence", "noop"]);

/**
 * Reads and parses a CSV list, reporting each rejected row on stderr by its
 * line; a block list (with the instance's `origin`) may not name its own host.
 */
async function readBlockList(path: string, io: Io, origin?: string) {
  const text = await readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  });
  const parsed = parseBlockCsv(text, { origin });
  for (const p of parsed.problems) io.stderr.write(`kindred: line ${p.line}: ${p.message}\n`);
  return parsed;
}

const domainBlocks: Command[] = [
  command({
    name: "domain-block add",
    args:
      "<domain> --severity suspend|silence|noop [--reject-media] [--reject-reports] " +
      "[--public-comment <text>] [--private-comment <text>] [--obfuscate]",
    summary: "Block a domain and its subdomains (suspend also purges what we hold from it).",
    positionals: ["domain"],
    options: {
      severity: { type: "string" },
      "reject-media": { type: "boolean" },
      "reject-reports": { type: "boolean" },
      "public-comment": { type: "string" },
      "private-comment": { type: "string" },
      obfuscate: { type: "boolean" },
    },
    required: ["severity"],
    check(values) {
      choice("--severity", values.severity, severityChoice);
    },
    async run({ values, args, io, rt }) {
      const result = await blockDomain(
        rt.db,
        {
          domain: args.domain,
          severity: choice("--severity", values.severity, severityChoice),
          rejectMedia: values["reject-media"] === true,
          rejectReports: values["reject-reports"] === true,
          publicComment: str(values["public-comment"]),
          privateComment: str(values["private-comment"]),
          obfuscate: values.obfuscate === true,
        },
        { origin: rt.config.origin },
      );
      const purged = result.purged
        ? `; purged ${result.purged.actors} actors, ${result.purged.posts} posts, ${result.purged.follows} follows`
        : "";
      const verb = result.created ? "blocked" : "updated block of";
      io.stdout.write(`${verb} ${args.domain} (${str(values.severity)})${purged}\n`);
    },
  }),
  command({
    name: "domain-block remove",
    args: "<domain>",
    summary: "Lift a domain block.",
    positionals: ["domain"],
    options: {},
    async run({ args, io, rt }) {
      await unblockDomain(rt.db, args.domain);
      io.stdout.write(`unblocked ${args.domain}\n`);
    },
  }),
  command({
    name: "domain-block list",
    args: "",
    summary: "List domain blocks.",
    positionals: [],
    options: {},
    async run({ io, rt }) {
      const rows = await listDomainBlocks(rt.db);
      io.stdout.write(
        table(
          ["DOMAIN", "SEVERITY", "MEDIA", "REPORTS", "OBFUSCATE", "PUBLIC COMMENT"],
          rows.map((b) => [
            b.domain,
            b.severity,
            b.reject_media ? "rejected" : "-",
            b.reject_reports ? "rejected" : "-",
            b.obfuscate ? "yes" : "no",
            b.public_comment ?? "",
          ]),
        ),
      );
    },
  }),
  command({
    name: "domain-block import",
    args: "<file.csv> [--dry-run]",
    summary: "Import a block list in Mastodon's CSV format; shows the changes first, applies them unless --dry-run.",
    positionals: ["file"],
    options: { "dry-run": { type: "boolean" } },
    async run({ values, args, io, rt }) {
      const parsed = await readBlockList(args.file, io, rt.config.origin);
      const plan = await planImport(rt.db, parsed);
      for (const c of plan) {
        const note =
          c.status === "covered"
            ? ` (covered by ${c.coveredBy})`
            : c.followsCut > 0
              ? ` (cuts ${c.followsCut} local follows)`
              : "";
        io.stdout.write(`${c.status.padEnd(9)} ${c.block.domain} ${c.block.severity}${note}\n`);
      }
      const rejected = `${parsed.problems.length} rejected rows`;
      if (values["dry-run"] === true) {
        const changes = plan.filter((c) => c.status === "new" || c.status === "changed").length;
        io.stdout.write(`dry run: ${changes} changes, ${rejected}; nothing written\n`);
        return;
      }
      const result = await applyImport(rt.db, plan, { origin: rt.config.origin });
      const { actors, posts, follows } = result.purged;
      io.stdout.write(
        `applied ${result.applied} changes; purged ${actors} actors, ${posts} posts, ${follows} follows; ${rejected}\n`,
      );
    },
  }),
  command({
    name: "domain-block export",
    args: "",
    summary: "Print the block list in Mastodon's CSV format.",
    positionals: [],
    options: {},
    async run({ io, rt }) {
      io.stdout.write(blockCsv(await listDomainBlocks(rt.db)));
    },
  }),
];

const domainAllows: Command[] = [
  command({
    name: "domain-allow add",
    args: "<domain>",
    summary: "Allow a domain (and its subdomains) in allowlist mode.",
    positionals: ["domain"],
    options: {},
    async run({ args, io, rt }) {
      await allowDomain(rt.db, args.domain);
      io.stdout.write(`allowed ${args.domain}\n`);
    },
  }),
  command({
    name: "domain-allow remove",
    args: "<domain>",
    summary: "Remove a domain from the allow list.",
    positionals: ["domain"],
    options: {},
    async run({ args, io, rt }) {
      await disallowDomain(rt.db, args.domain);
      io.stdout.write(`removed ${args.domain} from the allow list\n`);
    },
  }),
  command({
    name: "domain-allow import",
    args: "<file.csv>",
    summary: "Add every domain of a #domain CSV to the allow list; bad rows are reported by line.",
    positionals: ["file"],
    options: {},
    async run({ args, io, rt }) {
      const parsed = await readBlockList(args.file, io);
      for (const b of parsed.blocks) await allowDomain(rt.db, b.domain);
      io.stdout.write(`allowed ${parsed.blocks.length} domains; ${parsed.problems.length} rejected rows\n`);
    },
  }),
  command({
    name: "domain-allow list",
    args: "",
    summary: "List allowed domains (as a #domain CSV).",
    positionals: [],
    options: {},
    async run({ io, rt }) {
      io.stdout.write(allowCsv((await listDomainAllows(rt.db)).map((a) => a.domain)));
    },
  }),
];

export const domains: Command[] = [...domainBlocks, ...domainAllows];
