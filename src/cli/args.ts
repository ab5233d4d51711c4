// What every namespace of the CLI shares: the shape of a command, the checks of
// option values, the parsing of the command line and the usage text.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import type { z } from "zod";
import type { Federated } from "../roles.ts";
import type { Runtime } from "../runtime.ts";

export interface Io {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** A mistake in the command line. */
export const EXIT_USAGE = 2;

/** A mistake in the command line: exit code 2. */
export class UsageError extends Error {
  /** Print the usage text after the message. */
  readonly showUsage: boolean;
  constructor(message: string, showUsage = false) {
    super(message);
    this.name = "UsageError";
    this.showUsage = showUsage;
  }
}

/**
 * Builds the federation for commands that render ActivityPub, deliver or
 * serve (export, erase, web, worker): the entry point plugs it in, as src/
 * does not import federation/. It sets `rt.archive` and returns the delivery
 * workers and the handler of ActivityPub's requests.
 */
export type Federate = (rt: Runtime) => Federated;

export type Values = Record<string, string | boolean | undefined>;

export interface Invocation<P extends string = string> {
  values: Values;
  /** The positional arguments by name, all present once parsed. */
  args: Record<P, string>;
  io: Io;
  rt: Runtime;
  federate?: Federate | undefined;
}

export interface Command<P extends string = string> {
  /** "user create" */
  name: string;
  /** Arguments after the name, for usage text. */
  args: string;
  summary: string;
  /** Names of the required positional arguments, in order. */
  positionals: readonly P[];
  options: ParseArgsOptionsConfig;
  /** Options that must be given, e.g. `--name`. */
  required?: string[];
  /** `migrate` opens the database without migrating, to report what it applies. */
  migrates?: boolean;
  /** Checks option values before the database is opened; throws UsageError. */
  check?(values: Values, args: Record<P, string>): void;
  run(inv: Invocation<P>): Promise<void>;
}

/** Types a command by the names of its positional arguments, so `run` reads them as `args.<name>`. */
export const command = <const P extends string = never>(c: Command<P>): Command => c;

// ---- option values ----

export const orList = (values: readonly string[]) =>
  values.length <= 1 ? values.join("") : `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;

/** Checks an option against an enum (the services' own, where they have one). */
export function choice<T extends string>(flag: string, value: string, schema: z.ZodEnum<{ [K in T]: K }>): T;
export function choice<T extends string>(
  flag: string,
  value: string | boolean | undefined,
  schema: z.ZodEnum<{ [K in T]: K }>,
): T | undefined;
export function choice<T extends string>(
  flag: string,
  value: string | boolean | undefined,
  schema: z.ZodEnum<{ [K in T]: K }>,
): T | undefined {
  if (value === undefined) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`${flag} must be ${orList(schema.options)}`);
  return result.data as T;
}

export const str = (value: string | boolean | undefined): string | undefined =>
  typeof value === "string" ? value : undefined;

/** A string option listed in `required`, hence present. */
export const must = (value: string | boolean | undefined): string => {
  if (typeof value !== "string") throw new Error("required option missing after validation");
  return value;
};

/** A whole-number option from `min` to `max`, e.g. `--days 7`; undefined when not given. */
export function wholeNumber(
  flag: string,
  value: string | boolean | undefined,
  min: number,
  max: number,
  unit = "",
): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`${flag} must be a whole number${unit ? ` of ${unit}` : ""} from ${min} to ${max}`);
  }
  return n;
}

/** A text option of at most `max` characters (as the service counts them, trimmed). */
export function shortText(flag: string, value: string | boolean | undefined, max: number): string | undefined {
  const text = str(value);
  if (text !== undefined && text.trim().length > max) throw new UsageError(`${flag} must be at most ${max} characters`);
  return text;
}

// ---- usage ----

const usageLine = (c: Command) => `kindred ${c.name}${c.args ? ` ${c.args}` : ""}`;

/** The text of `kindred help`: every command, in the order given. */
export function usage(commands: readonly Command[]): string {
  const lines = ["Usage: kindred <command> [options]", "", "Commands:"];
  for (const c of commands) lines.push(`  ${usageLine(c).slice("kindred ".length)}`, `      ${c.summary}`);
  lines.push(
    "  help",
    '      Show this text. "kindred <command> --help" shows one command.',
    "",
    "Configuration is read from the environment, as for the server " +
      "(DATABASE_URL, ORIGIN, DATA_DIR, LOG_LEVEL, ...).",
  );
  return `${lines.join("\n")}\n`;
}

/** The text of `kindred <command> --help`. */
export const commandHelp = (c: Command) => `Usage: ${usageLine(c)}\n\n${c.summary}\n`;

// ---- argument parsing ----

/** The command `argv` names and the arguments after its name, or "help". */
export function findCommand(
  commands: readonly Command[],
  argv: string[],
): { command: Command; rest: string[] } | "help" {
  const [first, second] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") return "help";
  if (first.startsWith("-")) throw new UsageError(`unknown option ${first}`, true);
  const subs = commands.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.slice(first.length + 1));
  if (subs.length > 0) {
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

export type Parsed = { help: true } | { help: false; values: Values; args: Record<string, string> };

/** Parses the arguments after the command's name; every positional and required option is then present. */
export function parseCommandArgs(command: Command, rest: string[]): Parsed {
  let parsed: ReturnType<typeof parseArgs>;
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
  const values = parsed.values as Values;
  if (values.help === true) return { help: true };
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
  const args: Record<string, string> = {};
  expected.forEach((name, i) => {
    args[name] = positionals[i] ?? "";
  });
  return { help: false, values, args };
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
  return message.split("\n", 1)[0] ?? message;
}
