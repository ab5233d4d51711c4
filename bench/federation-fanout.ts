// Fan-out figures: one thread in a community followed from `servers` loopback
// servers (every second one answering after 300 ms): seconds until every
// server has both Announces, requests per shared inbox (must be exactly 2),
// deliveries/s and CPU ms per delivery; beside it a sign + POST loop over the
// same inboxes at the instance's delivery concurrency and at 64.
import { type ChildProcess, fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { signRequest } from "@fedify/fedify";
import type { Dialect } from "../db/connect.ts";
import { upsertRemoteActor } from "../src/actors/remote.ts";
import { loadConfig } from "../src/config.ts";
import { receiveFollow } from "../src/follows/service.ts";
import { createThread } from "../src/posts/service.ts";
import { startBenchInstance } from "./federation-instance.ts";

export interface FanoutFigures {
  servers: number;
  seconds: number;
  /** Every server's count of Announces (each must be exactly `expectedPerInbox`). */
  minPerInbox: number;
  maxPerInbox: number;
  expectedPerInbox: number;
  deliveriesPerS: number;
  cpuMsPerDelivery: number;
  concurrency: number;
  reference: { concurrency: number; seconds: number; deliveriesPerS: number; cpuMsPerDelivery: number }[];
}

type Counts = Record<string, number>[];

function startSinks(count: number, latencyMs: number) {
  const child: ChildProcess = fork(new URL("./federation-sinks.ts", import.meta.url), [
    String(count),
    String(latencyMs),
  ]);
  const ask = (cmd: string) => {
    child.send({ cmd });
  };
  const counts = () =>
    new Promise<Counts>((resolve) => {
      child.once("message", (m: { counts: Counts }) => resolve(m.counts));
      ask("counts");
    });
  const ready = new Promise<number[]>((resolve) => child.once("message", (m: { ports: number[] }) => resolve(m.ports)));
  return { ready, counts, reset: () => ask("reset"), stop: () => ask("stop") };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The sign + POST reference: `bodies` to every inbox, `width` requests in flight. */
async function signAndPost(inboxes: string[], bodies: string[], width: number, key: CryptoKey, keyId: URL) {
  const jobs = inboxes.flatMap((inbox) => bodies.map((body) => ({ inbox, body })));
  let next = 0;
  const c0 = cpuMs();
  const t0 = performance.now();
  const lane = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const request = new Request(job.inbox, {
        method: "POST",
        headers: { "content-type": "application/activity+json" },
        body: job.body,
      });
      const signed = await signRequest(request, key, keyId, { spec: "draft-cavage-http-signatures-12" });
      const res = await fetch(signed);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  const seconds = (performance.now() - t0) / 1000;
  return {
    concurrency: width,
    seconds,
    deliveriesPerS: jobs.length / seconds,
    cpuMsPerDelivery: (cpuMs() - c0) / jobs.length,
  };
}

export async function fanoutBench(
  dialect: Dialect,
  postgresUrl: string,
  options: { servers?: number; latencyMs?: number; profileTo?: string } = {},
): Promise<FanoutFigures> {
  const { servers = 1000, latencyMs = 300 } = options;
  const profiler = options.profileTo ? new Session() : null;
  const sinks = startSinks(servers, latencyMs);
  const ports = await sinks.ready;
  const instance = await startBenchInstance(dialect, postgresUrl);
  const db = instance.running.runtime.db;
  const concurrency = loadConfig({ ...process.env }).deliveryConcurrency;
  const queued = async () =>
    Number(
      (
        await db
          .selectFrom("fedify_queue")
          .select((eb) => eb.fn.countAll<number | string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const idle = async (deadlineMs: number) => {
    const end = Date.now() + deadlineMs;
    while ((await queued()) > 0) {
      if (Date.now() > end) throw new Error("the queue did not drain");
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    const inboxes: string[] = [];
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
      inboxes.push(`${origin}/inbox`);
      const outcome = await receiveFollow(db, {
        iri: `${origin}/follows/1`,
        followerId,
        followeeId: instance.community.id,
      });
      if (outcome !== "accepted") throw new Error(`the follow of ${origin} was ${outcome}`);
    }
    // The Accepts of the follows go out first; the thread starts from an idle queue.
    await idle(600_000);
    sinks.reset();
    if (profiler) {
      profiler.connect();
      await profiler.post("Profiler.enable");
      await profiler.post("Profiler.start");
    }
    const c0 = cpuMs();
    const t0 = performance.now();
    const thread = await createThread(db, instance.url, instance.community, instance.admin.actorId, {
      title: "Fan-out bench",
      body: "One thread to every follower",
    });
    const expectedPerInbox = 2;
    let counts: Counts = [];
    const end = Date.now() + (servers < 10 ? 10_000 : 600_000);
    for (;;) {
      counts = await sinks.counts();
      if (counts.every((c) => (c.Announce ?? 0) >= expectedPerInbox)) break;
      if (Date.now() > end) throw new Error(`not every server got the thread: ${JSON.stringify(counts.slice(0, 3))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuMs() - c0;
    if (profiler && options.profileTo) {
      const { profile } = await profiler.post("Profiler.stop");
      writeFileSync(options.profileTo, JSON.stringify(profile));
      profiler.disconnect();
    }
    await idle(60_000);
    counts = await sinks.counts();
    const perInbox = counts.map((c) => c.Announce ?? 0);
    const deliveries = perInbox.reduce((a, b) => a + b, 0);
    void thread;
    // The reference signs with a key of the same kind (RSA-2048) and posts the same two bodies.
    const pair = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const bodies = [0, 1].map((i) =>
      JSON.stringify({
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${instance.url}/bench/${i}`,
        type: "Announce",
        actor: instance.community.iri,
        object: `${instance.url}/bench/object/${i}`,
        to: ["https://www.w3.org/ns/activitystreams#Public"],
      }),
    );
    const keyId = new URL(`${instance.community.iri}#main-key`);
    const reference = [];
    for (const width of [concurrency, 64])
      reference.push(await signAndPost(inboxes, bodies, width, pair.privateKey, keyId));
    return {
      servers,
      seconds,
      minPerInbox: Math.min(...perInbox),
      maxPerInbox: Math.max(...perInbox),
      expectedPerInbox,
      deliveriesPerS: deliveries / seconds,
      cpuMsPerDelivery: cpu / deliveries,
      concurrency,
      reference,
    };
  } finally {
    sinks.stop();
    await instance.stop();
  }
}

if (import.meta.main) {
  // bench/federation-fanout.ts [servers] [file.cpuprofile]: the profile covers only the fan-out itself.
  const f = await fanoutBench("sqlite", "", { servers: Number(process.argv[2] ?? 1000), profileTo: process.argv[3] });
  console.log(JSON.stringify(f, null, 1));
}
