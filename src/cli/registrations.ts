// `kindred signup …` and `kindred invite …`: the sign-up mode, the queue of
// applications and invite links, as an admin has them on /admin/registrations
// and /admin/invites.
import { z } from "zod";
import { updateSettings } from "../instance/settings.ts";
import { createInvite, INVITE_EXPIRIES, listInvites, MAX_INVITE_USES, revokeInvite } from "../registrations/invites.ts";
import { approveApplication, listApplications, rejectApplication } from "../registrations/service.ts";
import { type Command, choice, command, UsageError, wholeNumber } from "./args.ts";
import { printable } from "./moderation.ts";
import { shortTime, table } from "./output.ts";

const modeChoice = z.enum(["open", "approval", "invite", "closed"]);

const oneLine = (text: string, max = 60) => {
  const line = printable(text).replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line || "-";
};

export const registrations: Command[] = [
  command({
    name: "signup mode",
    args: "<open|approval|invite|closed>",
    summary: "Set who may sign up: anyone, anyone once approved, invite links only, or nobody.",
    positionals: ["mode"],
    options: {},
    check(_values, args) {
      choice("mode", args.mode, modeChoice);
    },
    async run({ args, io, rt }) {
      const mode = choice("mode", args.mode, modeChoice);
      await updateSettings(rt.db, { registrations: mode });
      io.stdout.write(`sign-ups are now: ${mode}\n`);
    },
  }),
  command({
    name: "signup list",
    args: "",
    summary: "List applications waiting for approval, oldest first, with the applicant's answer.",
    positionals: [],
    options: {},
    async run({ io, rt }) {
      const apps = await listApplications(rt.db);
      if (apps.length === 0) {
        io.stdout.write("no application is waiting\n");
        return;
      }
      io.stdout.write(
        table(
          ["USERNAME", "APPLIED (UTC)", "EMAIL", "ANSWER"],
          apps.map((a) => [a.username, shortTime(a.createdAt), a.hasEmail ? "yes" : "no", oneLine(a.answer)]),
        ),
      );
    },
  }),
  command({
    name: "signup approve",
    args: "<username>",
    summary: "Approve an application: the account is created with the password the applicant chose.",
    positionals: ["username"],
    options: {},
    async run({ args, io, rt }) {
      const user = await approveApplication(rt.db, rt.config.origin, args.username);
      io.stdout.write(`approved ${user.username}: the account exists now\n`);
    },
  }),
  command({
    name: "signup reject",
    args: "<username>",
    summary: "Reject an application; nothing of it is kept.",
    positionals: ["username"],
    options: {},
    async run({ args, io, rt }) {
      await rejectApplication(rt.db, args.username);
      io.stdout.write(`rejected the application of ${args.username}\n`);
    },
  }),
  command({
    name: "invite create",
    args: "[--uses <n>] [--expires 30m|1h|6h|12h|1d|7d|never]",
    summary: "Make an invite link (default: any number of uses, for 7 days); it signs up past approval.",
    positionals: [],
    options: { uses: { type: "string" }, expires: { type: "string" } },
    check(values) {
      wholeNumber("--uses", values.uses, 1, MAX_INVITE_USES);
      if (typeof values.expires === "string" && !(values.expires in INVITE_EXPIRIES))
        throw new UsageError(`--expires must be one of ${Object.keys(INVITE_EXPIRIES).join(", ")}`);
    },
    async run({ values, io, rt }) {
      const invite = await createInvite(rt.db, {
        createdBy: null,
        maxUses: wholeNumber("--uses", values.uses, 1, MAX_INVITE_USES) ?? null,
        expiresIn: typeof values.expires === "string" ? values.expires : "7d",
      });
      io.stdout.write(`${rt.config.origin}/invite/${invite.code}\n`);
    },
  }),
  command({
    name: "invite list",
    args: "[--all]",
    summary: "List invite links that still work (--all: expired, used-up and revoked ones too).",
    positionals: [],
    options: { all: { type: "boolean" } },
    async run({ values, io, rt }) {
      const invites = await listInvites(rt.db, { all: values.all === true });
      if (invites.length === 0) {
        io.stdout.write("no invite links\n");
        return;
      }
      io.stdout.write(
        table(
          ["CODE", "USED", "EXPIRES (UTC)", "STATE"],
          invites.map((i) => [
            i.code,
            i.maxUses === null ? String(i.uses) : `${i.uses}/${i.maxUses}`,
            i.expiresAt ? shortTime(i.expiresAt) : "never",
            i.revokedAt ? "revoked" : i.usable ? "usable" : "expired or used up",
          ]),
        ),
      );
    },
  }),
  command({
    name: "invite revoke",
    args: "<code>",
    summary: "Revoke an invite link.",
    positionals: ["code"],
    options: {},
    async run({ args, io, rt }) {
      await revokeInvite(rt.db, args.code);
      io.stdout.write(`revoked invite ${args.code}\n`);
    },
  }),
];
