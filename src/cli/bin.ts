#!/usr/bin/env node
// `kindred <command>`: see src/cli/commands.ts.
import { main } from "./commands.ts";

process.exitCode = await main(process.argv.slice(2));
