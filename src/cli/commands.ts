// The self-hosters' CLI: `npm run kindred -- <command>`. Every command goes
// through the same services as the web app; this module only parses arguments,
// prints results and maps errors to one `kindred: …` line and an exit code.
import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { z } from "zod";
import { migrateToLatest } from "../../db/migrate.ts";
import type { Db } from "../../db/schema.ts";
import { scrubErasedPages } from "../../db/scrub.ts";
import { createUser, findLocalUser, findOldestAdmin, listUsers, setClinician, setRole } from "../accounts/service.ts";
import { communitySettingsInput, createCommunity, getCommunity, listCommunities } from "../communities/service.ts";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { removeErasedFiles } from "../erasure/files.ts";
import {
  completeErasures,
  type ErasureReceipt,
  eraseAccount,
  erasureReceipt,
  erasureSettled,
  latestErasureOf,
} from "../erasure/service.ts";
import { DomainError, notFound } from "../errors.ts";
import { writeArchive } from "../export/archive.ts";
import { allowCsv, blockCsv, parseBlockCsv } from "../policy/csv.ts";
import { applyImport, planImport } from "../policy/import.ts";
import {
  allowDomain,
  blockDomain,
  disallowDomain,
  listDomainAllows,
  listDomainBlocks,
  setFederationMode,
  unblockDomain,
} from "../policy/service.ts";
import { createThread } from "../posts/service.ts";
import { openRuntime, type Runtime } from "../runtime.ts";

export interface Io {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

const defaultIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  // Lazy: only `--password-stdin` touches stdin.
  get stdin() {
    return process.stdin;
  },
});

/** A mistake in the command line: exit code 2. */
class UsageError extends Error {
  /** Print the usage text after the message. */
  readonly showUsage: boolean;
  constructor(message: string, showUsage = false) {
    super(message);
    this.name = "UsageError";
    this.showUsage = showUsage;
  }
}

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

interface Invocation {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  io: Io;
  rt: Runtime;
  federate?: Federate;
}

/**
 * Builds the federation for commands that render ActivityPub or deliver
 * (export, erase): the entry point plugs it in, as src/ does not import federation/.
 * It sets `rt.archive` and returns the delivery workers.
 */
export type Federate = (rt: Runtime) => { runWorkers(signal: AbortSignal): Promise<void> };

interface Command {
  /** "user create" */
  name: string;
  /** Arguments after the name, for usage text. */
  args: string;
  summary: string;
  /** Names of the required positional arguments, in order. */
  positionals: string[];
  options: ParseArgsOptionsConfig;
  /** Options that must be given, e.g. `--name`. */
  required?: string[];
  /** `migrate` opens the database without migrating, to report what it applies. */
  migrates?: boolean;
  /** Checks option values before the database is opened; throws UsageError. */
  check?(values: Invocation["values"], positionals: string[]): void;
  run(inv: Invocation): Promise<void>;
}

// ---- option values ----

