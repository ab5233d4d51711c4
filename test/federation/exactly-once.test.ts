// Issue 14, item 4: exactly once, across crashes and floods. A real Kindred
// instance whose community is followed from 20 servers (loopback sinks):
// - an event dispatched again (a worker killed after queueing its deliveries)
//   sends the same activity ids, and each server gets each once;
// - a remote member's post is re-shared to every follower but its own server;
// - erasing a member queues one Delete(Person) per server, not one per post,
//   and servers whose NodeInfo says NodeBB also get each post's Delete;
// - an erasure stopped right after the account's transaction is completed by
//   the server;
// - `kindred user erase` of a large account, run as its own process while the
//   server writes, succeeds (no "database is locked").
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inTransaction } from "../../db/transaction.ts";
import { dispatch } from "../../federation/outbox.ts";
import { createUser, type LocalUser } from "../../src/accounts/service.ts";
import { createCommunity, getCommunity } from "../../src/communities/service.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import { queuedDeliveriesOf } from "../../src/context.ts";
import { eraseAccount } from "../../src/erasure/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { openRuntime } from "../../src/runtime.ts";
import { type RunningInstance, startInstance } from "../../src/server.ts";
import { SPAWN_TIMEOUT, spawnCli } from "../helpers/cli.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { queueDepth, until } from "../helpers/federation.ts";
import { fixture, snowflake, uuid } from "../helpers/peer.ts";
import { freePort } from "../helpers/processes.ts";
import { PASSWORD } from "../helpers/seed.ts";
import { Sink } from "../helpers/sinks.ts";

const SERVERS = 20;
const BIG = 3_000;
const DEADLINE_MS = 90_000;

type Community = Awaited<ReturnType<typeof getCommunity>>;

/** `count` threads by `authorId`, a few hundred per transaction (seeding, as an import would). */
async function threads(
  db: Parameters<typeof inTransaction>[0],
  origin: string,
  c: Community,
  authorId: string,
  count: number,
) {
  for (let i = 0; i < count; i += 500)
    await inTransaction(db, async (trx) => {
      for (let k = i; k < Math.min(count, i + 500); k++)
        await createThread(trx, origin, c, authorId, { title: `Day ${k}`, body: `Pacing log ${k}` });
    });
}

