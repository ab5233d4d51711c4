// A server killed with SIGKILL while it turns domain events into deliveries
// (issue 14, item 4): 30 threads posted at once in a community followed from
// 12 servers, the process killed as the first Announces arrive, then started
// again. Events and fan-outs it had claimed are dispatched again once their
// leases run out: their activities must carry the same ids (derived from the
// event), and the deliveries already queued must not be queued twice. Every
// server gets every thread's two Announces, under one id each; a delivery is
// repeated only if it was on the wire at the very moment of the kill (the
// receiver answered, the row was not yet settled: at-least-once, same id).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/connect.ts";
import { inTransaction } from "../../db/transaction.ts";
import { createUser } from "../../src/accounts/service.ts";
import { createCommunity, getCommunity } from "../../src/communities/service.ts";
import { loadConfig } from "../../src/config.ts";
import { createThread } from "../../src/posts/service.ts";
import { openRuntime } from "../../src/runtime.ts";
import { dialects, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { until } from "../helpers/federation.ts";
import { uuid } from "../helpers/peer.ts";
import { freePort, spawnServer, stopProcess, waitUntilServing } from "../helpers/processes.ts";
import { PASSWORD } from "../helpers/seed.ts";
import { Sink } from "../helpers/sinks.ts";

const SERVERS = 12;
const THREADS = 30;
const CONCURRENCY = 8;
/** Claimed events and fan-outs come back after their lease (QUEUE_LEASE_S, 10 s here); a loaded machine is slow. */
const DEADLINE_MS = 150_000;

describe.each(dialects)("a kill -9 during event dispatch (%s)", (dialect) => {
  let database: TestDatabase;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let origin: string;
  let server: ReturnType<typeof spawnServer> | undefined;
  let sinks: Sink[] = [];
  let community: { id: string; iri: string; visibility: "public" | "members"; joinPolicy: "open" | "approval" };
  let adminId: string;

  /** Reads on a connection of the test's own (the server may be dead). */
  const onOwnConnection = async <T>(read: (db: Awaited<ReturnType<typeof openDatabase>>["db"]) => Promise<T>) => {
    const handle = await openDatabase(database.url);
    try {
      return await read(handle.db);
    } finally {
      await handle.close();
    }
  };
  const queued = () =>
    onOwnConnection(async (db) => (await db.selectFrom("fedify_queue").select("queue").execute()).map((r) => r.queue));
  const start = async () => {
    server = spawnServer(env);
    await waitUntilServing(origin, server.child, server.output, 60_000);
  };

  beforeAll(async () => {
    database = await freshDatabase(dialect, false);
    await database.close();
    dataDir = mkdtempSync(join(tmpdir(), "kindred-crash-dispatch-"));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      PORT: String(port),
      ORIGIN: origin,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      ALLOW_PRIVATE_ADDRESS: "true",
      POSTING_LIMITS: "false",
      DELIVERY_CONCURRENCY: String(CONCURRENCY),
      // What the killed process had claimed comes back when its lease runs out: 10 s rather than a minute.
      QUEUE_LEASE_S: "10",
      LOG_LEVEL: "fatal",
    };
    const rt = await openRuntime(loadConfig(env));
    try {
      const admin = await createUser(
        rt.db,
        origin,
        { username: "admin", password: PASSWORD },
        { role: "admin", allowReserved: true },
      );
      adminId = admin.actorId;
      await createCommunity(rt.db, origin, admin, { slug: "pacing", name: "Pacing" });
      community = await getCommunity(rt.db, "pacing");
    } finally {
      await rt.close();
    }
    sinks = await Promise.all(Array.from({ length: SERVERS }, () => Sink.start()));
    await start();
    for (const sink of sinks)
      expect(
        await sink.send(`${community.iri}/inbox`, {
          "@context": "https://www.w3.org/ns/activitystreams",
          id: `${sink.origin}/${uuid()}`,
          type: "Follow",
          actor: sink.actor,
          object: community.iri,
        }),
      ).toBe(202);
    await until("the follows accepted and their Accepts delivered", queued, (q) => q.length === 0, DEADLINE_MS);
  }, 180_000);

  afterAll(async () => {
    await stopProcess(server?.child);
    await Promise.all(sinks.map((s) => s.stop()));
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    "every server gets each Announce under one id, none with a new one, and all arrive after the restart",
    async () => {
      // All at once, as an import or a busy hour would: 30 events waiting for the outbox.
      const threads = await onOwnConnection((db) =>
        inTransaction(db, async (trx) => {
          const made = [];
          for (let i = 0; i < THREADS; i++)
            made.push(await createThread(trx, origin, community, adminId, { title: `Crash ${i}`, body: "z" }));
          return made;
        }),
      );
      const announces = () => sinks.reduce((n, s) => n + s.posts.filter((p) => p.type === "Announce").length, 0);
      await until(
        "the first Announces",
        async () => announces(),
        (n) => n > 0,
        DEADLINE_MS,
      );
      const child = server!.child;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await gone;
      const atKill = await queued();
      const eventsLeft = atKill.filter((q) => q === "events").length;
      expect(eventsLeft, "the kill landed while events were still being dispatched").toBeGreaterThan(0);

      await start();
      const complete = (s: Sink) =>
        threads.every((t) => new Set(s.postsWith("Announce", t.iri).map((p) => JSON.parse(p.raw).id)).size >= 2);
      await until(
        "both Announces of every thread at every server",
        async () => sinks.filter(complete).length,
        (n) => n === SERVERS,
        DEADLINE_MS,
      );
      await until("the queues drained", queued, (q) => q.length === 0, DEADLINE_MS);

      let repeated = 0;
      for (const t of threads) {
        const idsAt = sinks.map((s) => s.postsWith("Announce", t.iri).map((p) => String(JSON.parse(p.raw).id)));
        const distinct = new Set(idsAt.flat());
        // The same two ids at every server, both named after the thread's event: a dispatch after the
        // restart made no new ones.
        expect(distinct.size, `${t.iri}: distinct Announce ids across all servers`).toBe(2);
        const [one, two] = [...distinct].sort();
        expect(two, t.iri).toBe(`${one}-object`);
        expect(one, t.iri).toMatch(new RegExp(`^${origin}/activities/[^/]+/announce$`));
        for (const got of idsAt) repeated += got.length - new Set(got).size;
      }
      // Only a delivery on the wire when the process died can be repeated (with its id): at most one per slot.
      expect(repeated).toBeLessThanOrEqual(CONCURRENCY);
      console.info(
        `[crash-dispatch ${dialect}] killed with ${eventsLeft} of ${THREADS} events undispatched and ` +
          `${atKill.length} rows queued; ${SERVERS * THREADS * 2} deliveries arrived, ${repeated} repeated with the same id`,
      );
    },
    DEADLINE_MS * 2,
  );
});