const orList = (values: readonly string[]) =>
  values.length <= 1 ? values.join("") : `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;

/** Checks an option against an enum (the services' own, where they have one). */
function choice<T extends string>(
  flag: string,
  value: string | boolean | undefined,
  schema: z.ZodEnum<{ [K in T]: K }>,
): T | undefined {
  if (value === undefined) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`${flag} must be ${orList(schema.options)}`);
  return result.data as T;
}

const str = (value: string | boolean | undefined): string | undefined =>
  typeof value === "string" ? value : undefined;
const must = (value: string | boolean | undefined): string => {
  if (typeof value !== "string") throw new Error("required option missing after validation");
  return value;
};

const visibilityChoice = communitySettingsInput.shape.visibility.unwrap();
const joinChoice = communitySettingsInput.shape.join.unwrap();
const federationChoice = communitySettingsInput.shape.federation.unwrap();
const roleChoice = z.enum(["admin", "member"]);
const severityChoice = z.enum(["suspend", "silence", "noop"]);
const modeChoice = z.enum(["open", "allowlist"]);

// ---- output ----

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/** `2025-03-01T09:30:12.345Z` → `2025-03-01 09:30`. */
const shortTime = (iso: string) => iso.slice(0, 16).replace("T", " ");

function waitSeconds(value: string | boolean | undefined): number {
  if (value === undefined) return 20;
  const n = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || n > 3600)
    throw new UsageError("--wait must be a number of seconds from 0 to 3600");
  return n;
}

function receiptText(r: ErasureReceipt): string {
  const head = `deletion receipt for ${r.handle} (${r.mode === "anonymize" ? "anonymized" : "deleted"}), requested ${shortTime(r.requestedAt)} UTC: ${r.completedAt ? `complete since ${shortTime(r.completedAt)} UTC, keys destroyed` : "deliveries in progress"}\n`;
  if (r.servers.length === 0) return `${head}no other server had received anything from this account\n`;
  return (
    head +
    table(
      ["SERVER", "STATUS", "REQUESTS", "ATTEMPTS", "LAST ATTEMPT"],
      r.servers.map((s) => [s.host, s.status, String(s.deliveries), String(s.attempts), shortTime(s.lastAttemptAt)]),
    )
  );
}

// ---- stdin ----

/** Reads the first line of stdin (without its line ending), then stops reading. */
function readFirstLine(stdin: Io["stdin"]): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const cleanup = () => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.off("error", onError);
      stdin.pause();
      // A paused pipe or terminal still holds the event loop open until its writer closes it.
      (stdin as { destroy?: () => void }).destroy?.();
    };
    const finish = (line: string) => {
      cleanup();
      resolve(line.replace(/\r$/, ""));
    };
    const onData = (chunk: string | Buffer) => {
      buffer += typeof chunk === "string" ? chunk : chunk.toString("utf8");
      const newline = buffer.indexOf("\n");
      if (newline >= 0) finish(buffer.slice(0, newline));
    };
    const onEnd = () => finish(buffer);
    const onError = (error: unknown) => {
      cleanup();
      reject(error);
    };
    stdin.setEncoding("utf8");
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.on("error", onError);
    stdin.resume();
  });
}

// ---- helpers over the services ----

/** The oldest admin account, which acts for the CLI when no `--owner` is given. */
async function requireUser(db: Db, username: string) {
  const user = await findLocalUser(db, username);
  if (!user) throw notFound(`user "${username}"`);
  return user;
}

// ---- commands ----

const commands: Command[] = [
  {
    name: "migrate",
    args: "",
    summary: "Apply pending database migrations.",
    positionals: [],
    options: {},
    migrates: true,
    async run({ io, rt }) {
      const { applied } = await migrateToLatest(rt.db);
      if (applied.length === 0) io.stdout.write("database already up to date\n");
      else io.stdout.write(applied.map((name) => `applied migration ${name}\n`).join(""));
    },
  },
  {
    name: "user create",
    args: "<username> [--admin] [--email <address>] [--password-stdin]",
    summary: "Create a local user. Without --password-stdin a strong password is generated and printed once.",
    positionals: ["username"],
    options: { admin: { type: "boolean" }, email: { type: "string" }, "password-stdin": { type: "boolean" } },
    async run({ values, positionals, io, rt }) {
      const username = positionals[0]!;
      const fromStdin = values["password-stdin"] === true;
      let password: string;
      if (fromStdin) {
        if (io.stdin.isTTY) io.stderr.write("password (typed input is visible; end with Enter): ");
        password = await readFirstLine(io.stdin);
      } else {
        password = randomBytes(15).toString("base64url"); // 20 characters, 120 bits
      }
      const user = await createUser(
        rt.db,
        rt.config.origin,
        { username, password, email: str(values.email) },
        { role: values.admin === true ? "admin" : "member", allowReserved: true },
      );
      io.stdout.write(`created ${user.role === "admin" ? "admin" : "user"} ${user.username}\n`);
      if (!fromStdin) io.stdout.write(`generated password (shown only this once; store it now): ${password}\n`);
      io.stdout.write(`${user.iri}\n`);
    },
  },
  {
    name: "user list",
    args: "",
    summary: "List local users.",
    positionals: [],
    options: {},
    async run({ io, rt }) {
      const rows: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await listUsers(rt.db, { limit: 500, cursor });
        for (const u of page) rows.push([u.username, u.role, u.isClinician ? "yes" : "no", shortTime(u.createdAt)]);
        cursor = page.length === 500 ? page[page.length - 1]!.id : undefined;
      } while (cursor);
      if (rows.length === 0) {
        io.stdout.write("no users yet; create an admin with: kindred user create <username> --admin\n");
        return;
      }
      io.stdout.write(table(["USERNAME", "ROLE", "CLINICIAN", "CREATED (UTC)"], rows));
    },
  },
  {
    name: "user set-role",
    args: "<username> admin|member",
    summary: "Grant or withdraw instance admin rights.",
    positionals: ["username", "role"],
    options: {},
    check(_values, positionals) {
      choice("the role", positionals[1], roleChoice);
    },
    async run({ positionals, io, rt }) {
      const [username, roleArg] = positionals as [string, string];
      const role = choice("the role", roleArg, roleChoice)!;
      await setRole(rt.db, username, role);
      io.stdout.write(`${username} is now ${role === "admin" ? "an admin" : "a member"}\n`);
    },
  },
  {
    name: "user verify-clinician",
    args: "<username> [--revoke]",
    summary: "Give a user the verified clinician badge (or take it back with --revoke).",
    positionals: ["username"],
    options: { revoke: { type: "boolean" } },
    async run({ values, positionals, io, rt }) {
      const username = positionals[0]!;
      const verified = values.revoke !== true;
      await setClinician(rt.db, username, verified);
      io.stdout.write(
        verified
          ? `${username} now shows the verified clinician badge\n`
          : `removed the verified clinician badge from ${username}\n`,
      );
    },
  },
  {
    name: "user export",
    args: "<username> --out <file> [--force]",
    summary:
      "Write a user's data archive (.tar.gz, Mastodon's layout plus messages, communities, account, moderation and deliveries).",
    positionals: ["username"],
    options: { out: { type: "string" }, force: { type: "boolean" } },
    required: ["out"],
    async run({ values, positionals, io, rt, federate }) {
      const user = await findLocalUser(rt.db, positionals[0]!);
      if (!user) throw notFound(`user "${positionals[0]}"`);
      const out = resolvePath(must(values.out));
      if (values.force !== true && (await stat(out).catch(() => undefined)))
        throw new DomainError("conflict", `${out} already exists (add --force to replace it)`);
      if (!rt.archive) federate?.(rt);
      if (!rt.archive) throw new Error("this command needs the federation's renderer");
      const started = performance.now();
      const size = await writeArchive(
        { db: rt.db, origin: rt.config.origin, dataDir: rt.config.dataDir, archive: rt.archive },
        user.actorId,
        out,
      );
      io.stdout.write(`wrote ${out} (${size} bytes) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    },
  },
  {
    name: "user erase",
    args: "<username> --yes [--anonymize] [--wait <seconds>]",
    summary:
      "Erase a user here and on every server their content reached, then print the deletion receipt (waiting up to --wait seconds, default 20, for deliveries).",
    positionals: ["username"],
    options: { yes: { type: "boolean" }, anonymize: { type: "boolean" }, wait: { type: "string" } },
    check(values) {
      if (values.yes !== true) throw new UsageError("erasing a user cannot be undone; add --yes to confirm");
      waitSeconds(values.wait);
    },
    async run({ values, positionals, io, rt, federate }) {
      const user = await findLocalUser(rt.db, positionals[0]!);
      if (!user) throw notFound(`user "${positionals[0]}"`);
      const result = await eraseAccount(rt.db, rt.config.origin, user.actorId, {
        mode: values.anonymize === true ? "anonymize" : "delete",
      });
      await removeErasedFiles(rt.config.dataDir, result.files);
      await scrubErasedPages(rt.db, rt.dialect);
      io.stdout.write(`erased ${result.handle}\n`);
      const wait = waitSeconds(values.wait);
      const workers = wait > 0 ? federate?.(rt) : undefined;
      if (workers) {
        io.stdout.write(`delivering the Delete (waiting up to ${wait} s)...\n`);
        const stop = new AbortController();
        const running = workers.runWorkers(stop.signal);
        const deadline = Date.now() + wait * 1000;
        while (Date.now() < deadline) {
          if (await erasureSettled(rt.db, result.erasureId)) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        stop.abort();
        await running.catch(() => undefined);
        // Settled here: destroy the keys now rather than at the server's next check.
        await completeErasures(rt.db);
      }
      io.stdout.write(receiptText((await erasureReceipt(rt.db, { erasureId: result.erasureId }))!));
      io.stdout.write(
        `receipt page (keep this address; it is shown once): ${rt.config.origin}/erasures/${result.receiptToken}\n`,
      );
    },
  },
  {
    name: "user erasure-status",
    args: "<username>",
    summary: "Show the deletion receipt of an erased user: each server and whether the Delete arrived.",
    positionals: ["username"],
    options: {},
    async run({ positionals, io, rt }) {
      const erasureId = await latestErasureOf(rt.db, positionals[0]!);
      if (!erasureId) throw new DomainError("not_found", `no erasure of "${positionals[0]}" was recorded`);
      io.stdout.write(receiptText((await erasureReceipt(rt.db, { erasureId }))!));
    },
  },
  {
    name: "community create",
    args:
      "<slug> --name <name> [--description <markdown>] [--rules <markdown>] [--visibility public|members] " +
      "[--join open|approval] [--federation federated|local] [--owner <username>]",
    summary: "Create a community; --owner (default: the oldest admin) becomes its first moderator.",
    positionals: ["slug"],
    options: {
      name: { type: "string" },
      description: { type: "string" },
      rules: { type: "string" },
      visibility: { type: "string" },
      join: { type: "string" },
      federation: { type: "string" },
      owner: { type: "string" },
    },
    required: ["name"],
    check(values) {
      choice("--visibility", values.visibility, visibilityChoice);
      choice("--join", values.join, joinChoice);
      choice("--federation", values.federation, federationChoice);
    },
    async run({ values, positionals, io, rt }) {
      const visibility = choice("--visibility", values.visibility, visibilityChoice);
      const join = choice("--join", values.join, joinChoice);
      const federation = choice("--federation", values.federation, federationChoice);
      const ownerName = str(values.owner);
      let owner: { actorId: string; username: string };
      if (ownerName !== undefined) {
        owner = await requireUser(rt.db, ownerName);
      } else {
        const admin = await findOldestAdmin(rt.db);
        if (!admin) {
          throw new DomainError(
            "not_found",
            "there is no admin user to own the community; create one first with: kindred user create <name> --admin (or pass --owner <username>)",
          );
        }
        owner = admin;
      }
      const community = await createCommunity(
        rt.db,
        rt.config.origin,
        { actorId: owner.actorId, role: "admin" },
        {
          slug: positionals[0]!,
          name: must(values.name),
          description: str(values.description),
          rules: str(values.rules),
          visibility,
          join,
          federation,
        },
        { allowReserved: true },
      );
      io.stdout.write(`created community ${community.slug}, moderated by ${owner.username}\n${community.iri}\n`);
    },
  },
  {
    name: "community list",
    args: "",
    summary: "List communities with their settings, members and threads.",
    positionals: [],
    options: {},
    async run({ io, rt }) {
      const rows: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await listCommunities(rt.db, { limit: 500, cursor });
        for (const c of page.items) {
          rows.push([
            c.slug,
            c.name ?? "",
            c.visibility,
            c.joinPolicy,
            c.federation,
            String(c.members),
            String(c.threads),
          ]);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      if (rows.length === 0) {
        io.stdout.write("no communities yet; create one with: kindred community create <slug> --name <name>\n");
        return;
      }
      io.stdout.write(table(["SLUG", "NAME", "VISIBILITY", "JOIN", "FEDERATION", "MEMBERS", "THREADS"], rows));
    },
  },
  {
    name: "post create",
    args: "--as <username> --community <slug> --title <title> --body <markdown> [--cw <text>]",
    summary: "Start a thread in a community as a user; prints the thread's IRI on the last line.",
    positionals: [],
    options: {
      as: { type: "string" },
      community: { type: "string" },
      title: { type: "string" },
      body: { type: "string" },
      cw: { type: "string" },
    },
    required: ["as", "community", "title", "body"],
    async run({ values, io, rt }) {
      const author = await requireUser(rt.db, must(values.as));
      const community = await getCommunity(rt.db, must(values.community));
      const post = await createThread(
        rt.db,
        rt.config.origin,
        { id: community.id, visibility: community.visibility, joinPolicy: community.joinPolicy },
        author.actorId,
        { title: must(values.title), body: must(values.body), cw: str(values.cw) },
      );
      // The text itself is never echoed: it may be health information.
      io.stdout.write(`created thread in ${community.slug} as ${author.username}\n${post.iri}\n`);
    },
  },
  {
    name: "domain-block add",
    args: "<domain> --severity suspend|silence|noop [--reject-media] [--reject-reports] [--public-comment <text>] [--private-comment <text>] [--obfuscate]",
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
    async run({ values, positionals, io, rt }) {
      const result = await blockDomain(rt.db, {
        domain: positionals[0]!,
        severity: choice("--severity", values.severity, severityChoice),
        rejectMedia: values["reject-media"] === true,
        rejectReports: values["reject-reports"] === true,
        publicComment: str(values["public-comment"]),
        privateComment: str(values["private-comment"]),
        obfuscate: values.obfuscate === true,
      });
      const purged = result.purged
        ? `; purged ${result.purged.actors} actors, ${result.purged.posts} posts, ${result.purged.follows} follows`
        : "";
      io.stdout.write(
        `${result.created ? "blocked" : "updated block of"} ${positionals[0]} (${str(values.severity)})${purged}\n`,
      );
    },
  },
  {
    name: "domain-block remove",
    args: "<domain>",
    summary: "Lift a domain block.",
    positionals: ["domain"],
    options: {},
    async run({ positionals, io, rt }) {
      await unblockDomain(rt.db, positionals[0]!);
      io.stdout.write(`unblocked ${positionals[0]}\n`);
    },
  },
  {
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
  },
  {
    name: "domain-block import",
    args: "<file.csv> [--dry-run]",
    summary: "Import a block list in Mastodon's CSV format; shows the changes first, applies them unless --dry-run.",
    positionals: ["file"],
    options: { "dry-run": { type: "boolean" } },
    async run({ values, positionals, io, rt }) {
      const parsed = await readBlockList(positionals[0]!, io);
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
      if (values["dry-run"] === true) {
        io.stdout.write(
          `dry run: ${plan.filter((c) => c.status === "new" || c.status === "changed").length} changes, ${parsed.problems.length} rejected rows; nothing written\n`,
        );
        return;
      }
      const result = await applyImport(rt.db, plan);
      io.stdout.write(
        `applied ${result.applied} changes; purged ${result.purged.actors} actors, ${result.purged.posts} posts, ${result.purged.follows} follows; ${parsed.problems.length} rejected rows\n`,
      );
    },
  },
  {
    name: "domain-block export",
    args: "",
    summary: "Print the block list in Mastodon's CSV format.",
    positionals: [],
    options: {},
    async run({ io, rt }) {
      io.stdout.write(blockCsv(await listDomainBlocks(rt.db)));
    },
  },
  {
    name: "domain-allow add",
    args: "<domain>",
    summary: "Allow a domain (and its subdomains) in allowlist mode.",
    positionals: ["domain"],
    options: {},
    async run({ positionals, io, rt }) {
      await allowDomain(rt.db, positionals[0]!);
      io.stdout.write(`allowed ${positionals[0]}\n`);
    },
  },
  {
    name: "domain-allow remove",
    args: "<domain>",
    summary: "Remove a domain from the allow list.",
    positionals: ["domain"],
    options: {},
    async run({ positionals, io, rt }) {
      await disallowDomain(rt.db, positionals[0]!);
      io.stdout.write(`removed ${positionals[0]} from the allow list\n`);
    },
  },
  {
    name: "domain-allow import",
    args: "<file.csv>",
    summary: "Add every domain of a #domain CSV to the allow list; bad rows are reported by line.",
    positionals: ["file"],
    options: {},
    async run({ positionals, io, rt }) {
      const parsed = await readBlockList(positionals[0]!, io);
      for (const b of parsed.blocks) await allowDomain(rt.db, b.domain);
      io.stdout.write(`allowed ${parsed.blocks.length} domains; ${parsed.problems.length} rejected rows\n`);
    },
  },
  {
    name: "domain-allow list",
    args: "",
    summary: "List allowed domains (as a #domain CSV).",
    positionals: [],
    options: {},
    async run({ io, rt }) {
      io.stdout.write(allowCsv((await listDomainAllows(rt.db)).map((a) => a.domain)));
    },
  },
  {
    name: "federation mode",
    args: "open|allowlist",
    summary: "Federate with everyone not blocked (open), or only with allowed domains (allowlist).",
    positionals: ["mode"],
    options: {},
    check(_values, positionals) {
      choice("mode", positionals[0], modeChoice);
    },
    async run({ positionals, io, rt }) {
      const mode = choice("mode", positionals[0], modeChoice)!;
      await setFederationMode(rt.db, mode);
      io.stdout.write(
        `federation mode: ${mode}${mode === "allowlist" ? ` (${(await listDomainAllows(rt.db)).length} allowed domains)` : ""}\n`,
      );
    },
  },
];

/** Reads and parses a CSV list, reporting each rejected row on stderr by its line. */
async function readBlockList(path: string, io: Io) {
  const text = await readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  });
  const parsed = parseBlockCsv(text);
  for (const p of parsed.problems) io.stderr.write(`kindred: line ${p.line}: ${p.message}\n`);
  return parsed;
}

