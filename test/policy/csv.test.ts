// Block lists in Mastodon's CSV format and the variants found in the wild:
// parsing (with per-line problems), our export and its re-import, and the
// import review (planImport) and its all-or-nothing application.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../db/schema.ts";
import { allowCsv, blockCsv, MASTODON_HEADER, parseBlockCsv } from "../../src/policy/csv.ts";
import { applyImport, planImport } from "../../src/policy/import.ts";
import { blockDomain, listDomainBlocks } from "../../src/policy/service.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { countFollows, seedFollow, seedLocalUser, seedRemoteActor } from "./support.ts";

const FIXTURES = join(fileURLToPath(new URL(".", import.meta.url)), "..", "fixtures", "mastodon");
const read = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const HEADER_LINE = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate";
const ORIGIN = "https://kindred.example";

const block = (
  domain: string,
  severity: "suspend" | "silence" | "noop",
  extra: Partial<{
    rejectMedia: boolean;
    rejectReports: boolean;
    publicComment: string | null;
    obfuscate: boolean;
  }> = {},
) => ({
  domain,
  severity,
  rejectMedia: false,
  rejectReports: false,
  publicComment: null,
  privateComment: null,
  obfuscate: false,
  ...extra,
});
const byDomain = <T extends { domain: string }>(list: T[]) =>
  [...list].sort((a, b) => a.domain.localeCompare(b.domain));

/** The parsed blocks of Mastodon's export in test/fixtures/mastodon/domain_blocks.csv. */
const MASTODON_BLOCKS = [
  block("spam.example", "suspend", { publicComment: "Spam" }),
  block("harassment.example", "suspend", {
    rejectMedia: true,
    rejectReports: true,
    publicComment: "Harassment, doxxing and hate speech",
    obfuscate: true,
  }),
  block("lowquality.example", "silence", {
    rejectMedia: true,
    publicComment: 'Bots, "engagement" farming, and unmarked NSFW',
  }),
  block("media.example", "noop", { rejectMedia: true }),
  block("reports.example", "noop", { rejectReports: true, publicComment: "Report spam" }),
  block("xn--bcher-kva.example", "silence", { obfuscate: true }),
  block("sub.silenced.example", "silence", { publicComment: "Only this sub-server, not the whole domain" }),
];

describe("parseBlockCsv", () => {
  it("reads a Mastodon 4.x export: #-headers, true/false flags, quoted comments with commas and quotes", () => {
    const parsed = parseBlockCsv(read("domain_blocks.csv"));
    expect(parsed.problems).toEqual([]);
    expect(parsed.blocks).toEqual(MASTODON_BLOCKS);
  });

  it("exports in Mastodon's format, line for line what Mastodon writes, and re-imports to the same blocks", () => {
    const rows = MASTODON_BLOCKS.map((b) => ({
      domain: b.domain,
      severity: b.severity,
      reject_media: b.rejectMedia ? 1 : 0,
      reject_reports: b.rejectReports ? 1 : 0,
      public_comment: b.publicComment,
      obfuscate: b.obfuscate ? 1 : 0,
    }));
    const exported = blockCsv(rows);
    const lines = exported.trimEnd().split(/\r?\n/);
    expect(lines[0]).toBe(HEADER_LINE);
    expect(MASTODON_HEADER.join(",")).toBe(HEADER_LINE);
    const mastodonLines = read("domain_blocks.csv").trimEnd().split("\n");
    expect(lines.slice(1).sort()).toEqual(mastodonLines.slice(1).sort());
    const reparsed = parseBlockCsv(exported);
    expect(reparsed.problems).toEqual([]);
    expect(reparsed.blocks).toEqual(MASTODON_BLOCKS);
  });

  it("reads a header without '#', normalizing domains", () => {
    const parsed = parseBlockCsv(read("domain_blocks_no_hash.csv"));
    expect(parsed.problems).toEqual([]);
    expect(parsed.blocks).toEqual([
      block("spam.example", "suspend", { rejectMedia: true, publicComment: "No hash header" }),
      block("quiet.example", "silence"),
    ]);
  });

  it("reads an `instance` column; a list without severities suspends", () => {
    const parsed = parseBlockCsv(read("domain_blocks_instance.csv"));
    expect(parsed.problems).toEqual([]);
    expect(parsed.blocks).toEqual([block("bad.example", "suspend"), block("worse.example", "suspend")]);
  });

  it("reads a list of bare domains (no header): each one suspended, wildcards and URLs normalized", () => {
    const parsed = parseBlockCsv(read("domain_blocks_domains_only.csv"));
    expect(parsed.problems).toEqual([]);
    expect(parsed.blocks).toEqual([
      block("first.example", "suspend"),
      block("second.example", "suspend"),
      block("third.example", "suspend"),
    ]);
  });

  it("reports a bad domain, a bad severity and an empty domain by their 1-based line, and keeps the good rows", () => {
    const parsed = parseBlockCsv(read("domain_blocks_malformed.csv"));
    expect(parsed.problems).toEqual([
      { line: 3, message: '"not a domain" is not a domain name' },
      { line: 5, message: 'severity "ban" is not suspend, silence or noop' },
      { line: 6, message: '"" is not a domain name' },
    ]);
    expect(parsed.blocks).toEqual([
      block("good.example", "suspend"),
      block("fine.example", "silence", { rejectMedia: true }),
      block("last.example", "noop", { rejectReports: true }),
    ]);
  });

  it("counts blank lines when it reports a line number (hand-edited lists have them)", () => {
    const text = `${[
      HEADER_LINE,
      "good.example,suspend,false,false,,false",
      "",
      "not a domain,suspend,false,false,,false",
      "",
      "",
      "other.example,bogus,false,false,,false",
    ].join("\n")}\n`;
    const parsed = parseBlockCsv(text);
    expect(parsed.blocks.map((b) => b.domain)).toEqual(["good.example"]);
    expect(parsed.problems.map((p) => p.line)).toEqual([4, 7]);
  });

  it("reports an empty file, and CSV that does not parse, without throwing", () => {
    expect(parseBlockCsv("")).toEqual({ blocks: [], problems: [{ line: 1, message: "the file is empty" }] });
    const broken = parseBlockCsv(`${HEADER_LINE}\ngood.example,suspend,false,false,"unterminated,false\n`);
    expect(broken.blocks).toEqual([]);
    expect(broken.problems).toHaveLength(1);
    expect(broken.problems[0]!.message).toMatch(/^not valid CSV/);
  });

  it("exports the allow list as a #domain CSV", () => {
    expect(allowCsv(["a.example", "b.example"])).toBe("#domain\na.example\nb.example\n");
  });
});

