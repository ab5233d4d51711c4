// Runs the self-hosters' CLI two ways: in this process through `main` (fast:
// for the commands' logic, words and exit codes), or as a real
// `node src/cli/bin.ts` process (slow: for the end-to-end contract).
import { Readable } from "node:stream";
import { expect } from "vitest";
import { main } from "../../src/cli/main.ts";
import { runCli } from "./processes.ts";

export const ORIGIN = "http://localhost:3000";

/** For tests that start CLI processes: a few seconds each on a loaded machine, never a race with the clock. */
export const SPAWN_TIMEOUT = 120_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Whatever happens, a self-hoster never sees a stack trace. */
function expectNoStackTrace(args: string[], stderr: string) {
  expect(stderr, `stderr of kindred ${args.join(" ")}`).not.toContain("    at ");
}

/** The defaults every run gets under its own `env`. */
const baseEnv = (env: Record<string, string>) => ({ LOG_LEVEL: "info", ORIGIN, ...env });

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `main` in this process with `env` (on top of LOG_LEVEL and ORIGIN) as its
 * whole environment, `input` as its stdin, and its output captured.
 *
 * Runs are queued: each has the database to itself, as it would as a process.
 * (Two at once on one SQLite file could deadlock: better-sqlite3 waits for a
 * lock synchronously, on the one thread that would release it.)
 */
export function runMain(env: Record<string, string>, args: string[], input?: string): Promise<CliResult> {
  const run = queue.then(async (): Promise<CliResult> => {
    let stdout = "";
    let stderr = "";
    const code = await main(args, {
      env: baseEnv(env),
      io: {
        stdout: { write: (chunk: string) => (stdout += chunk) },
        stderr: { write: (chunk: string) => (stderr += chunk) },
        stdin: Readable.from(input === undefined ? [] : [input], { objectMode: false }),
      },
    });
    expectNoStackTrace(args, stderr);
    return { code, stdout, stderr };
  });
  queue = run.catch(() => undefined);
  return run;
}

/** Runs `node src/cli/bin.ts` (see runCli) with `env`, on top of LOG_LEVEL and ORIGIN, added to this process's environment. */
export const spawnCli = (env: Record<string, string>, args: string[], input?: string): Promise<CliResult> =>
  runCli({ ...process.env, ...baseEnv(env) }, args, input);