describe.each(dialects)("exactly once, on %s", (dialect) => {
  let database: TestDatabase;
  let dataDir: string;
  let config: Config;
  let instance: RunningInstance;
  let sinks: Sink[] = [];
  let community: Community;
  let admin: LocalUser;
  let mira: LocalUser;
  let tess: LocalUser;
  let uma: LocalUser;
  const db = () => instance.runtime.db;
  const origin = () => config.origin;

  const follow = async (sink: Sink) => {
    const status = await sink.send(`${community.iri}/inbox`, {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${sink.origin}/${uuid()}`,
      type: "Follow",
      actor: sink.actor,
      object: community.iri,
    });
    expect(status).toBe(202);
  };
  const followers = async () =>
    (
      await db()
        .selectFrom("follows")
        .innerJoin("actors", "actors.id", "follows.follower_id")
        .select("follows.id")
        .where("actors.local", "=", 0)
        .where("follows.followee_id", "=", community.id)
        .where("follows.status", "=", "accepted")
        .execute()
    ).length;
  const drained = () =>
    until(
      "queues drained",
      () => queueDepth(db()),
      (d) => d.events === 0 && d.fedify === 0,
      DEADLINE_MS,
    );
  /** The ids of the activities of `type` a sink received whose body names `text`. */
  const ids = (sink: Sink, type: string, text: string) => sink.postsWith(type, text).map((p) => JSON.parse(p.raw).id);

  beforeAll(async () => {
    database = await freshDatabase(dialect, false);
    await database.close();
    dataDir = mkdtempSync(join(tmpdir(), "kindred-once-"));
    const port = await freePort();
    config = loadConfig({
      PORT: String(port),
      ORIGIN: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      ALLOW_PRIVATE_ADDRESS: "true",
      POSTING_LIMITS: "false",
      LOG_LEVEL: "error",
      DELIVERY_CONCURRENCY: "16",
    });
    // Large accounts are seeded before the server runs, their events dropped: their posts never went out.
    const rt = await openRuntime(config);
    try {
      admin = await createUser(
        rt.db,
        config.origin,
        { username: "admin", password: PASSWORD },
        { role: "admin", allowReserved: true },
      );
      mira = await createUser(rt.db, config.origin, { username: "mira", password: PASSWORD });
      tess = await createUser(rt.db, config.origin, { username: "tess", password: PASSWORD });
      uma = await createUser(rt.db, config.origin, { username: "uma", password: PASSWORD });
      await createCommunity(rt.db, config.origin, admin, { slug: "pacing", name: "Pacing" });
      community = await getCommunity(rt.db, "pacing");
      await threads(rt.db, config.origin, community, mira.actorId, BIG);
      await threads(rt.db, config.origin, community, tess.actorId, 2_000);
      await threads(rt.db, config.origin, community, uma.actorId, 2_000);
      await rt.db.deleteFrom("fedify_queue").where("queue", "=", "events").execute();
    } finally {
      await rt.close();
    }
    instance = await startInstance(config);
    sinks = await Promise.all(Array.from({ length: SERVERS }, () => Sink.start()));
    for (let i = 0; i < sinks.length; i += 5) await Promise.all(sinks.slice(i, i + 5).map(follow));
    await until("the follows", followers, (n) => n === SERVERS, DEADLINE_MS);
    await drained();
  }, 600_000);

  afterAll(async () => {
    await Promise.all(sinks.map((s) => s.stop()));
    await instance?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("an event dispatched again sends the same Announce ids, and each server gets each once", async () => {
    const thread = await createThread(db(), origin(), community, admin.actorId, { title: "Replayed", body: "x" });
    await until(
      "both Announces at every server",
      async () => sinks.filter((s) => s.postsWith("Announce", thread.iri).length === 2).length,
      (n) => n === SERVERS,
      DEADLINE_MS,
    );
    const ctx = instance.federation.createContext(new URL(origin()), instance.runtime);
    // What a worker killed after queueing the deliveries and before settling the event does on restart.
    const event = { type: "post.created" as const, postId: thread.id, eventId: `replay-${dialect}` };
    await dispatch(ctx, event, instance.federation);
    await dispatch(ctx, event, instance.federation);
    await drained();
    const replayed = `${origin()}/activities/replay-${dialect}`;
    for (const sink of sinks) {
      const got = ids(sink, "Announce", thread.iri);
      expect(
        got.filter((id) => id === `${replayed}/announce`),
        sink.origin,
      ).toHaveLength(1);
      expect(
        got.filter((id) => id === `${replayed}/announce-object`),
        sink.origin,
      ).toHaveLength(1);
      expect(got, "the first dispatch's two, the replay's two, nothing more").toHaveLength(4);
    }
    // Without an event id (as for events queued before ids existed) each dispatch makes new ids.
    await dispatch(ctx, { type: "post.created", postId: thread.id }, instance.federation);
    await drained();
    for (const sink of sinks) expect(new Set(ids(sink, "Announce", thread.iri)).size).toBe(6);
  }, 120_000);

  it("a remote member's post is re-shared to every follower but its own server", async () => {
    const author = sinks[0]!;
    const create = fixture("mastodon/create_note.json", {
      origin: author.origin,
      host: new URL(author.origin).host,
      actor: author.actor,
      username: "u",
      id: snowflake(),
      published: new Date().toISOString(),
      inReplyTo: null,
      mentioned: community.iri,
      mentionedUrl: community.iri,
      mentionedName: "pacing",
      mentionedHost: new URL(community.iri).host,
      text: "Pacing with a heart-rate monitor",
      hashtag: "pacing",
    });
    expect(await author.send(`${origin()}/inbox`, create)).toBe(202);
    const note = String(create.object.id);
    await until(
      "the re-share at every other server",
      async () => sinks.slice(1).filter((s) => s.postsWith("Announce", note).length > 0).length,
      (n) => n === SERVERS - 1,
      DEADLINE_MS,
    );
    await drained();
    expect(author.postsWith("Announce", note), "the author's server is not sent its own post back").toEqual([]);
  }, 120_000);

  it(`erasing a member with ${BIG} posts queues one Delete(Person) per server, not one Delete per post`, async () => {
    let peak = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const rows = await db().selectFrom("fedify_queue").select("id").where("queue", "like", "fedify%").execute();
        peak = Math.max(peak, rows.length);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const erased = await eraseAccount(db(), origin(), mira.actorId, { queued: queuedDeliveriesOf(instance.runtime) });
    await until(
      "Delete(Person) at every server",
      async () => sinks.filter((s) => s.postsWith("Delete", mira.iri).length > 0).length,
      (n) => n === SERVERS,
      DEADLINE_MS,
    );
    await until(
      "the erasure sent",
      () => db().selectFrom("erasures").select("sent_at").where("id", "=", erased.erasureId).executeTakeFirst(),
      (e) => e?.sent_at != null,
      DEADLINE_MS,
    );
    await drained();
    watching = false;
    await watch;
    const ledger = await db()
      .selectFrom("deliveries")
      .select("activity_iri")
      .where("actor_id", "=", mira.actorId)
      .execute();
    expect(ledger.map((r) => r.activity_iri)).toEqual(Array(SERVERS).fill(ledger[0]?.activity_iri));
    for (const sink of sinks) {
      const deletes = sink.posts.filter((p) => p.type === "Delete" && p.raw.includes(mira.iri));
      expect(deletes, sink.origin).toHaveLength(1);
      expect(JSON.parse(deletes[0]!.raw).object).toBe(mira.iri);
    }
    // One row per server (a fan-out row and the deliveries it splits into), not posts × servers (60,020 before).
    expect(peak).toBeLessThanOrEqual(SERVERS + 2);
    const left = await db().selectFrom("posts").select("id").where("author_id", "=", mira.actorId).execute();
    expect(left).toEqual([]);
    console.info(`[exactly-once ${dialect}] erasure of ${BIG} posts, ${SERVERS} servers: peak ${peak} queued rows`);
  }, 300_000);

  it("a server whose NodeInfo says NodeBB also gets each post's own Delete", async () => {
    const nodebb = await Sink.start("normal", { software: "nodebb" });
    sinks.push(nodebb);
    await follow(nodebb);
    await until("NodeBB's follow", followers, (n) => n === SERVERS + 1, DEADLINE_MS);
    const noor = await createUser(db(), origin(), { username: "noor", password: PASSWORD });
    await threads(db(), origin(), community, noor.actorId, 30);
    const posts = await db().selectFrom("posts").select("iri").where("author_id", "=", noor.actorId).execute();
    await drained();
    await eraseAccount(db(), origin(), noor.actorId, { queued: queuedDeliveriesOf(instance.runtime) });
    await until(
      "every post's Delete at NodeBB",
      async () =>
        posts.filter((p) => nodebb.posts.some((d) => d.type === "Delete" && JSON.parse(d.raw).object === p.iri)).length,
      (n) => n === posts.length,
      DEADLINE_MS,
    );
    await drained();
    expect(nodebb.posts.filter((d) => d.type === "Delete" && JSON.parse(d.raw).object === noor.iri)).toHaveLength(1);
    for (const sink of sinks.slice(0, SERVERS))
      expect(
        sink.posts.filter((d) => d.type === "Delete" && d.raw.includes(noor.iri)),
        sink.origin,
      ).toHaveLength(1);
  }, 120_000);

  it("an erasure whose process is killed midway is completed by the server: posts gone, Deletes sent", async () => {
    // The process stops right after the account's transaction committed (its receipt exists), before any of
    // the post batches: stood in for here, so the test never races a kill against the batches.
    await eraseAccount(db(), origin(), uma.actorId, {
      queued: queuedDeliveriesOf(instance.runtime),
      removeContentNow: false,
    });
    const left = await db().selectFrom("posts").select("id").where("author_id", "=", uma.actorId).execute();
    expect(left.length, "the CLI was killed before all of its posts were gone").toBeGreaterThan(0);
    await until(
      "Delete(Person) of uma at every server",
      async () => sinks.filter((s) => s.postsWith("Delete", uma.iri).length > 0).length,
      (n) => n >= SERVERS,
      DEADLINE_MS,
    );
    expect(await db().selectFrom("posts").select("id").where("author_id", "=", uma.actorId).execute()).toEqual([]);
    console.info(`[exactly-once ${dialect}] erasure killed with ${left.length} of 2000 posts left; completed`);
  }, 180_000);

  it(
    "`kindred user erase` of a 2,000-post account succeeds as its own process while the server writes",
    async () => {
      let writes = 0;
      const failures: string[] = [];
      let writing = true;
      const load = (async () => {
        while (writing) {
          await createThread(db(), origin(), community, admin.actorId, { title: `Load ${writes}`, body: "y" }).then(
            () => writes++,
            (error: unknown) => failures.push(String(error)),
          );
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const env = { DATABASE_URL: database.url, ORIGIN: origin(), DATA_DIR: dataDir, ALLOW_PRIVATE_ADDRESS: "true" };
      const result = await spawnCli(env, ["user", "erase", "tess", "--yes", "--wait", "0"]);
      writing = false;
      await load;
      expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
      expect(result.stdout).toContain(`erased @tess@`);
      expect(failures, "the server's writes meanwhile").toEqual([]);
      expect(writes).toBeGreaterThan(0);
      const left = await db().selectFrom("posts").select("id").where("author_id", "=", tess.actorId).execute();
      expect(left).toEqual([]);
    },
    SPAWN_TIMEOUT,
  );
});
