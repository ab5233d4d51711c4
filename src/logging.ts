import { AsyncLocalStorage } from "node:async_hooks";
import { configure, getConsoleSink, getLogger, type LogLevel, type LogRecord, type Sink } from "@logtape/logtape";

/**
 * Structured logs through LogTape, the library Fedify logs with. Categories:
 * ["kindred", …] for ours, ["fedify", …] for Fedify's. Never log post text,
 * emails, passwords or tokens: log ids and IRIs instead.
 *
 * Health data must not reach the logs even when a library logs it (Fedify
 * logs whole activities, and errors that quote request bodies), so every
 * record passes `redactRecord` before a sink sees it. At `debug` and `trace`
 * an admin has opted into detail: activity bodies stay, secrets never do.
 */
export async function setUpLogging(level: LogLevel): Promise<void> {
  const detail = level === "debug" || level === "trace";
  await configure({
    reset: true,
    // Fedify attaches request ids through context-local storage.
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { console: redacting(getConsoleSink(), detail) },
    loggers: [
      { category: ["kindred"], lowestLevel: level, sinks: ["console"] },
      { category: ["fedify"], lowestLevel: detail ? level : "warning", sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}

export const logger = (...category: string[]) => getLogger(["kindred", ...category]);

/** `sink`, fed only redacted records (see `redactRecord`). */
export function redacting(sink: Sink, detail: boolean): Sink {
  return (record) => {
    let clean: LogRecord;
    try {
      clean = redactRecord(record, detail);
    } catch {
      // Never the original: LogTape would report the failure with the record attached.
      clean = { ...record, message: ["(a log record was dropped: it could not be redacted)"], properties: {} };
    }
    sink(clean);
  };
}

// ---------------------------------------------------------------------------
// Redaction. Without `detail`, a value is kept only in a shape known to be
// safe (numbers, IRIs, ids, timestamps, host names, short words under keys
// that name a status or a reason); a JSON document is reduced to its type, id
// and actor; an error keeps its class, the first line of its message without
// quoted parts, and its stack frames. With `detail`, everything is kept except
// secrets: values under secret-sounding keys, emails, credentials in URLs.

export const REDACTED = "[redacted]";

/** Keys whose values are never logged, at any level (compared lower-case, without `-` or `_`). */
const SECRET_KEY =
  /passw|passphrase|secret|token|csrf|cookie|authoriz|^signature|privatekey|apikey|^session|e?mail|^otp$|receipt/;
const words = (...lists: string[]) => new Set(lists.join(" ").split(" "));
/** Keys that hold text people wrote: never logged without `detail`, whatever their shape. */
const TEXT_KEYS = words(
  "content contentmap summary summarymap source text comment comments body html markdown bio note displayname",
  "title description q query search responsebody resourcedescriptor",
);
/** Keys that hold a JSON document, or its IRI: only the IRI, or the document's type, id and actor, are kept. */
const DOCUMENT_KEYS = words("activity json object document normalizedactivity payload parseinput");
/** Keys whose short word or phrase values are ours or Fedify's vocabulary, not someone's text. */
const WORD_KEYS = words(
  "method status statustext reason outcome name from to type identifier recipient username host remotehost level",
  "code channel state kind protocol redirectedprotocol label spec algorithm dialect job task",
);
/** Keys holding an error, or an error's message. */
const ERROR_KEYS = words("error errors cause message");
/** Query parameters whose values are kept (paging, WebFinger); any other value becomes `…`. */
const SAFE_QUERY = words("cursor page saved erased resource rel limit max_id min_id");
/** Headers whose values are kept without `detail`. */
const SAFE_HEADERS = words(
  "accept content-type content-length date server location retry-after user-agent host via vary cache-control",
);
/** Path segments after which the next segment is a secret (erasure receipts) or someone's words (hashtags). */
const PRIVATE_SEGMENT = /\/(erasures|tags)\/[^/?#]+/g;

const EMAIL = /(?<![@\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>`]+/gi;
const CREDENTIAL = /\b(Bearer|Basic)\s+[\w.~+/=-]+/gi;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;
const NUMBER = /^-?\d+(\.\d+)?$/;
const HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d{1,5})?$/i;
const WORDS = /^[\w .:#/+-]{1,100}$/;
/** An activity type as written (`Flag`, `as:Flag`, a full IRI): one word, never a phrase. */
const TYPE = /^[\w:#/.-]{1,100}$/;
const OTHER_IRI = /^(acct|tag|urn|did):[^\s"'<>]{1,300}$/i;

const MAX_DEPTH = 5;
const MAX_ITEMS = 20;

/** `record` with its properties and the values in its message redacted (see above). */
export function redactRecord(record: LogRecord, detail: boolean): LogRecord {
  const clean = (key: string | undefined, value: unknown) =>
    detail ? scrub(normal(key), value, 0) : summarize(normal(key), value, 0);
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record.properties)) properties[key] = clean(key, value);
  const keys = placeholders(record.rawMessage);
  const message = record.message.map((part, i) => {
    if (i % 2 === 0) return scrubText(String(part));
    const key = keys[(i - 1) / 2];
    return key === "*" ? properties : clean(key, part);
  });
  return { ...record, message, properties };
}

const normal = (key: string | undefined) => key?.toLowerCase().replace(/[-_]/g, "");

/** The placeholder names of a message template, in order, as LogTape reads them (`{a.b}` counts as `b`). */
function placeholders(raw: string | TemplateStringsArray): string[] {
  if (typeof raw !== "string") return [];
  const keys: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== "{") continue;
    if (raw[i + 1] === "{") {
      i++;
      continue;
    }
    const close = raw.indexOf("}", i + 1);
    if (close === -1) break;
    const key = raw.slice(i + 1, close).trim();
    keys.push(key === "*" ? key : lastSegment(key));
    i = close;
  }
  return keys;
}

const lastSegment = (path: string) =>
  path
    .split(/[.[\]"']/)
    .filter(Boolean)
    .pop() ?? path;

// --- without detail

function summarize(key: string | undefined, value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return value;
  if (key && SECRET_KEY.test(key)) return REDACTED;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return value;
  if (typeof value === "string") return summarizeString(key, value);
  if (typeof value !== "object") return `[${typeof value}]`;
  if (value instanceof Error) return cleanError(value, false, depth);
  if (value instanceof URL) return safeUrl(value.href);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) return listOf(value, (item) => summarize(key, item, depth + 1));
  if (value instanceof Headers || key === "headers") return headers(value, false);
  if (value instanceof Request) return { method: value.method, url: safeUrl(value.url) };
  if (value instanceof Response) return { status: value.status, url: safeUrl(value.url) };
  if (isVocabObject(value)) return vocabSummary(value);
  const entries = plainEntries(value);
  if (!entries) return customString(value, (text) => summarizeString(key, text));
  if ((key && DOCUMENT_KEYS.has(key)) || looksLikeDocument(value as Record<string, unknown>)) {
    return documentSummary(value as Record<string, unknown>);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, summarize(normal(k), v, depth + 1)]));
}

function summarizeString(key: string | undefined, value: string): string {
  if (key && TEXT_KEYS.has(key)) return REDACTED;
  if (key && ERROR_KEYS.has(key)) return errorText(value);
  if (key === "type") return TYPE.test(value) ? value : REDACTED;
  if (/^https?:\/\//i.test(value) && !/\s/.test(value)) return safeUrl(value);
  if (key && DOCUMENT_KEYS.has(key)) return REDACTED;
  if (value.startsWith("/") && !/\s/.test(value)) return safePath(value);
  if (OTHER_IRI.test(value) || UUID.test(value) || TIMESTAMP.test(value) || NUMBER.test(value)) return value;
  if (HOST.test(value) || value === "") return value;
  if (key && WORD_KEYS.has(key) && WORDS.test(value)) return value;
  return REDACTED;
}

/** An activity or object reduced to what an admin needs to find it: its type, id and actor. */
function documentSummary(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (doc.type !== undefined)
    out.type = listOrOne(doc.type, (t) => (typeof t === "string" && TYPE.test(t) ? t : REDACTED));
  for (const field of ["id", "actor", "object"] as const) {
    if (doc[field] !== undefined) out[field] = listOrOne(doc[field], iriOf);
  }
  return out;
}

function iriOf(value: unknown): unknown {
  if (typeof value === "string") return /^https?:\/\/\S+$/i.test(value) ? safeUrl(value) : REDACTED;
  if (value && typeof value === "object" && "id" in value) {
    const { id, type } = value as { id: unknown; type?: unknown };
    return typeof type === "string" && TYPE.test(type) ? { type, id: iriOf(id) } : iriOf(id);
  }
  return value === null || value === undefined ? value : REDACTED;
}

const looksLikeDocument = (o: Record<string, unknown>) =>
  "@context" in o || ("type" in o && ("id" in o || "actor" in o || "object" in o || "content" in o));

/**
 * The first line of an error message (a body a server answered with, or a
 * stack of details, follows it), without quoted parts or JSON (V8 quotes the
 * start of a body that is not valid JSON, validators quote bad values), and
 * with what follows its first `: ` only if that is made of safe shapes
 * (`invalid RFC 9557 string: <a date field's text>`, but `HTTP 404: <url>`).
 */
function errorText(message: string): string {
  // Quoted parts become placeholders first, so that what is left unbalanced (a quote or a bracket
  // whose end was cut off) can be cut off in turn; then the placeholders are written back as `"…"`.
  let line = (message.split("\n", 1)[0] ?? "")
    .replace(/"(?:[^"\\]|\\.)*"/g, "\u0001")
    .replace(/`[^`]*`/g, "\u0001")
    .replace(/(^|[\s([{,:=])'[^']*'/g, "$1\u0002")
    .replace(/["`].*$/, "…")
    .replace(/(^|[\s([{,:=])'.*$/, "$1…");
  for (let before = ""; before !== line; ) {
    before = line;
    line = line.replace(/\{[^{}]*\}/g, "{…}").replace(/\[[^[\]]*\]/g, "[…]");
  }
  line = line
    .replace(/[{[].*$/, "…")
    .replaceAll("\u0001", '"…"')
    .replaceAll("\u0002", "'…'");
  // `String(error)` starts with the class: `TypeError: fetch failed`.
  const colon = line.indexOf(": ", /^[\w$]*(Error|Exception)( \[[\w-]+\])?: /.exec(line)?.[0].length ?? 0);
  const details = colon === -1 ? [] : line.slice(colon + 2).split(/\s+/);
  if (!details.every(safeWord)) line = `${line.slice(0, colon)}: …`;
  return scrubText(line).slice(0, 300);
}

/** A word of an error's details that is a value an admin needs, not someone's text. */
function safeWord(word: string): boolean {
  const w = word.replace(/^[(<]+|[)>.,;:]+$/g, "");
  if (w === "" || /^(…|"…"|'…'|\{…\}|\[…\])$/.test(w) || /^[A-Z][A-Z0-9_]{2,}$/.test(w)) return true;
  return /^https?:\/\/\S+$/i.test(w) || NUMBER.test(w) || HOST.test(w) || UUID.test(w) || /^[\d.]+(:\d+)?$/.test(w);
}

// --- with detail

function scrub(key: string | undefined, value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return value;
  if (key && SECRET_KEY.test(key)) return REDACTED;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return value;
  if (typeof value === "string") return value.startsWith("/") && !/\s/.test(value) ? safePath(value) : scrubText(value);
  if (typeof value !== "object") return `[${typeof value}]`;
  if (value instanceof Error) return cleanError(value, true, depth);
  if (value instanceof URL) return safeUrl(value.href);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (depth >= 2 * MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) return listOf(value, (item) => scrub(key, item, depth + 1), 5 * MAX_ITEMS);
  if (value instanceof Headers || key === "headers") return headers(value, true);
  if (value instanceof Request) return { method: value.method, url: safeUrl(value.url) };
  if (value instanceof Response) return { status: value.status, url: safeUrl(value.url) };
  if (isVocabObject(value)) return vocabSummary(value);
  const entries = plainEntries(value);
  if (!entries) return customString(value, scrubText);
  return Object.fromEntries(entries.map(([k, v]) => [k, scrub(normal(k), v, depth + 1)]));
}

/** Free text without emails, credentials, or URLs' secrets. */
function scrubText(text: string): string {
  return text
    .replace(URL_IN_TEXT, (url) => safeUrl(url))
    .replace(PRIVATE_SEGMENT, "/$1/…")
    .replace(EMAIL, "[email]")
    .replace(CREDENTIAL, `$1 ${REDACTED}`);
}

// --- shared

const BUILTIN_ERRORS = [Error, SyntaxError, TypeError, RangeError, ReferenceError, URIError, EvalError] as const;

/** A copy of `error` fit to log: its class, a cleaned message, its stack frames, `code`, `status` and cause. */
function cleanError(error: Error, detail: boolean, depth: number): Error {
  const message = detail ? scrubText(String(error.message)) : errorText(String(error.message));
  const Builtin = BUILTIN_ERRORS.find((type) => error.constructor === type);
  const clean = Builtin ? new Builtin(message) : new Error(message);
  if (!Builtin) Object.defineProperty(clean, "name", { value: error.name, configurable: true, writable: true });
  const frames = (error.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line));
  clean.stack = [`${error.name}: ${message}`, ...frames.map(scrubText)].join("\n");
  const { code, status, statusCode } = error as { code?: unknown; status?: unknown; statusCode?: unknown };
  const extra = clean as Error & Record<string, unknown>;
  if (typeof code === "string" && /^[\w.-]{1,40}$/.test(code)) extra.code = code;
  for (const [k, v] of [["status", status] as const, ["statusCode", statusCode] as const]) {
    if (typeof v === "number") extra[k] = v;
  }
  if (depth < MAX_DEPTH && error.cause !== undefined) {
    clean.cause = detail ? scrub("cause", error.cause, depth + 1) : summarize("cause", error.cause, depth + 1);
  }
  if (depth < MAX_DEPTH && error instanceof AggregateError && Array.isArray(error.errors)) {
    extra.errors = listOf(error.errors, (e) =>
      detail ? scrub("error", e, depth + 1) : summarize("error", e, depth + 1),
    );
  }
  return clean;
}

/** An IRI or URL without credentials, secret path segments or query values (but paging and WebFinger's). */
function safeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return REDACTED;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return OTHER_IRI.test(raw) ? raw : REDACTED;
  const path = url.pathname.replace(PRIVATE_SEGMENT, "/$1/…").replace(EMAIL, "[email]");
  const query = [...url.searchParams]
    .map(([k, v]) => `${encodeURIComponent(k)}=${SAFE_QUERY.has(k) ? encodeURIComponent(v) : "…"}`)
    .join("&");
  const hash = url.hash === "" || /^#[\w./-]{1,100}$/.test(url.hash) ? url.hash : "#…";
  // Nothing to hide: the IRI as it was written (no `/` added to a bare origin).
  if (!url.username && !url.password && !query && path === url.pathname && hash === url.hash) return raw;
  return `${url.protocol}//${url.host}${path}${query ? `?${query}` : ""}${hash}`;
}

/** A request path (with its query), cleaned like `safeUrl`. */
function safePath(path: string): string {
  if (path.startsWith("//")) return REDACTED;
  const base = "http://localhost";
  const url = safeUrl(`${base}${path}`);
  return url.startsWith(base) ? url.slice(base.length) : REDACTED;
}

function headers(value: object, detail: boolean): Record<string, string> {
  const entries: [string, unknown][] =
    value instanceof Headers ? [...value.entries()] : (plainEntries(value) ?? []).map(([k, v]) => [k.toLowerCase(), v]);
  return Object.fromEntries(
    entries.map(([name, v]) => {
      const text = String(v);
      if (SECRET_KEY.test(normal(name) ?? "")) return [name, REDACTED];
      return [name, detail || SAFE_HEADERS.has(name) ? scrubText(text).slice(0, 300) : REDACTED];
    }),
  );
}

function listOf(items: readonly unknown[], each: (item: unknown) => unknown, max = MAX_ITEMS): unknown[] {
  const kept = items.slice(0, max).map(each);
  return items.length > max ? [...kept, `… ${items.length - max} more`] : kept;
}

const listOrOne = (value: unknown, each: (item: unknown) => unknown) =>
  Array.isArray(value) ? listOf(value, each, 5) : each(value);

/** The entries of a plain object (no class instance), or undefined. */
function plainEntries(value: object): [string, unknown][] | undefined {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? Object.entries(value) : undefined;
}

/** A class instance with its own `toString` (Temporal values, say) as cleaned text; any other as its class name. */
function customString(value: object, clean: (text: string) => string): string {
  if (value.toString !== Object.prototype.toString) return clean(String(value));
  return `[${value.constructor?.name ?? "object"}]`;
}

/** Fedify's vocabulary objects (`Note`, `Create`, …): they render their whole content when inspected. */
const isVocabObject = (value: object): value is { id?: unknown; toJsonLd: unknown } =>
  typeof (value as { toJsonLd?: unknown }).toJsonLd === "function";

function vocabSummary(value: { id?: unknown }): Record<string, unknown> {
  const id = value.id instanceof URL ? safeUrl(value.id.href) : null;
  return { type: value.constructor.name, id };
}
