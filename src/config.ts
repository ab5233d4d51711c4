// The only module that reads process.env. Parsed once, every problem reported
// at once, returned frozen.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .default("false")
  .transform((v) => v === "true" || v === "1" || v === "yes");

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ORIGIN: z
    .url({ protocol: /^https?$/ })
    .default("http://localhost:3000")
    .transform((v) => new URL(v).origin),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|postgres(ql)?:\/\/)/, "must start with sqlite: or postgres://")
    .default("sqlite:./data/kindred.sqlite"),
  DATA_DIR: z.string().min(1).default("./data"),
  SECRET_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  ALLOW_PRIVATE_ADDRESS: booleanFlag,
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warning", "error", "fatal"]).default("info"),
  /** Run the delivery worker in this process (web+worker); set false for web-only nodes. */
  WORKER: z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default("true")
    .transform((v) => v === "true" || v === "1" || v === "yes"),
  /** Mastodon's AUTHORIZED_FETCH: every ActivityPub GET of an object or collection must be signed. */
  AUTHORIZED_FETCH: booleanFlag,
  /** Behind a reverse proxy: take the client address from X-Forwarded-For (for rate limits). */
  TRUST_PROXY: booleanFlag,
  INSTANCE_NAME: z.string().min(1).max(100).default("Kindred"),
  /** Largest image a member may upload, in MiB (it is re-encoded and resized to 2048 px). */
  MEDIA_MAX_MB: z.coerce.number().int().min(1).max(100).default(10),
  /** Days our copies of other servers' images are kept (fetched again when viewed later); 0 keeps them. */
  MEDIA_CACHE_DAYS: z.coerce.number().int().min(0).max(3650).default(14),
  /** Outgoing mail (email digests, issue 12): smtp://user:pass@host:port or smtps://…; unset sends none. */
  SMTP_URL: z
    .url({ protocol: /^smtps?$/ })
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /** The From address of that mail. */
  SMTP_FROM: z
    .email()
    .optional()
    .or(z.literal("").transform(() => undefined)),
});

export interface Config {
  readonly port: number;
  readonly origin: string;
  readonly secure: boolean;
  readonly databaseUrl: string;
  readonly dataDir: string;
  readonly secretKey: string;
  readonly allowPrivateAddress: boolean;
  readonly logLevel: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
  readonly worker: boolean;
  readonly instanceName: string;
  readonly trustProxy: boolean;
  readonly authorizedFetch: boolean;
  readonly mediaMaxBytes: number;
  readonly mediaCacheDays: number;
  readonly smtpUrl: string | null;
  readonly smtpFrom: string | null;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

/**
 * Reads the configuration from `env` (process.env by default). When SECRET_KEY
 * is unset, one is generated on first start and kept in DATA_DIR/secret.key.
 */
export function loadConfig(env: Record<string, string | undefined> = environment()): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const c = result.data;
  const dataDir = resolve(c.DATA_DIR);
  return Object.freeze({
    port: c.PORT,
    origin: c.ORIGIN,
    secure: c.ORIGIN.startsWith("https:"),
    databaseUrl: c.DATABASE_URL,
    dataDir,
    secretKey: c.SECRET_KEY ?? persistedSecret(join(dataDir, "secret.key")),
    allowPrivateAddress: c.ALLOW_PRIVATE_ADDRESS,
    logLevel: c.LOG_LEVEL,
    worker: c.WORKER,
    instanceName: c.INSTANCE_NAME,
    trustProxy: c.TRUST_PROXY,
    authorizedFetch: c.AUTHORIZED_FETCH,
    mediaMaxBytes: c.MEDIA_MAX_MB * 1024 * 1024,
    mediaCacheDays: c.MEDIA_CACHE_DAYS,
    smtpUrl: c.SMTP_URL ?? null,
    smtpFrom: c.SMTP_FROM ?? null,
  });
}

/** process.env, after loading `./.env` when there is one (values already set win). */
function environment(): Record<string, string | undefined> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  return process.env;
}

function persistedSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  return secret;
}

/** For process entry points: the configuration, or a clear message and exit code 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`kindred: ${error.message}`);
    process.exit(1);
  }
}
