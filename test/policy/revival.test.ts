// The policy version and the revival of purged accounts, at the service level
// on every dialect: each change bumps the version in its transaction, another
// process's snapshot follows it on its next check, and lifting a suspension
// (or softening it) revives exactly the accounts its purge marked deleted,
// unless another suspension still covers them.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "../../db/connect.ts";
import { DomainPolicy } from "../../src/policy/matcher.ts";
import {
  allowDomain,
  blockDomain,
  disallowDomain,
  setFederationMode,
  unblockDomain,
} from "../../src/policy/service.ts";
import { readPolicyVersion } from "../../src/policy/version.ts";
import { receiveActorDeleted } from "../../src/posts/remote.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { seedRemoteActor } from "./support.ts";

describe.each(dialects)("policy version and revival (%s)", (dialect) => {
  let database: TestDatabase;
  /** A second connection to the same database: another process's view. */
  let other: DatabaseHandle;
  const db = () => database.db;

  const actor = (id: string) =>
    db().selectFrom("actors").select(["deleted_at", "purged_by_block", "name"]).where("id", "=", id).executeTakeFirst();

  beforeAll(async () => {
    database = await freshDatabase(dialect);
    other = await openDatabase(database.url);
  });
  afterAll(async () => {
    await other?.close();
    await database?.drop();
  });
  beforeEach(async () => {
    await db().deleteFrom("domain_blocks").execute();
    await db().deleteFrom("domain_allows").execute();
    await setFederationMode(db(), "open");
  });

  it("bumps the version with every change, and another connection's snapshot follows on its next check", async () => {
    const policy = new DomainPolicy(other.db, "kindred.example");
    await policy.refresh();
    const seen = [await readPolicyVersion(db())];
    const changes: [string, () => Promise<unknown>, () => boolean][] = [
      [
        "block",
        () => blockDomain(db(), { domain: "spam.example", severity: "suspend" }),
        () => policy.isSuspended("spam.example"),
      ],
      [
        "soften",
        () => blockDomain(db(), { domain: "spam.example", severity: "silence" }),
        () => policy.isSilenced("spam.example"),
      ],
      ["unblock", () => unblockDomain(db(), "spam.example"), () => !policy.isSilenced("spam.example")],
      ["allowlist", () => setFederationMode(db(), "allowlist"), () => policy.isSuspended("friendly.example")],
      ["allow", () => allowDomain(db(), "friendly.example"), () => !policy.isSuspended("friendly.example")],
      ["disallow", () => disallowDomain(db(), "friendly.example"), () => policy.isSuspended("friendly.example")],
    ];
    for (const [name, change, applied] of changes) {
      await change();
      seen.push(await readPolicyVersion(db()));
      // The change has waited out every process's trust in its last read: this check reads again.
      await policy.ensureFresh();
      expect(applied(), `${name} applies on the next check`).toBe(true);
    }
    expect(new Set(seen).size, `versions ${seen.join(", ")}`).toBe(seen.length);
  });

  it("revives the accounts a suspension purged when it is lifted, but not an account that deleted itself", async () => {
    const purged = await seedRemoteActor(db(), "lift.example", "alice");
    const selfDeleted = await seedRemoteActor(db(), "lift.example", "carol");
    await receiveActorDeleted(db(), selfDeleted);
    await blockDomain(db(), { domain: "lift.example", severity: "suspend" });
    expect(await actor(purged)).toMatchObject({ deleted_at: expect.any(String), purged_by_block: "lift.example" });
    expect(await actor(selfDeleted)).toMatchObject({ deleted_at: expect.any(String), purged_by_block: null });
    await unblockDomain(db(), "lift.example");
    expect(await actor(purged)).toMatchObject({ deleted_at: null, purged_by_block: null });
    expect(await actor(selfDeleted)).toMatchObject({ deleted_at: expect.any(String), purged_by_block: null });
  });

  it("revives them when the suspension becomes a silence, and not when it stays a suspension", async () => {
    const id = await seedRemoteActor(db(), "soften.example", "dora");
    await blockDomain(db(), { domain: "soften.example", severity: "suspend" });
    await blockDomain(db(), { domain: "soften.example", severity: "suspend", rejectMedia: true });
    expect(await actor(id)).toMatchObject({ deleted_at: expect.any(String), purged_by_block: "soften.example" });
    await blockDomain(db(), { domain: "soften.example", severity: "silence" });
    expect(await actor(id)).toMatchObject({ deleted_at: null, purged_by_block: null });
  });

  it("keeps them deleted while another suspension (a parent domain's) still covers them, then revives them", async () => {
    const id = await seedRemoteActor(db(), "social.parent.example", "erin");
    await blockDomain(db(), { domain: "social.parent.example", severity: "suspend" });
    await blockDomain(db(), { domain: "parent.example", severity: "suspend" });
    expect(await actor(id)).toMatchObject({ purged_by_block: "social.parent.example" });
    await unblockDomain(db(), "social.parent.example");
    expect(await actor(id)).toMatchObject({ deleted_at: expect.any(String), purged_by_block: "parent.example" });
    await unblockDomain(db(), "parent.example");
    expect(await actor(id)).toMatchObject({ deleted_at: null, purged_by_block: null });
  });
});
