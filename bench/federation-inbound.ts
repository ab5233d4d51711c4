// Inbound figures: signed Mastodon-shaped `Create(Note)`s from many distinct
// remote actors (keys already fetched), sent 16 at a time to a real instance
// on loopback; stored/s, and the p50/p99 latency of the 202. Beside it the
// lean reference over the same signed bodies in one loop: node:crypto
// RSA-2048 verify, JSON.parse and one better-sqlite3 insert each.
import { createHash, createPublicKey, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signRequest } from "@fedify/fedify";
import { exportSpki } from "@fedify/fedify/runtime";
import Database from "better-sqlite3";
import type { Dialect } from "../db/connect.ts";
import { startBenchInstance } from "./federation-instance.ts";

export interface InboundFigures {
  sent: number;
  storedPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of this process (Kindred and the sending loop) per stored activity. */
  cpuMsPerActivity: number;
  leanPerS: number;
  leanCpuMsPerActivity: number;
}

interface Signed {
  url: string;
  headers: [string, string][];
  body: string;
  iri: string;
}

const FIXTURE = new URL("../test/fixtures/mastodon/create_note.json", import.meta.url);

function fill(value: unknown, vars: Record<string, unknown>): unknown {
  if (typeof value === "string") {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole) return vars[whole[1]!];
    return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(vars[name]));
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  return value;
}

