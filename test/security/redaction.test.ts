// The redaction every log record passes before a sink writes it
// (src/logging.ts), driven through LogTape itself with the calls Fedify and
// Kindred really make (same messages, same property names), rendered by
// LogTape's own text formatter as a log file would be. Each case carries
// marker strings that must not survive at `info`; at `debug` bodies may, but
// emails, passwords and tokens never do. test/security/logs.test.ts does the
// same against a running server.
import { inspect } from "node:util";
import { Note } from "@fedify/fedify/vocab";
import { configure, getLogger, getTextFormatter, type LogRecord, reset } from "@logtape/logtape";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REDACTED, redacting } from "../../src/logging.ts";

const lines: { detail: boolean; text: string; record: LogRecord }[] = [];
/** Strings as they are (a log line shows them unquoted), anything else as Node inspects it. */
const format = getTextFormatter({ value: (v) => (typeof v === "string" ? v : inspect(v, { depth: 5 })) });

beforeAll(async () => {
  const capture = (detail: boolean) =>
    redacting((record) => lines.push({ detail, text: format(record), record }), detail);
  await configure({
    reset: true,
    sinks: { info: capture(false), debug: capture(true) },
    loggers: [
      { category: ["fedify"], lowestLevel: "trace", sinks: ["info", "debug"] },
      { category: ["kindred"], lowestLevel: "trace", sinks: ["info", "debug"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
});
afterAll(() => reset());
afterEach(() => {
  lines.length = 0;
});

const marker = (name: string) => `MARKER-${name}-${Math.random().toString(36).slice(2, 10)}`;
/** What the `info` (detail off) and `debug` (detail on) sinks wrote, properties included. */
const written = (detail: boolean) =>
  lines
    .filter((l) => l.detail === detail)
    .map((l) => `${l.text}\n${JSON.stringify(l.record.properties)}`)
    .join("\n");

const inbox = getLogger(["fedify", "federation", "inbox"]);
const http = getLogger(["fedify", "federation", "http"]);

describe("log redaction", () => {
  it("reduces an activity Fedify logs in full to its type, id and actor", () => {
    const comment = marker("flag");
    const activity = {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: "https://mastodon.example/0f5a8c1e",
      type: "Flag",
      actor: "https://mastodon.example/users/mallory",
      content: `I think this user has HIV ${comment}`,
      object: ["https://kindred.example/@alice"],
    };
    inbox.error("Unsupported activity type:\n{activity}", { activity, recipient: null });
    const info = written(false);
    expect(info).not.toContain(comment);
    expect(info).not.toContain("HIV");
    expect(info).toContain("Flag");
    expect(info).toContain("https://mastodon.example/0f5a8c1e");
    expect(info).toContain("https://mastodon.example/users/mallory");
    expect(written(true)).toContain(comment);
  });

  it("drops the body V8 quotes in a JSON syntax error, keeping the error's class and frames", () => {
    const text = marker("malformed");
    let error: unknown;
    try {
      JSON.parse(`${text} {"content": "more"`);
    } catch (e) {
      error = e;
    }
    expect(String(error)).toContain(text.slice(0, 6));
    inbox.error("Failed to parse JSON:\n{error}", { recipient: null, error });
    const info = written(false);
    expect(info).not.toContain(text.slice(0, 6));
    expect(info).toContain("SyntaxError");
    expect(info).toContain("is not valid JSON");
    expect(info).toMatch(/\n\s+at /);
  });

  it("keeps only the first line of an error message, without quoted values or JSON", () => {
    const body = marker("response");
    const quoted = marker("quoted");
    const error = Object.assign(
      new Error(`Failed to send activity https://k.example/a/1 to https://m.example/inbox (500 Oops):\n${body}`),
      { responseBody: body, statusCode: 500 },
    );
    http.error("Failed to send activity {activityId} to {inbox}:\n{error}", {
      activityId: "https://k.example/a/1",
      inbox: "https://m.example/inbox",
      error,
    });
    getLogger(["kindred", "jobs"]).warn("{name} failed: {error}", {
      name: "erasure completion",
      error: String(new TypeError(`invalid input syntax for type uuid: "${quoted}" {"content":"${quoted}"}`)),
    });
    const date = marker("date");
    inbox.error("Failed to parse activity:\n{error}", {
      recipient: "alice",
      error: new RangeError(`invalid RFC 9557 string: I have HIV ${date}Z`),
    });
    getLogger(["kindred", "federation", "inbox", "follow"]).info("backfill of {outbox} failed: {error}", {
      outbox: "https://m.example/users/bob/outbox",
      error: String(new TypeError("fetch failed")),
    });
    getLogger(["fedify", "runtime", "docloader"]).error("Failed: {error}", {
      error: new Error("HTTP 404: https://m.example/users/bob"),
    });
    const info = written(false);
    expect(info).not.toContain(body);
    expect(info).not.toContain(quoted);
    expect(info).not.toContain(date);
    expect(info).toContain("RangeError: invalid RFC 9557 string: …");
    expect(info).toContain("backfill of https://m.example/users/bob/outbox failed: TypeError: fetch failed");
    expect(info).toContain("HTTP 404: https://m.example/users/bob");
    expect(info).toContain("Failed to send activity https://k.example/a/1 to https://m.example/inbox (500 Oops)");
    expect(info).toContain("erasure completion failed");
    expect(info).toContain("invalid input syntax for type uuid");
  });

  it("keeps paths and IRIs but not query values, receipt tokens or hashtags", () => {
    const token = "tok".padEnd(32, "x7Q");
    const query = marker("q");
    http.warning("{method} {path}: {status}", {
      method: "GET",
      path: `/erasures/${token}`,
      url: `http://k.example/erasures/${token}`,
      status: 404,
    });
    http.info("{method} {path}: {status}", { method: "GET", path: `/search?q=${query}&cursor=abc`, status: 200 });
    http.info("{method} {path}: {status}", { method: "GET", path: `/tags/${query}`, status: 200 });
    for (const detail of [false, true]) {
      const out = written(detail);
      expect(out).not.toContain(token);
      expect(out).not.toContain(query);
      expect(out).toContain("GET /erasures/…: 404");
      expect(out).toContain("GET /search?q=…&cursor=abc: 200");
      expect(out).toContain("GET /tags/…: 200");
    }
  });

  it("never writes passwords, tokens, emails, credentials in URLs or signature headers, even at debug", () => {
    const password = marker("password");
    const email = `${marker("email").toLowerCase()}@example.org`;
    const signature = marker("signature");
    getLogger(["fedify", "runtime", "docloader"]).debug("Fetching document: {method} {url} {headers}", {
      method: "GET",
      url: `https://user:${password}@m.example/users/bob?access_token=${signature}`,
      headers: { accept: "application/activity+json", signature: `keyId="x",signature="${signature}"` },
    });
    getLogger(["kindred", "accounts"]).debug("sign-up {form}", {
      form: { username: "alice", password, email, note: `write to me at ${email}` },
    });
    getLogger(["kindred", "db"]).error("could not connect: {error}", {
      error: new Error(`connect to postgres://kindred:${password}@db.example/kindred failed for ${email}`),
    });
    for (const detail of [false, true]) {
      const out = written(detail);
      for (const secret of [password, email, signature]) expect(out).not.toContain(secret);
      expect(out).toContain("https://m.example/users/bob?access_token=…");
    }
    expect(written(true)).toContain("write to me at [email]");
    expect(written(true)).toContain("alice");
  });

  it("drops a record it cannot redact rather than write it as it is", () => {
    const text = marker("getter");
    const hostile = Object.defineProperty({}, "content", {
      enumerable: true,
      get() {
        throw new Error(`HIV ${text}`);
      },
    });
    inbox.error("Odd {value} with {note}", { value: hostile, note: `HIV ${text}` });
    for (const detail of [false, true]) {
      expect(written(detail)).not.toContain(text);
      expect(written(detail)).toContain("could not be redacted");
    }
  });

  it("keeps what admins need: ids, hosts, counts, statuses and our own reasons", () => {
    getLogger(["kindred", "federation", "inbox", "posts"]).debug("post {iri} not stored: {reason}", {
      iri: "https://m.example/users/bob/statuses/1",
      reason: "not a member",
    });
    getLogger(["kindred", "jobs"]).info("export {exportId} ready ({size} bytes)", {
      exportId: "0190f2c4-7d2a-7c4e-9a1b-3f2d5e6a7b8c",
      size: 1234,
    });
    getLogger(["kindred", "federation", "delivery"]).warn("delivery circuit for {host}: {from} → {to}", {
      host: "m.example:8443",
      from: "closed",
      to: "open",
    });
    inbox.error("Failed to verify the request's HTTP Signatures.", {
      recipient: "alice",
      reason: "keyFetchError",
      keyId: "https://m.example/users/bob#main-key",
    });
    const info = written(false);
    expect(info).toContain("post https://m.example/users/bob/statuses/1 not stored: not a member");
    expect(info).toContain("export 0190f2c4-7d2a-7c4e-9a1b-3f2d5e6a7b8c ready (1234 bytes)");
    expect(info).toContain("delivery circuit for m.example:8443: closed → open");
    const properties = lines.find((l) => !l.detail && l.record.properties.keyId)?.record.properties;
    expect(properties).toEqual({
      recipient: "alice",
      reason: "keyFetchError",
      keyId: "https://m.example/users/bob#main-key",
    });
  });

  it("redacts text in properties a message does not show, in template literals, and in Fedify's objects", async () => {
    const text = marker("note");
    const note = new Note({ id: new URL("https://m.example/notes/1"), content: text });
    inbox.info("Activity {activityId} is enqueued.", {
      activityId: "https://m.example/a/1",
      activity: { type: "Create", id: "https://m.example/a/1", object: { type: "Note", content: text } },
    });
    getLogger(["kindred", "test"]).info`got ${note} and ${text}`;
    getLogger(["kindred", "test"]).warning("odd {summary} {count}", {
      summary: "https://m.example/looks-like-a-url",
      count: 3,
    });
    const info = written(false);
    expect(info).not.toContain(text);
    expect(info).not.toContain("looks-like-a-url");
    expect(info).toContain("https://m.example/notes/1");
    expect(info).toContain(`odd ${JSON.stringify(REDACTED).slice(1, -1)}`);
  });
});
