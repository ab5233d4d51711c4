// Domain names as policy keys (normalization, the keys a host is looked up
// under, obfuscation for the public list) and the policy snapshot's verdicts
// (DomainPolicy.check), read from a real database on every dialect.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/errors.ts";
import { domainKeys, normalizeDomain, obfuscateDomain } from "../../src/policy/domains.ts";
import { DomainPolicy } from "../../src/policy/matcher.ts";
import {
  allowDomain,
  blockDomain,
  disallowDomain,
  listDomainAllows,
  listDomainBlocks,
  setFederationMode,
  unblockDomain,
} from "../../src/policy/service.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";

describe("normalizeDomain", () => {
  it("lower-cases, trims and drops a trailing dot", () => {
    expect(normalizeDomain("Example.COM")).toBe("example.com");
    expect(normalizeDomain("  social.Example.com  ")).toBe("social.example.com");
    expect(normalizeDomain("example.com.")).toBe("example.com");
    expect(normalizeDomain("EXAMPLE.com.")).toBe("example.com");
  });

  it("takes the host (and a non-default port) of a URL", () => {
    expect(normalizeDomain("https://Social.Example.com/users/alice")).toBe("social.example.com");
    expect(normalizeDomain("http://example.com:8443/inbox")).toBe("example.com:8443");
    expect(normalizeDomain("https://example.com:443/")).toBe("example.com");
    expect(normalizeDomain("http://127.0.0.1:3000/users/a")).toBe("127.0.0.1:3000");
  });

  it("strips a leading `*.` (a wildcard means the domain and its subdomains, which a block covers anyway)", () => {
    expect(normalizeDomain("*.example.com")).toBe("example.com");
    expect(normalizeDomain("*.Example.COM.")).toBe("example.com");
  });

  it("keeps a port, so one of several instances on a host can be named", () => {
    expect(normalizeDomain("127.0.0.1:3000")).toBe("127.0.0.1:3000");
    expect(normalizeDomain("Example.com:8443")).toBe("example.com:8443");
    expect(normalizeDomain("127.0.0.1")).toBe("127.0.0.1");
  });

  it("rejects what is not a domain name", () => {
    for (const bad of [
      "",
      "   ",
      "exa mple.com",
      "-bad.com",
      "bad-.com",
      "a..b",
      ".example.com",
      "under_score.com",
      "example.com/path",
      "user@example.com",
      "*",
      "*.",
      "http://",
      "example.com:abc",
      "a:1:2",
      "example.com:",
    ]) {
      expect(normalizeDomain(bad), JSON.stringify(bad)).toBeNull();
    }
    expect(normalizeDomain(`${"a".repeat(64)}.com`), "a 64-character label").toBeNull();
    expect(normalizeDomain(`${"a".repeat(63)}.com`), "a 63-character label").toBe(`${"a".repeat(63)}.com`);
  });

  it("rejects a port outside 1–65535", () => {
    expect(normalizeDomain("example.com:65535")).toBe("example.com:65535");
    expect(normalizeDomain("example.com:99999")).toBeNull();
    expect(normalizeDomain("example.com:0")).toBeNull();
  });

  it("stores an internationalized domain as punycode whether typed or pasted as a URL (as Mastodon normalizes it)", () => {
    // Through a URL it already works; typed in, the same name must give the same key.
    expect(normalizeDomain("https://bücher.example/")).toBe("xn--bcher-kva.example");
    expect(normalizeDomain("xn--bcher-kva.example")).toBe("xn--bcher-kva.example");
    expect(normalizeDomain("Bücher.example")).toBe("xn--bcher-kva.example");
  });
});

describe("domainKeys", () => {
  it("lists the host, then each parent domain, most specific first", () => {
    expect(domainKeys("a.b.example.com")).toEqual(["a.b.example.com", "b.example.com", "example.com", "com"]);
    expect(domainKeys("Example.COM")).toEqual(["example.com", "com"]);
  });

  it("puts host:port first, then the bare host and its parents (a block of example.com covers example.com:8443)", () => {
    expect(domainKeys("social.example.com:8443")).toEqual([
      "social.example.com:8443",
      "social.example.com",
      "example.com",
      "com",
    ]);
    expect(domainKeys("127.0.0.1:3000").slice(0, 2)).toEqual(["127.0.0.1:3000", "127.0.0.1"]);
  });

  it("never yields a key that is merely a textual suffix (notexample.com is not under example.com)", () => {
    expect(domainKeys("notexample.com")).not.toContain("example.com");
    expect(domainKeys("example.com.evil.net")).not.toContain("example.com");
  });
});

