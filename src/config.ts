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
  /** Hourly caps on each member's new threads, replies and direct messages (src/accounts/posting-limits.ts). */
  POSTING_LIMITS: z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default("true")
    .transform((v) => v === "true" || v === "1" || v === "yes"),
  /** Activities one server, and one remote account, may deliver to our inboxes per window (then 429 + Retry-After). */
  INBOX_LIMIT_PER_SERVER: z.coerce.number().int().min(1).default(3000),
  INBOX_LIMIT_PER_ACTOR: z.coerce.number().int().min(1).default(300),
  INBOX_LIMIT_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(300),
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
  /** Longest any outgoing request (a delivery, a fetch) may take from start to the last byte, in seconds. */
  OUTBOUND_TIMEOUT_S: z.coerce.number().positive().max(600).default(30),
  /** Longest an outgoing request may wait for its TCP/TLS connection, in seconds. */
  OUTBOUND_CONNECT_TIMEOUT_S: z.coerce.number().positive().max(600).default(10),
  /** How long a crashed worker's messages wait before another worker takes them (a live one renews its hold). */
  QUEUE_LEASE_S: z.coerce.number().int().min(5).max(3600).default(60),
  /** Received activities processed at once (each process that runs workers). */
  INBOX_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  /** Deliveries in flight at once (each process that runs workers): enough to hide far servers' latency. */
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
  /** Deliveries in flight at once to any one host, so a slow server cannot hold every delivery slot. */
  DELIVERY_HOST_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(4),
  /**
   * PostgreSQL connections each process may hold (SQLite has one). Web and worker processes each have a pool of
   * their own, so N processes hold up to N × this; keep it under the server's max_connections.
   */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
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
  readonly postingLimits: boolean;
  readonly queueLeaseMs: number;
  readonly inboxLimits: { perServer: number; perActor: number; windowMs: number };
  readonly mediaMaxBytes: number;
  readonly mediaCacheDays: number;
  readonly smtpUrl: string | null;
  readonly smtpFrom: string | null;
  readonly outboundTimeoutMs: number;
  readonly outboundConnectTimeoutMs: number;
  readonly inboxConcurrency: number;
  readonly deliveryConcurrency: number;
  readonly deliveryHostConcurrency: number;
  readonly databasePoolSize: number;
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
    postingLimits: c.POSTING_LIMITS,
    queueLeaseMs: c.QUEUE_LEASE_S * 1000,
    inboxLimits: {
      perServer: c.INBOX_LIMIT_PER_SERVER,
      perActor: c.INBOX_LIMIT_PER_ACTOR,
      windowMs: c.INBOX_LIMIT_WINDOW_S * 1000,
    },
    mediaMaxBytes: c.MEDIA_MAX_MB * 1024 * 1024,
    mediaCacheDays: c.MEDIA_CACHE_DAYS,
    smtpUrl: c.SMTP_URL ?? null,
    smtpFrom: c.SMTP_FROM ?? null,
    outboundTimeoutMs: Math.round(c.OUTBOUND_TIMEOUT_S * 1000),
    outboundConnectTimeoutMs: Math.round(c.OUTBOUND_CONNECT_TIMEOUT_S * 1000),
    inboxConcurrency: c.INBOX_CONCURRENCY,
    deliveryConcurrency: c.DELIVERY_CONCURRENCY,
    deliveryHostConcurrency: c.DELIVERY_HOST_CONCURRENCY,
    databasePoolSize: c.DATABASE_POOL_SIZE,
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
