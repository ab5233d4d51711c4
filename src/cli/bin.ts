#!/usr/bin/env node
// `kindred <command>`: see src/cli/main.ts. This entry point only dispatches,
// plugging in the federation, which export and erase need (src/ does not import federation/).
import { archiveRenderer } from "../../federation/archive.ts";
import { buildFederation } from "../../federation/builder.ts";
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2), {
  federate: (rt) => {
    const built = buildFederation(rt);
    rt.remote = built.remote;
    rt.archive = archiveRenderer(built.federation, rt);
    return built;
  },
});