describe("obfuscateDomain", () => {
  it("hides the middle half of the name as Mastodon does, keeping the length and the dots", () => {
    const shown = obfuscateDomain("harassment.example");
    expect(shown).not.toBe("harassment.example");
    expect(shown).toHaveLength("harassment.example".length);
    expect(shown.split(".")).toHaveLength(2);
    expect(shown).toContain("*");
    // Mastodon's algorithm: a quarter of the length stays visible at each end.
    expect(shown).toBe("haras*****.***mple");
    expect(obfuscateDomain("social.example.co.uk")).toBe("social.*******.co.uk");
    expect(obfuscateDomain("harassment.example"), "deterministic").toBe(shown);
  });

  it("hides something even of a short domain (Mastodon shows `ab.io` as `ab.*o`)", () => {
    for (const d of ["ab.io", "xy.zz", "a.b.cd"]) {
      const shown = obfuscateDomain(d);
      expect(shown, `obfuscated ${d}`).not.toBe(d);
      expect(shown).toHaveLength(d.length);
    }
  });
});

describe.each(dialects)("DomainPolicy.check on %s", (dialect) => {
  let database: TestDatabase;
  const LOCAL = "kindred.example";
  let policy: DomainPolicy;

  beforeAll(async () => {
    database = await freshDatabase(dialect);
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    const db = database.db;
    await db.deleteFrom("domain_blocks").execute();
    await db.deleteFrom("domain_allows").execute();
    await setFederationMode(db, "open");
    policy = new DomainPolicy(db, LOCAL);
    await policy.refresh();
  });

  it("applies a suspension of example.com to the domain, any case, its subdomains, its ports and URLs on them", async () => {
    const result = await blockDomain(database.db, { domain: "Example.com", severity: "suspend" });
    expect(result).toEqual({ created: true, purged: { actors: 0, follows: 0, posts: 0 } });
    await policy.refresh();
    for (const host of [
      "example.com",
      "EXAMPLE.COM",
      "social.example.com",
      "a.b.example.com",
      "example.com:8443",
      "social.example.com:8443",
      "https://a.social.example.com/users/x",
      "http://example.com:3000/inbox",
    ]) {
      expect(policy.check(host), host).toEqual({
        severity: "suspend",
        rejectMedia: false,
        rejectReports: false,
        matched: "example.com",
      });
      expect(policy.isSuspended(host), host).toBe(true);
      expect(policy.isSilenced(host), host).toBe(false);
    }
    for (const host of [
      "notexample.com",
      "example.com.evil.net",
      "example.org",
      "https://evil.net/example.com",
      "com",
      "kindred.example",
    ]) {
      expect(policy.check(host), host).toEqual({
        severity: null,
        rejectMedia: false,
        rejectReports: false,
        matched: null,
      });
    }
  });

  it("matches a host spelled with the DNS root's trailing dot (the same server) against its block", async () => {
    await blockDomain(database.db, { domain: "example.com", severity: "suspend" });
    await policy.refresh();
    expect(policy.isSuspended("https://social.example.com./users/x"), "a URL on social.example.com.").toBe(true);
    expect(policy.isSuspended("example.com."), "example.com.").toBe(true);
  });

  it("limits a block with a port to that port; a block of the bare host covers every port", async () => {
    await blockDomain(database.db, { domain: "127.0.0.1:4000", severity: "suspend" });
    await policy.refresh();
    expect(policy.isSuspended("127.0.0.1:4000")).toBe(true);
    expect(policy.isSuspended("http://127.0.0.1:4000/users/a")).toBe(true);
    expect(policy.isSuspended("127.0.0.1:4001")).toBe(false);
    expect(policy.isSuspended("127.0.0.1")).toBe(false);

    await blockDomain(database.db, { domain: "127.0.0.1", severity: "silence" });
    await policy.refresh();
    expect(policy.check("127.0.0.1:4001")).toMatchObject({ severity: "silence", matched: "127.0.0.1" });
    expect(policy.check("127.0.0.1:4000"), "the port's own block is more specific").toMatchObject({
      severity: "suspend",
      matched: "127.0.0.1:4000",
    });
  });

  it("prefers the most specific block, and reports its media and report flags", async () => {
    await blockDomain(database.db, { domain: "example.com", severity: "silence", rejectMedia: true });
    await blockDomain(database.db, { domain: "bad.example.com", severity: "suspend" });
    await blockDomain(database.db, {
      domain: "media.example.com",
      severity: "noop",
      rejectMedia: true,
      rejectReports: true,
    });
    await policy.refresh();
    expect(policy.check("other.example.com")).toEqual({
      severity: "silence",
      rejectMedia: true,
      rejectReports: false,
      matched: "example.com",
    });
    expect(policy.check("x.bad.example.com")).toEqual({
      severity: "suspend",
      rejectMedia: false,
      rejectReports: false,
      matched: "bad.example.com",
    });
    expect(policy.check("media.example.com")).toEqual({
      severity: "noop",
      rejectMedia: true,
      rejectReports: true,
      matched: "media.example.com",
    });
    expect(policy.isSilenced("other.example.com")).toBe(true);
    expect(policy.isSuspended("media.example.com")).toBe(false);
    expect(policy.isSilenced("media.example.com")).toBe(false);
  });

  it("works from a snapshot: a change shows after refresh(), a lifted block goes with the next one", async () => {
    await blockDomain(database.db, { domain: "later.example", severity: "suspend" });
    expect(policy.isSuspended("later.example"), "not before refresh").toBe(false);
    await policy.refresh();
    expect(policy.isSuspended("later.example")).toBe(true);
    await unblockDomain(database.db, "LATER.example.");
    expect(policy.isSuspended("later.example"), "until the next refresh").toBe(true);
    await policy.refresh();
    expect(policy.isSuspended("later.example")).toBe(false);
  });

  it("never blocks our own host, even under a block of its parent domain", async () => {
    const own = new DomainPolicy(database.db, "127.0.0.1:3000");
    await blockDomain(database.db, { domain: "127.0.0.1", severity: "suspend" });
    await own.refresh();
    expect(own.check("127.0.0.1:3000").severity).toBeNull();
    expect(own.check("http://127.0.0.1:3000/users/alice").severity).toBeNull();
    expect(own.check("127.0.0.1:3001").severity, "another instance on the host").toBe("suspend");
  });

  it("in allowlist mode suspends every host off the list (subdomains of allowed ones pass), but never our own", async () => {
    await allowDomain(database.db, "Friendly.example");
    await allowDomain(database.db, "friendly.example"); // twice: no error, one row
    await allowDomain(database.db, "127.0.0.1:5000");
    await setFederationMode(database.db, "allowlist");
    await policy.refresh();
    expect((await listDomainAllows(database.db)).map((a) => a.domain)).toEqual(["127.0.0.1:5000", "friendly.example"]);
    for (const host of [
      "friendly.example",
      "social.friendly.example",
      "friendly.example:8443",
      "https://friendly.example/users/a",
      "127.0.0.1:5000",
    ]) {
      expect(policy.check(host), host).toEqual({
        severity: null,
        rejectMedia: false,
        rejectReports: false,
        matched: null,
      });
    }
    for (const host of ["other.example", "notfriendly.example", "127.0.0.1:5001", "https://other.example/inbox"]) {
      expect(policy.check(host), host).toEqual({
        severity: "suspend",
        rejectMedia: true,
        rejectReports: true,
        matched: null,
      });
    }
    expect(policy.check(LOCAL).severity, "our own host").toBeNull();
    expect(policy.check(`https://${LOCAL}/users/alice`).severity).toBeNull();

    // A block still applies to an allowed domain (e.g. silencing one sub-server).
    await blockDomain(database.db, { domain: "loud.friendly.example", severity: "silence" });
    await policy.refresh();
    expect(policy.check("loud.friendly.example").severity).toBe("silence");

    await disallowDomain(database.db, "friendly.example");
    await policy.refresh();
    expect(policy.isSuspended("social.friendly.example")).toBe(true);

    await setFederationMode(database.db, "open");
    await policy.refresh();
    expect(policy.isSuspended("other.example"), "open mode again").toBe(false);
  });

  it("stores blocks under their normalized domain, updates in place, and names a bad domain in its error", async () => {
    expect(
      (
        await blockDomain(database.db, {
          domain: "*.Spam.EXAMPLE.",
          severity: "silence",
          publicComment: "  spam  ",
          privateComment: "",
        })
      ).created,
    ).toBe(true);
    expect(
      (await blockDomain(database.db, { domain: "spam.example", severity: "noop", rejectMedia: true })).created,
    ).toBe(false);
    const rows = await listDomainBlocks(database.db);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      domain: "spam.example",
      severity: "noop",
      reject_media: 1,
      reject_reports: 0,
      obfuscate: 0,
    });
    // Comments not given in an update are kept (an imported list carries no private comments).
    expect(rows[0]!.public_comment).toBe("spam");

    const bad = await blockDomain(database.db, { domain: "not a domain", severity: "suspend" }).catch(
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(DomainError);
    expect((bad as DomainError).code).toBe("invalid");
    expect((bad as DomainError).message).toContain('"not a domain" is not a domain name');

    const badSeverity = await blockDomain(database.db, { domain: "x.example", severity: "ban" as "suspend" }).catch(
      (e: unknown) => e,
    );
    expect((badSeverity as DomainError).code).toBe("invalid");
    expect((badSeverity as DomainError).message).toContain("severity");

    const missing = await unblockDomain(database.db, "never.example").catch((e: unknown) => e);
    expect((missing as DomainError).code).toBe("not_found");
    const notAllowed = await disallowDomain(database.db, "never.example").catch((e: unknown) => e);
    expect((notAllowed as DomainError).code).toBe("not_found");
    expect(await listDomainBlocks(database.db)).toHaveLength(1);
  });
});
