// Erasure figure (issue 14, item 7): a member with 2,000 posts in a community
// that `servers` loopback servers follow is erased; seconds until every server
// has its `Delete` (one `Delete(Person)` per server, not one per post). The
// servers are bench/federation-sinks.ts, in a process of their own.
import { type ChildProcess, fork } from "node:child_process";
import type { Dialect } from "../db/connect.ts";
import { inTransaction } from "../db/transaction.ts";
import { createUser } from "../src/accounts/service.ts";
import { upsertRemoteActor } from "../src/actors/remote.ts";
import { eraseAccount } from "../src/erasure/service.ts";
import { receiveFollow } from "../src/follows/service.ts";
import { startBenchInstance } from "./federation-instance.ts";
import { postRow } from "./seed.ts";

export interface ErasureFigures {
  servers: number;
  posts: number;
  /** From the erasure's call until the last server has a Delete; null if the deadline passed first. */
  seconds: number | null;
  reached: number;
  deletesPerServer: { min: number; max: number };
}

type Counts = Record<string, number>[];

function sinks(count: number) {
  const child: ChildProcess = fork(new URL("./federation-sinks.ts", import.meta.url), [String(count), "0"]);
  const counts = () =>
    new Promise<Counts>((resolve) => {
      child.once("message", (m: { counts: Counts }) => resolve(m.counts));
      child.send({ cmd: "counts" });
    });
  const ready = new Promise<number[]>((resolve) => child.once("message", (m: { ports: number[] }) => resolve(m.ports)));
  return { ready, counts, reset: () => child.send({ cmd: "reset" }), stop: () => child.send({ cmd: "stop" }) };
}

export async function erasureBench(
  dialect: Dialect,
  postgresUrl: string,
  options: { servers?: number; posts?: number; deadlineMs?: number } = {},
): Promise<ErasureFigures> {
  const { servers = 1000, posts = 2000, deadlineMs = 300_000 } = options;
  const remote = sinks(servers);
  const ports = await remote.ready;
  const instance = await startBenchInstance(dialect, postgresUrl);
  const db = instance.running.runtime.db;
  const queued = async () =>
    Number(
      (
        await db
          .selectFrom("fedify_queue")
          .select((eb) => eb.fn.countAll<number | string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  try {
    for (const port of ports) {
      const origin = `http://127.0.0.1:${port}`;
      const followerId = await upsertRemoteActor(db, {
        iri: `${origin}/users/u`,
        type: "Person",
        username: "u",
        host: `127.0.0.1:${port}`,
        name: "U",
        summaryHtml: null,
        url: null,
        inboxUrl: `${origin}/users/u/inbox`,
        sharedInboxUrl: `${origin}/inbox`,
        outboxUrl: null,
        followersUrl: `${origin}/users/u/followers`,
        followingUrl: null,
        featuredUrl: null,
        avatarUrl: null,
        manuallyApprovesFollowers: false,
        discoverable: true,
      });
      await receiveFollow(db, { iri: `${origin}/follows/1`, followerId, followeeId: instance.community.id });
    }
    const member = await createUser(db, instance.url, { username: "prolific", password: "a long password" });
    const start = Date.now() - posts * 1000;
    const rows = Array.from({ length: posts }, (_, i) =>
      postRow(instance.url, start + i * 1000, member.actorId, instance.community.id, null),
    );
    await inTransaction(db, async (trx) => {
      for (let i = 0; i < rows.length; i += 500)
        await trx
          .insertInto("posts")
          .values(rows.slice(i, i + 500))
          .execute();
    });
    // The Accepts of the follows go out first: the erasure starts from an idle queue.
    const idleBy = Date.now() + deadlineMs;
    while ((await queued()) > 0 && Date.now() < idleBy) await new Promise((r) => setTimeout(r, 100));
    remote.reset();
    const queuedDeliveries = instance.running.runtime.queuedDeliveries;
    if (!queuedDeliveries) throw new Error("the instance has no queued deliveries");
    const t0 = performance.now();
    await eraseAccount(db, instance.url, member.actorId, { queued: queuedDeliveries });
    const end = Date.now() + deadlineMs;
    let counts: Counts = [];
    let seconds: number | null = null;
    for (;;) {
      counts = await remote.counts();
      if (counts.every((c) => (c.Delete ?? 0) >= 1)) {
        seconds = (performance.now() - t0) / 1000;
        break;
      }
      if (Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const deletes = counts.map((c) => c.Delete ?? 0);
    return {
      servers,
      posts,
      seconds,
      reached: deletes.filter((n) => n > 0).length,
      deletesPerServer: { min: Math.min(...deletes), max: Math.max(...deletes) },
    };
  } finally {
    remote.stop();
    await instance.stop();
  }
}
