#!/usr/bin/env node
// `kindred <command>`: see src/cli/main.ts. This entry point only dispatches,
// plugging in the federation, which export and erase need (src/ does not import federation/).
import { attachFederation } from "../../federation/attach.ts";
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2), { federate: attachFederation });