// ---- usage ----

const usageLine = (c: Command) => `kindred ${c.name}${c.args ? ` ${c.args}` : ""}`;

export function usage(): string {
  const lines = ["Usage: kindred <command> [options]", "", "Commands:"];
  for (const c of commands) lines.push(`  ${usageLine(c).slice("kindred ".length)}`, `      ${c.summary}`);
  lines.push(
    "  help",
    '      Show this text. "kindred <command> --help" shows one command.',
    "",
    "Configuration is read from the environment, as for the server (DATABASE_URL, ORIGIN, DATA_DIR, LOG_LEVEL, ...).",
  );
  return lines.join("\n") + "\n";
}

const commandHelp = (c: Command) => `Usage: ${usageLine(c)}\n\n${c.summary}\n`;

// ---- argument parsing ----

const GROUPS = new Set(commands.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0]!));

function findCommand(argv: string[]): { command: Command; rest: string[] } | "help" {
  const [first, second] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") return "help";
  if (first.startsWith("-")) throw new UsageError(`unknown option ${first}`, true);
  if (GROUPS.has(first)) {
    const subs = commands.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.slice(first.length + 1));
    if (second === undefined || second.startsWith("-")) {
      if (second === "--help" || second === "-h") return "help";
      throw new UsageError(`"${first}" needs a subcommand: ${orList(subs)}`, true);
    }
    const command = commands.find((c) => c.name === `${first} ${second}`);
    if (!command) throw new UsageError(`unknown ${first} command "${second}" (try ${orList(subs)})`, true);
    return { command, rest: argv.slice(2) };
  }
  const command = commands.find((c) => c.name === first);
  if (!command) throw new UsageError(`unknown command "${first}"`, true);
  return { command, rest: argv.slice(1) };
}

