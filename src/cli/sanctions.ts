// `kindred user suspend|unsuspend|limit|unlimit`: an admin at the command line
// sanctions one account, local (by username) or remote (by actor IRI or
// name@host), through the same service as the admin's forms on a profile. The
// person is told why (statement of reasons) and may appeal; the running
// server's outbox federates what changed.
import {
  findSanctionTarget,
  handleOfTarget,
  liftSanction,
  SANCTION_REASON_MAX,
  sanction,
} from "../sanctions/service.ts";
import { type Command, command, shortText } from "./args.ts";
import { ADMIN, printable } from "./moderation.ts";

const VERBS = [
  { name: "suspend", kind: "suspend", lift: false, done: "suspended" },
  { name: "unsuspend", kind: "suspend", lift: true, done: "lifted the suspension of" },
  { name: "limit", kind: "limit", lift: false, done: "limited" },
  { name: "unlimit", kind: "limit", lift: true, done: "lifted the limit on" },
] as const;

const SUMMARY: Record<(typeof VERBS)[number]["name"], string> = {
  suspend:
    "Suspend an account: it can no longer post or be seen, and its server's deliveries are refused. " +
    "The person is told the reason and may appeal.",
  unsuspend: "Lift an account's suspension.",
  limit: "Limit an account: its posts stay out of public listings and its follows need approval.",
  unlimit: "Lift an account's limit.",
};

export const sanctions: Command[] = VERBS.map((v) =>
  command({
    name: `user ${v.name}`,
    args: "<username|actor IRI|name@host> [--reason <text>]",
    summary: SUMMARY[v.name],
    positionals: ["account"],
    options: { reason: { type: "string" } },
    check(values) {
      shortText("--reason", values.reason, SANCTION_REASON_MAX);
    },
    async run({ values, args, io, rt }) {
      const target = await findSanctionTarget(rt.db, args.account);
      const reason = shortText("--reason", values.reason, SANCTION_REASON_MAX);
      const id = v.lift
        ? await liftSanction(rt.db, rt.config.origin, ADMIN, target, v.kind, reason)
        : await sanction(rt.db, rt.config.origin, ADMIN, target, v.kind, reason);
      io.stdout.write(`${v.done} ${printable(handleOfTarget(target))} (moderation action ${id})\n`);
    },
  }),
);
