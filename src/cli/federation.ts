// `kindred federation …`: whom this server federates with.
import { z } from "zod";
import { listDomainAllows, setFederationMode } from "../policy/service.ts";
import { type Command, choice, command } from "./args.ts";

const modeChoice = z.enum(["open", "allowlist"]);

export const federation: Command[] = [
  command({
    name: "federation mode",
    args: "open|allowlist",
    summary: "Federate with everyone not blocked (open), or only with allowed domains (allowlist).",
    positionals: ["mode"],
    options: {},
    check(_values, args) {
      choice("mode", args.mode, modeChoice);
    },
    async run({ args, io, rt }) {
      const mode = choice("mode", args.mode, modeChoice);
      await setFederationMode(rt.db, mode);
      const allowed = mode === "allowlist" ? ` (${(await listDomainAllows(rt.db)).length} allowed domains)` : "";
      io.stdout.write(`federation mode: ${mode}${allowed}\n`);
    },
  }),
];