function parseCommandArgs(command: Command, rest: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) return { help: true as const };
  const positionals = parsed.positionals;
  const expected = command.positionals;
  if (positionals.length < expected.length) {
    throw new UsageError(`missing <${expected[positionals.length]}> (usage: ${usageLine(command)})`);
  }
  if (positionals.length > expected.length) {
    throw new UsageError(`unexpected argument "${positionals[expected.length]}" (usage: ${usageLine(command)})`);
  }
  for (const name of command.required ?? []) {
    if (values[name] === undefined) throw new UsageError(`missing --${name} (usage: ${usageLine(command)})`);
  }
  return { help: false as const, values, positionals };
}

/** Node's parseArgs messages are long and multi-line; name just the option and the problem. */
function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) return `unknown option ${option}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
    if (message.includes("does not take an argument")) return `${option} does not take a value`;
    return `${option} requires a value (write ${option}=<value> if the value starts with "-")`;
  }
  return message.split("\n")[0]!;
}

// ---- errors ----

/** A message for errors that carry none (e.g. pg's AggregateError on ECONNREFUSED). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let message = error.message;
  if (!message && error instanceof AggregateError) {
    message = error.errors
      .map((e: unknown) => (e instanceof Error ? e.message : String(e)))
      .filter(Boolean)
      .join("; ");
  }
  if (!message) message = String((error as { code?: unknown }).code ?? error.name);
  return message.replace(/\s*\n\s*/g, " ");
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ECONNRESET",
  "28P01",
  "28000",
  "3D000",
  "3F000",
]);

/** The error in `error`'s cause chain that says the database could not be reached or logged in to. */
function connectionError(error: unknown): unknown {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return e;
  }
  return undefined;
}

// ---- entry point ----

/** Runs one CLI invocation; resolves to the process exit code. */
export async function main(argv: string[], io: Io = defaultIo(), federate?: Federate): Promise<number> {
  let config: Config | undefined;
  try {
    const found = findCommand(argv);
    if (found === "help") {
      io.stdout.write(usage());
      return EXIT_OK;
    }
    const { command, rest } = found;
    const args = parseCommandArgs(command, rest);
    if (args.help) {
      io.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    command.check?.(args.values, args.positionals);
    config = loadConfig();
    const rt = await openRuntime(config, { migrate: !command.migrates });
    try {
      await command.run({ values: args.values, positionals: args.positionals, io, rt, federate });
    } finally {
      await rt.close();
    }
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`kindred: ${error.message}\n`);
      if (error.showUsage) io.stderr.write(`\n${usage()}`);
      return EXIT_USAGE;
    }
    if (error instanceof DomainError) {
      io.stderr.write(`kindred: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    if (error instanceof ConfigError) {
      io.stderr.write(`kindred: invalid configuration: ${error.problems.join("; ")}\n`);
      return EXIT_FAILURE;
    }
    const unreachable = connectionError(error);
    if (unreachable)
      io.stderr.write(`kindred: cannot use the database in DATABASE_URL: ${describeError(unreachable)}\n`);
    else io.stderr.write(`kindred: unexpected error: ${describeError(error)}\n`);
    const debug = config?.logLevel === "debug" || config?.logLevel === "trace";
    if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}
