// `kindred user …`: create, list, roles, the clinician badge, data export and erasure.
import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { scrubErasedPages } from "../../db/scrub.ts";
import { createUser, findLocalUser, listUsers, setRole } from "../accounts/service.ts";
import { PROFESSION_MAX, REGISTRATION_MAX, setClinician } from "../answers/clinicians.ts";
import { queuedDeliveriesOf } from "../context.ts";
import { completeErasures, erasureSettled } from "../erasure/completion.ts";
import { removeErasedFiles } from "../erasure/files.ts";
import { type ErasureReceipt, erasureReceipt, latestErasureOf, receiptStatusText } from "../erasure/receipt.ts";
import { eraseAccount } from "../erasure/service.ts";
import { DomainError, notFound } from "../errors.ts";
import { writeArchive } from "../export/archive.ts";
import { type Command, choice, command, must, shortText, str, UsageError } from "./args.ts";
import { shortTime, table } from "./output.ts";
import { readFirstLine } from "./stdin.ts";

const roleChoice = z.enum(["admin", "member"]);

/** The local user `username`, or a "not found" error naming it. */
export async function requireUser(db: Db, username: string) {
  const user = await findLocalUser(db, username);
  if (!user) throw notFound(`user "${username}"`);
  return user;
}

function waitSeconds(value: string | boolean | undefined): number {
  if (value === undefined) return 20;
  const n = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || n > 3600)
    throw new UsageError("--wait must be a number of seconds from 0 to 3600");
  return n;
}

async function receiptOf(db: Db, erasureId: string): Promise<ErasureReceipt> {
  const receipt = await erasureReceipt(db, { erasureId });
  if (!receipt) throw new Error(`the receipt of erasure ${erasureId} is missing`);
  return receipt;
}

function receiptText(r: ErasureReceipt): string {
  const mode = r.mode === "anonymize" ? "anonymized" : "deleted";
  const state = r.completedAt
    ? `complete since ${shortTime(r.completedAt)} UTC, keys destroyed`
    : "deliveries in progress";
  const head = `deletion receipt for ${r.handle} (${mode}), requested ${shortTime(r.requestedAt)} UTC: ${state}\n`;
  if (r.servers.length === 0) return `${head}no other server had received anything from this account\n`;
  return (
    head +
    table(
      ["SERVER", "STATUS", "REQUESTS", "ATTEMPTS", "LAST ATTEMPT"],
      r.servers.map((s) => [
        s.host,
        receiptStatusText(s.status),
        String(s.deliveries),
        String(s.attempts),
        shortTime(s.lastAttemptAt),
      ]),
    )
  );
}

