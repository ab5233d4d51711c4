// The self-hosters' CLI: `npm run kindred -- <command>`. Every command goes
// through the same services as the web app; this module finds the command,
// checks its arguments, opens the database, and maps every error to one
// `kindred: …` line and an exit code.
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { DomainError } from "../errors.ts";
import { openRuntime } from "../runtime.ts";
import {
  commandHelp,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  type Federate,
  findCommand,
  type Io,
  parseCommandArgs,
  UsageError,
  usage,
} from "./args.ts";
import { commands } from "./commands.ts";

export interface MainOptions {
  /** Where the command reads and writes; the process's own streams by default. */
  io?: Io;
  /** Plugs in the federation, for the commands that need it (see {@link Federate}). */
  federate?: Federate;
  /** The environment to configure from; by default the process's own (and ./.env), as for the server. */
  env?: Record<string, string | undefined>;
}

const defaultIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  // Lazy: only `--password-stdin` touches stdin.
  get stdin() {
    return process.stdin;
  },
});

/** Runs one CLI invocation; resolves to the process exit code. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const { io = defaultIo(), federate, env } = options;
  let config: Config | undefined;
  try {
    const found = findCommand(commands, argv);
    if (found === "help") {
      io.stdout.write(usage(commands));
      return EXIT_OK;
    }
    const { command, rest } = found;
    const parsed = parseCommandArgs(command, rest);
    if (parsed.help) {
      io.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    command.check?.(parsed.values, parsed.args);
    config = loadConfig(env);
    const rt = await openRuntime(config, { migrate: !command.migrates });
    try {
      await command.run({ values: parsed.values, args: parsed.args, io, rt, federate });
    } finally {
      await rt.close();
    }
    return EXIT_OK;
  } catch (error) {
    return report(error, io, config);
  }
}

/** Writes one `kindred: …` line for `error` (and its stack at LOG_LEVEL=debug); returns the exit code. */
function report(error: unknown, io: Io, config: Config | undefined): number {
  if (error instanceof UsageError) {
    io.stderr.write(`kindred: ${error.message}\n`);
    if (error.showUsage) io.stderr.write(`\n${usage(commands)}`);
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
  if (unreachable) io.stderr.write(`kindred: cannot use the database in DATABASE_URL: ${describeError(unreachable)}\n`);
  else io.stderr.write(`kindred: unexpected error: ${describeError(error)}\n`);
  const debug = config?.logLevel === "debug" || config?.logLevel === "trace";
  if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return EXIT_FAILURE;
}

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