/** One server on loopback with `count` Mastodon-shaped actors sharing one key pair. */
async function actorServer(count: number) {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const publicKeyPem = await exportSpki(pair.publicKey);
  let origin = "";
  const server: Server = createServer((req, res) => {
    const match = /^\/users\/(a\d+)$/.exec(req.url ?? "");
    if (req.method !== "GET" || !match) return void res.writeHead(404).end();
    const actor = `${origin}/users/${match[1]}`;
    res.writeHead(200, { "content-type": "application/activity+json" });
    res.end(
      JSON.stringify({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        id: actor,
        type: "Person",
        preferredUsername: match[1],
        name: match[1],
        inbox: `${actor}/inbox`,
        outbox: `${actor}/outbox`,
        followers: `${actor}/followers`,
        endpoints: { sharedInbox: `${origin}/inbox` },
        publicKey: { id: `${actor}#main-key`, owner: actor, publicKeyPem },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const actors = Array.from({ length: count }, (_, i) => `${origin}/users/a${i}`);
  return { origin, actors, pair, publicKeyPem, close: () => new Promise((r) => server.close(r)) };
}

let seq = 0;
async function signedCreates(
  n: number,
  peers: Awaited<ReturnType<typeof actorServer>>,
  inbox: string,
  community: string,
): Promise<Signed[]> {
  const template = JSON.parse(readFileSync(FIXTURE, "utf8")) as unknown;
  const out: Signed[] = [];
  for (let i = 0; i < n; i++) {
    const actor = peers.actors[i % peers.actors.length]!;
    const id = `${Date.now()}${String(++seq).padStart(6, "0")}`;
    const body = fill(template, {
      origin: peers.origin,
      host: new URL(peers.origin).host,
      actor,
      username: actor.split("/").pop(),
      id,
      published: new Date().toISOString(),
      inReplyTo: null,
      mentioned: community,
      mentionedUrl: community,
      mentionedName: "bench",
      mentionedHost: new URL(community).host,
      text: `bench note ${i}`,
      hashtag: "bench",
    }) as { object: { id: string } };
    const request = new Request(inbox, {
      method: "POST",
      headers: { "content-type": "application/activity+json" },
      body: JSON.stringify(body),
    });
    const signed = await signRequest(request, peers.pair.privateKey, new URL(`${actor}#main-key`), {
      spec: "draft-cavage-http-signatures-12",
    });
    out.push({ url: inbox, headers: [...signed.headers], body: await signed.text(), iri: body.object.id });
  }
  return out;
}

const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;

/** Sends `items` `width` at a time; the latency of each response (all must be 202). */
async function send(items: Signed[], width: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const t0 = performance.now();
      const res = await fetch(item.url, { method: "POST", headers: item.headers, body: item.body });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 202) throw new Error(`inbox answered ${res.status} for ${item.iri}`);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  return latencies;
}

/** The lean reference: verify the draft-cavage signature, check the digest, parse, insert; one at a time. */
function leanLoop(items: Signed[], publicKeyPem: string): { perS: number; cpuMs: number } {
  const dir = mkdtempSync(join(tmpdir(), "kindred-lean-"));
  const db = new Database(join(dir, "lean.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("CREATE TABLE posts (iri TEXT PRIMARY KEY, actor TEXT NOT NULL, content TEXT, raw TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO posts (iri, actor, content, raw) VALUES (?, ?, ?, ?)");
  const key = createPublicKey(publicKeyPem);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const item of items) {
    const headers = new Map(item.headers.map(([k, v]) => [k.toLowerCase(), v]));
    const params = Object.fromEntries(
      [...(headers.get("signature") ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    const url = new URL(item.url);
    const lines = String(params.headers)
      .split(" ")
      .map((h) => (h === "(request-target)" ? `${h}: post ${url.pathname}` : `${h}: ${headers.get(h)}`));
    const digest = `SHA-256=${createHash("sha256").update(item.body).digest("base64")}`;
    if (headers.get("digest") !== digest) throw new Error("digest mismatch");
    if (!verify("sha256", Buffer.from(lines.join("\n")), key, Buffer.from(String(params.signature), "base64")))
      throw new Error("signature does not verify");
    const activity = JSON.parse(item.body) as { actor: string; object: { id: string; content: string } };
    insert.run(activity.object.id, activity.actor, activity.object.content, item.body);
  }
  const perS = items.length / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(c0);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { perS, cpuMs: (cpu.user + cpu.system) / 1000 / items.length };
}

export async function inboundBench(
  dialect: Dialect,
  postgresUrl: string,
  options: { actors?: number; activities?: number; width?: number } = {},
): Promise<InboundFigures> {
  const { actors = 200, activities = 1000, width = 16 } = options;
  const instance = await startBenchInstance(dialect, postgresUrl);
  const peers = await actorServer(actors);
  const db = instance.running.runtime.db;
  const storedOf = async (items: Signed[]) => {
    let stored = 0;
    for (let i = 0; i < items.length; i += 500) {
      const iris = items.slice(i, i + 500).map((s) => s.iri);
      const rows = await db.selectFrom("posts").select("iri").where("iri", "in", iris).execute();
      stored += rows.length;
    }
    return stored;
  };
  const untilStored = async (items: Signed[], deadlineMs: number) => {
    const end = Date.now() + deadlineMs;
    while ((await storedOf(items)) < items.length) {
      if (Date.now() > end) throw new Error(`only ${await storedOf(items)} of ${items.length} stored`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    const inbox = `${instance.url}/inbox`;
    // Warm: every actor's document and key fetched once.
    const warm = await signedCreates(actors, peers, inbox, instance.community.iri);
    await send(warm, width);
    await untilStored(warm, 300_000);
    const items = await signedCreates(activities, peers, inbox, instance.community.iri);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const latencies = await send(items, width);
    await untilStored(items, 300_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const lean = leanLoop(items, peers.publicKeyPem);
    return {
      sent: items.length,
      storedPerS: items.length / seconds,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      cpuMsPerActivity: (cpu.user + cpu.system) / 1000 / items.length,
      leanPerS: lean.perS,
      leanCpuMsPerActivity: lean.cpuMs,
    };
  } finally {
    await peers.close();
    await instance.stop();
  }
}

if (import.meta.main) {
  const f = await inboundBench("sqlite", "", {
    activities: Number(process.argv[2] ?? 1000),
    actors: Number(process.argv[3] ?? 200),
  });
  console.log(JSON.stringify(f));
}