describe.each(dialects)("planImport and applyImport on %s", (dialect) => {
  let database: TestDatabase;
  let db: Db;
  let lenaId: string;

  beforeAll(async () => {
    database = await freshDatabase(dialect);
    db = database.db;
    lenaId = (await seedLocalUser(db, ORIGIN, "lena")).actorId;
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    await db.deleteFrom("follows").execute();
    await db.deleteFrom("domain_blocks").execute();
    await db.deleteFrom("actors").where("local", "=", 0).execute();
  });

  it("reviews a list: new, changed, unchanged and covered entries, and the local follows a suspension would cut", async () => {
    await blockDomain(db, { domain: "changed.example", severity: "silence" });
    await blockDomain(db, { domain: "same.example", severity: "suspend", rejectMedia: true, publicComment: "Spam" });
    await blockDomain(db, { domain: "parent.example", severity: "suspend" });
    await blockDomain(db, { domain: "calm.example", severity: "silence" });
    // Two follows with new.example (one each way), one with changed.example, one with quiet.example.
    const nina = await seedRemoteActor(db, "new.example", "nina");
    const nick = await seedRemoteActor(db, "social.new.example", "nick");
    await seedFollow(db, nina, lenaId);
    await seedFollow(db, lenaId, nick);
    await seedFollow(db, await seedRemoteActor(db, "changed.example", "carl"), lenaId);
    await seedFollow(db, await seedRemoteActor(db, "quiet.example", "quinn"), lenaId);
    await seedFollow(db, await seedRemoteActor(db, "bystander.example", "bea"), lenaId);

    const list = parseBlockCsv(
      [
        HEADER_LINE,
        "new.example,suspend,false,false,,false",
        "quiet.example,silence,false,false,,false",
        "changed.example,suspend,false,false,,false",
        "same.example,suspend,true,false,Spam,false",
        "sub.parent.example,silence,false,false,,false",
        "sub2.parent.example,suspend,false,false,,false",
        "loud.calm.example,suspend,false,false,,false",
      ].join("\n"),
    );
    expect(list.problems).toEqual([]);
    const plan = await planImport(db, list);
    expect(
      plan.map((c) => ({ domain: c.block.domain, status: c.status, followsCut: c.followsCut, coveredBy: c.coveredBy })),
    ).toEqual([
      { domain: "new.example", status: "new", followsCut: 2, coveredBy: undefined },
      { domain: "quiet.example", status: "new", followsCut: 0, coveredBy: undefined },
      { domain: "changed.example", status: "changed", followsCut: 1, coveredBy: undefined },
      { domain: "same.example", status: "unchanged", followsCut: 0, coveredBy: undefined },
      { domain: "sub.parent.example", status: "covered", followsCut: 0, coveredBy: "parent.example" },
      { domain: "sub2.parent.example", status: "covered", followsCut: 0, coveredBy: "parent.example" },
      // A stronger block than the parent's is not covered by it.
      { domain: "loud.calm.example", status: "new", followsCut: 0, coveredBy: undefined },
    ]);
    // The review wrote nothing.
    expect((await listDomainBlocks(db)).map((b) => b.domain)).toEqual([
      "calm.example",
      "changed.example",
      "parent.example",
      "same.example",
    ]);
    expect(await countFollows(db)).toBe(5);

    const result = await applyImport(db, plan);
    expect(result).toEqual({ applied: 4, purged: { actors: 3, follows: 3, posts: 0 } });
    const after = await listDomainBlocks(db);
    expect(after.map((b) => [b.domain, b.severity])).toEqual([
      ["calm.example", "silence"],
      ["changed.example", "suspend"],
      ["loud.calm.example", "suspend"],
      ["new.example", "suspend"],
      ["parent.example", "suspend"],
      ["quiet.example", "silence"],
      ["same.example", "suspend"],
    ]);
    // Left: the follow with quiet.example (silenced) and with the bystander.
    expect(await countFollows(db)).toBe(2);
    const ninaRow = await db.selectFrom("actors").selectAll().where("id", "=", nina).executeTakeFirstOrThrow();
    expect(ninaRow.deleted_at).not.toBeNull();
    expect(ninaRow.name).toBeNull();

    // The same list again changes nothing.
    const again = await planImport(db, list);
    expect(again.map((c) => c.status)).toEqual([
      "unchanged",
      "unchanged",
      "unchanged",
      "unchanged",
      "covered",
      "covered",
      "unchanged",
    ]);
    expect((await applyImport(db, again)).applied).toBe(0);
  });

  it("re-imports its own export of a Mastodon list unchanged", async () => {
    const parsed = parseBlockCsv(read("domain_blocks.csv"));
    await applyImport(db, await planImport(db, parsed));
    const exported = blockCsv(await listDomainBlocks(db));
    expect(exported.split("\n")[0]).toBe(HEADER_LINE);
    const reparsed = parseBlockCsv(exported);
    expect(reparsed.problems).toEqual([]);
    expect(byDomain(reparsed.blocks)).toEqual(byDomain(parsed.blocks));
    const plan = await planImport(db, reparsed);
    expect(plan.map((c) => c.status)).toEqual(reparsed.blocks.map(() => "unchanged"));
  });

  it("applies all or nothing: a failing entry rolls back the blocks and purges before it", async () => {
    await blockDomain(db, { domain: "existing.example", severity: "silence" });
    const nina = await seedRemoteActor(db, "new.example", "nina");
    await seedFollow(db, nina, lenaId);
    const list = parseBlockCsv(
      [
        HEADER_LINE,
        "first.example,suspend,false,false,,false",
        "new.example,suspend,false,false,,false",
        `long.example,silence,false,false,${"x".repeat(1001)},false`,
      ].join("\n"),
    );
    const plan = await planImport(db, list);
    expect(plan.map((c) => c.status)).toEqual(["new", "new", "new"]);
    await expect(applyImport(db, plan)).rejects.toThrow(/public ?comment|1000/i);
    expect((await listDomainBlocks(db)).map((b) => b.domain)).toEqual(["existing.example"]);
    expect(await countFollows(db)).toBe(1);
    const ninaRow = await db.selectFrom("actors").selectAll().where("id", "=", nina).executeTakeFirstOrThrow();
    expect(ninaRow).toMatchObject({ deleted_at: null, name: "nina" });
  });

  it("keeps the comments written here on a block the list changes (the list carries no private comment)", async () => {
    await blockDomain(db, {
      domain: "kept.example",
      severity: "silence",
      publicComment: "Spam",
      privateComment: "ticket #42: reported by three members",
    });
    const plan = await planImport(db, parseBlockCsv(`${HEADER_LINE}\nkept.example,suspend,false,false,,false\n`));
    expect(plan.map((c) => c.status)).toEqual(["changed"]);
    await applyImport(db, plan);
    const row = (await listDomainBlocks(db)).find((b) => b.domain === "kept.example");
    expect(row?.severity).toBe("suspend");
    expect(row?.private_comment, "the private comment survives the import").toBe(
      "ticket #42: reported by three members",
    );
    expect(row?.public_comment, "the public comment is kept when the list has none").toBe("Spam");
  });

  it("counts follows with a subdomain on a non-default port among those a suspension cuts", async () => {
    const sam = await seedRemoteActor(db, "social.sub.example:8443", "sam");
    await seedFollow(db, sam, lenaId);
    const plan = await planImport(db, parseBlockCsv("sub.example\n"));
    expect(plan.map((c) => [c.status, c.followsCut])).toEqual([["new", 1]]);
  });
});