export const users: Command[] = [
  command({
    name: "user create",
    args: "<username> [--admin] [--email <address>] [--password-stdin]",
    summary: "Create a local user. Without --password-stdin a strong password is generated and printed once.",
    positionals: ["username"],
    options: { admin: { type: "boolean" }, email: { type: "string" }, "password-stdin": { type: "boolean" } },
    async run({ values, args, io, rt }) {
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
        { username: args.username, password, email: str(values.email) },
        { role: values.admin === true ? "admin" : "member", allowReserved: true },
      );
      io.stdout.write(`created ${user.role === "admin" ? "admin" : "user"} ${user.username}\n`);
      if (!fromStdin) io.stdout.write(`generated password (shown only this once; store it now): ${password}\n`);
      io.stdout.write(`${user.iri}\n`);
    },
  }),
  command({
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
        cursor = page.length === 500 ? page.at(-1)?.id : undefined;
      } while (cursor);
      if (rows.length === 0) {
        io.stdout.write("no users yet; create an admin with: kindred user create <username> --admin\n");
        return;
      }
      io.stdout.write(table(["USERNAME", "ROLE", "CLINICIAN", "CREATED (UTC)"], rows));
    },
  }),
  command({
    name: "user set-role",
    args: "<username> admin|member",
    summary: "Grant or withdraw instance admin rights.",
    positionals: ["username", "role"],
    options: {},
    check(_values, args) {
      choice("the role", args.role, roleChoice);
    },
    async run({ args, io, rt }) {
      const role = choice("the role", args.role, roleChoice);
      await setRole(rt.db, args.username, role);
      io.stdout.write(`${args.username} is now ${role === "admin" ? "an admin" : "a member"}\n`);
    },
  }),
  command({
    name: "user verify-clinician",
    args: "<username> --profession <p> [--registration <ref>] | --revoke",
    summary:
      "Give a user the verified clinician badge with their profession (and a registration reference readers " +
      "can check), change it, or take it back with --revoke.",
    positionals: ["username"],
    options: { profession: { type: "string" }, registration: { type: "string" }, revoke: { type: "boolean" } },
    check(values) {
      if (values.revoke === true && (values.profession !== undefined || values.registration !== undefined))
        throw new UsageError("--revoke takes no --profession or --registration");
      if (values.revoke !== true && !str(values.profession)?.trim())
        throw new UsageError("--profession is required (e.g. --profession Nurse), or --revoke");
      shortText("--profession", values.profession, PROFESSION_MAX);
      shortText("--registration", values.registration, REGISTRATION_MAX);
    },
    async run({ values, args, io, rt }) {
      const profession = str(values.profession);
      const badge = profession === undefined ? null : { profession, registration: str(values.registration) };
      await setClinician(rt.db, args.username, badge);
      io.stdout.write(
        badge
          ? `${args.username} now shows the verified clinician badge: ${badge.profession.trim()}\n`
          : `removed the verified clinician badge from ${args.username}\n`,
      );
    },
  }),
  command({
    name: "user export",
    args: "<username> --out <file> [--force]",
    summary:
      "Write a user's data archive (.tar.gz, Mastodon's layout plus messages, communities, account, " +
      "moderation and deliveries).",
    positionals: ["username"],
    options: { out: { type: "string" }, force: { type: "boolean" } },
    required: ["out"],
    async run({ values, args, io, rt, federate }) {
      const user = await requireUser(rt.db, args.username);
      const out = resolvePath(must(values.out));
      if (values.force !== true && (await stat(out).catch(() => undefined)))
        throw new DomainError("conflict", `${out} already exists (add --force to replace it)`);
      if (!rt.archive) federate?.(rt);
      if (!rt.archive) throw new Error("this command needs the federation's renderer");
      const started = performance.now();
      const size = await writeArchive(
        { db: rt.db, origin: rt.config.origin, dataDir: rt.config.dataDir, archive: rt.archive, media: rt.media },
        user.actorId,
        out,
      );
      io.stdout.write(`wrote ${out} (${size} bytes) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    },
  }),
  command({
    name: "user erase",
    args: "<username> --yes [--anonymize] [--wait <seconds>]",
    summary:
      "Erase a user here and on every server their content reached, then print the deletion receipt " +
      "(waiting up to --wait seconds, default 20, for deliveries).",
    positionals: ["username"],
    options: { yes: { type: "boolean" }, anonymize: { type: "boolean" }, wait: { type: "string" } },
    check(values) {
      if (values.yes !== true) throw new UsageError("erasing a user cannot be undone; add --yes to confirm");
      waitSeconds(values.wait);
    },
    async run({ values, args, io, rt, federate }) {
      const user = await requireUser(rt.db, args.username);
      // Its queue port is needed to erase; its workers only to deliver the Deletes.
      const federation = federate?.(rt);
      const queued = queuedDeliveriesOf(rt);
      const result = await eraseAccount(rt.db, rt.config.origin, user.actorId, {
        mode: values.anonymize === true ? "anonymize" : "delete",
        queued,
      });
      await removeErasedFiles(rt.config.dataDir, result.files);
      await scrubErasedPages(rt.db, rt.dialect);
      io.stdout.write(`erased ${result.handle}\n`);
      const wait = waitSeconds(values.wait);
      const workers = wait > 0 ? federation : undefined;
      if (workers) {
        io.stdout.write(`delivering the Delete (waiting up to ${wait} s)...\n`);
        const stop = new AbortController();
        const running = workers.runWorkers(stop.signal);
        const deadline = Date.now() + wait * 1000;
        while (Date.now() < deadline) {
          if (await erasureSettled(rt.db, result.erasureId, queued)) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        stop.abort();
        await running.catch(() => undefined);
        // Settled here: destroy the keys now rather than at the server's next check.
        await completeErasures(rt.db, queued);
      }
      io.stdout.write(receiptText(await receiptOf(rt.db, result.erasureId)));
      io.stdout.write(
        `receipt page (keep this address; it is shown once): ${rt.config.origin}/erasures/${result.receiptToken}\n`,
      );
    },
  }),
  command({
    name: "user erasure-status",
    args: "<username>",
    summary:
      "Show the deletion receipt of an erased user: each server and whether it accepted the Delete (answered 2xx).",
    positionals: ["username"],
    options: {},
    async run({ args, io, rt }) {
      const erasureId = await latestErasureOf(rt.db, args.username);
      if (!erasureId) throw new DomainError("not_found", `no erasure of "${args.username}" was recorded`);
      io.stdout.write(receiptText(await receiptOf(rt.db, erasureId)));
    },
  }),
];
