// Scaling out on PostgreSQL (issue 14): two web processes behind one origin
// (a small reverse proxy on loopback, forwarding the Host header as nginx's
// `proxy_set_header Host $host` does) and two worker processes, all started at
// once on one fresh schema, each by a different entry point (`kindred web`,
// `WORKER=false npm start`, `kindred worker`, `npm run worker`); the CLI
// writes from a fifth. Twenty fake servers follow a community: each new
// thread reaches each shared inbox exactly once. Twenty signed Creates, sent
// alternately to both web processes, are each stored exactly once and
// re-shared once. Then processes are stopped (SIGTERM), killed (SIGKILL) and
// restarted while work is under way, and nothing goes out twice under two ids.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, postgresUrl, type TestDatabase } from "../helpers/databases.ts";
import { queueDepth, until } from "../helpers/federation.ts";
import { fixture, snowflake, uuid } from "../helpers/peer.ts";
import { exited, freePort, runCli, spawnServer, stopProcess, waitUntilServing } from "../helpers/processes.ts";
import { Sink } from "../helpers/sinks.ts";

const FOLLOWERS = 20;
const CREATES = 20;
/** A SIGKILLed worker's messages wait out their lease (60 s) before another worker takes them. */
const DEADLINE_MS = 150_000;

/**
 * The reverse proxy: inbox POSTs go to the web processes in strict turn (other
 * requests round-robin on their own), and a process that refuses the
 * connection is skipped, as nginx's `proxy_next_upstream error` does.
 */
class ReverseProxy {
  readonly origin: string;
  /** Inbox POSTs each backend answered. */
  readonly inboxPosts: number[];
  readonly #server: Server;
  readonly #ports: number[];
  #turn = { inbox: 0, other: 0 };

  private constructor(server: Server, ports: number[]) {
    this.#server = server;
    this.#ports = ports;
    this.inboxPosts = ports.map(() => 0);
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(port: number, backends: number[]): Promise<ReverseProxy> {
    let proxy: ReverseProxy | undefined;
    const server = createServer((req, res) => void proxy?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
    proxy = new ReverseProxy(server, backends);
    return proxy;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const inbox = req.method === "POST" && /\/inbox$/.test(new URL(req.url ?? "/", this.origin).pathname);
    const first = inbox ? this.#turn.inbox++ : this.#turn.other++;
    for (let i = 0; i < this.#ports.length; i++) {
      const backend = (first + i) % this.#ports.length;
      try {
        const answer = await this.forward(this.#ports[backend]!, req, body);
        if (inbox) this.inboxPosts[backend]!++;
        res.writeHead(answer.status, answer.headers).end(answer.body);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== "ECONNREFUSED") {
          res.writeHead(502).end(String(error));
          return;
        }
      }
    }
    res.writeHead(502).end("no backend");
  }

  private forward(port: number, req: IncomingMessage, body: Buffer) {
    return new Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }>(
      (resolve, reject) => {
        const out = request(
          { host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers, agent: false },
          (answer) => {
            const parts: Buffer[] = [];
            answer.on("data", (c: Buffer) => parts.push(c));
            answer.on("end", () => {
              const headers = { ...answer.headers } as Record<string, string | string[]>;
              delete headers["transfer-encoding"];
              delete headers.connection;
              resolve({ status: answer.statusCode ?? 502, headers, body: Buffer.concat(parts) });
            });
            answer.on("error", reject);
          },
        );
        out.on("error", reject);
        out.end(body);
      },
    );
  }
}

interface KindredProcess {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Web processes: their own port. */
  port?: number;
  child?: ChildProcess;
  output?: () => string;
}

describe.skipIf(!postgresUrl)("two web and two worker processes on one PostgreSQL", () => {
  let database: TestDatabase;
  let dataDir: string;
  let proxy: ReverseProxy;
  let processes: KindredProcess[] = [];
  let followers: Sink[] = [];
  let author: Sink;
  let env: NodeJS.ProcessEnv;
  let communityIri: string;
  /** Announces per follower of each inbound note (its re-share), as counted in the first test. */
  let resharesPerNote = 0;
  /** Creates sent again after a 502. */
  let resent = 0;
  const db = () => database.db;

  const start = async (p: KindredProcess) => {
    const spawned = spawnServer(p.env, p.args);
    p.child = spawned.child;
    p.output = spawned.output;
  };
  const ready = async (p: KindredProcess) => {
    if (!p.child || !p.output) throw new Error(`${p.name} was not started`);
    if (p.port !== undefined) {
      await waitUntilServing(`http://127.0.0.1:${p.port}`, p.child, p.output, 60_000, p.name);
      return;
    }
    const { child, output } = p;
    await until(
      `${p.name} to start its workers`,
      async () => {
        if (exited(child)) throw new Error(`${p.name} exited:\n${output()}`);
        return output().includes("workers started");
      },
      (started) => started,
      60_000,
    );
  };
  /** Stops `p` with `signal` and expects what a service manager expects of it. */
  const stop = async (p: KindredProcess, signal: "SIGTERM" | "SIGKILL") => {
    const child = p.child;
    if (!child || exited(child)) throw new Error(`${p.name} is not running:\n${p.output?.()}`);
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await gone;
    if (signal === "SIGTERM") expect({ code: child.exitCode, output: p.output?.() }).toMatchObject({ code: 0 });
  };
  const cli = async (...args: string[]) => {
    const result = await runCli(env, args);
    expect(result, args.join(" ")).toMatchObject({ code: 0 });
    return result.stdout.trim().split("\n").at(-1) ?? "";
  };
  const idle = (what: string) =>
    until(
      what,
      () => queueDepth(db()),
      (d) => d.events === 0 && d.fedify === 0,
      DEADLINE_MS,
    );

  const roles = () => processes as [KindredProcess, KindredProcess, KindredProcess, KindredProcess];
  /** A thread by the admin, written by the CLI (a fifth process); its IRI. */
  const postThread = (title: string) =>
    cli("post", "create", "--as", "admin", "--community", "long-covid", "--title", title, "--body", title);
  /** Waits until the Creates `iris` are stored, every follower has `thread`'s two Announces, and all is idle. */
  const delivered = async (thread: string, iris: string[]) => {
    await until(
      "the notes to be stored",
      () => storedPosts(iris),
      (stored) => stored.length === iris.length,
      DEADLINE_MS,
    );
    await until(
      `${thread}'s two Announces at every follower`,
      async () => announcesOf(thread).filter((a) => a.ids === 2).length,
      (n) => n === FOLLOWERS,
      DEADLINE_MS,
    );
    await idle("the workers idle");
    expect(await storedPosts(iris)).toHaveLength(iris.length);
  };

  /** The Announces each follower received carrying `iri`: { all POSTs, distinct activity ids }. */
  const announcesOf = (iri: string) =>
    followers.map((sink) => {
      const posts = sink.postsWith("Announce", iri);
      const ids = new Set(posts.map((p) => String(JSON.parse(p.raw).id)));
      return { sink: sink.origin, posts: posts.length, ids: ids.size, paths: [...new Set(posts.map((p) => p.path))] };
    });

  /** A Mastodon-shaped signed `Create(Note)` from the author's server, mentioning the community. */
  const note = (text: string) =>
    fixture("mastodon/create_note.json", {
      origin: author.origin,
      host: new URL(author.origin).host,
      actor: author.actor,
      username: "u",
      id: snowflake(),
      published: new Date().toISOString(),
      inReplyTo: null,
      mentioned: communityIri,
      mentionedUrl: communityIri,
      mentionedName: "long-covid",
      mentionedHost: new URL(communityIri).host,
      text,
      hashtag: "longcovid",
    });
  /**
   * Sends `count` Creates, 4 at a time, each until it is accepted: a 502 (the web process died while
   * answering, perhaps after queuing it) is retried, as Mastodon retries a failed delivery.
   */
  const sendCreates = async (count: number, label: string): Promise<string[]> => {
    const notes = Array.from({ length: count }, (_, i) => note(`${label} ${i}`));
    const deliver = async (activity: unknown) => {
      for (let attempt = 1; ; attempt++) {
        const status = await author.send(`${proxy.origin}/inbox`, activity);
        if (status === 202) return;
        expect({ status, attempt }, "only a dying backend's 502, and not for long").toMatchObject({ status: 502 });
        expect(attempt).toBeLessThan(50);
        resent++;
        await delay(200);
      }
    };
    for (let i = 0; i < notes.length; i += 4) await Promise.all(notes.slice(i, i + 4).map(deliver));
    return notes.map((n) => String(n.object.id));
  };
  const storedPosts = async (iris: string[]) =>
    (await db().selectFrom("posts").select("iri").where("iri", "in", iris).execute()).map((r) => r.iri);

  beforeAll(async () => {
    // Not migrated: the four processes starting at once migrate it, claim its origin and create its system actor.
    database = await freshDatabase("postgres", false);
    dataDir = mkdtempSync(join(tmpdir(), "kindred-scale-"));
    const [proxyPort, webA, webB] = [await freePort(), await freePort(), await freePort()];
    env = {
      PATH: process.env.PATH,
      ORIGIN: `http://127.0.0.1:${proxyPort}`,
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: "5",
      // Shared by every process, as a deployment shares its data volume and secret.
      DATA_DIR: dataDir,
      SECRET_KEY: "scale-out-test-secret-key-0123456789abcdef",
      ALLOW_PRIVATE_ADDRESS: "true",
      POSTING_LIMITS: "false",
      // A killed worker's claimed messages come back to the others after 10 s instead of a minute.
      QUEUE_LEASE_S: "10",
      LOG_LEVEL: "info",
    };
    proxy = await ReverseProxy.start(proxyPort, [webA, webB]);
    processes = [
      { name: "kindred web (A)", args: ["src/cli/bin.ts", "web"], env: { ...env, PORT: String(webA) }, port: webA },
      {
        name: "WORKER=false npm start (B)",
        args: ["src/main.ts"],
        env: { ...env, PORT: String(webB), WORKER: "false" },
        port: webB,
      },
      { name: "kindred worker (1)", args: ["src/cli/bin.ts", "worker"], env },
      { name: "npm run worker (2)", args: ["src/worker.ts"], env },
    ];
    await Promise.all(processes.map(start));
    await Promise.all(processes.map(ready));

    await cli("user", "create", "admin", "--admin");
    // Its last line is the community's IRI.
    communityIri = await cli("community", "create", "long-covid", "--name", "Long Covid");

    [followers, author] = await Promise.all([
      Promise.all(Array.from({ length: FOLLOWERS }, () => Sink.start())),
      Sink.start(),
    ]);
    for (const sink of [...followers, author]) {
      const follow = { id: `${sink.origin}/${uuid()}`, type: "Follow", actor: sink.actor, object: communityIri };
      const status = await sink.send(`${communityIri}/inbox`, {
        "@context": "https://www.w3.org/ns/activitystreams",
        ...follow,
      });
      expect(status).toBe(202);
    }
    await until(
      "every follow to be accepted",
      async () => [...followers, author].filter((s) => s.posts.some((p) => p.type === "Accept")).length,
      (n) => n === FOLLOWERS + 1,
      DEADLINE_MS,
    );
  }, 240_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => stopProcess(p.child)));
    await Promise.all([...followers, author].map((s) => s?.stop()));
    await proxy?.stop();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("fans a thread out once per shared inbox and stores each inbound activity once", async () => {
    const thread = await postThread("First");
    const before = [...proxy.inboxPosts];
    const iris = await sendCreates(CREATES, "inbound note");
    // Strict turns: each web process took half of them.
    expect(proxy.inboxPosts.map((n, i) => n - before[i]!)).toEqual([CREATES / 2, CREATES / 2]);
    await until(
      "the inbound notes to be stored",
      () => storedPosts(iris),
      (stored) => stored.length === CREATES,
      DEADLINE_MS,
    );
    await until(
      "the thread's two Announces at every follower",
      async () => announcesOf(thread).filter((a) => a.ids === 2).length,
      (n) => n === FOLLOWERS,
      DEADLINE_MS,
    );
    await idle("both workers idle");

    // Each follower got each of the thread's two Announces once, at its shared inbox.
    for (const a of announcesOf(thread)) expect(a).toEqual({ sink: a.sink, posts: 2, ids: 2, paths: ["/inbox"] });
    const rows = await db().selectFrom("posts").select(["iri"]).where("iri", "in", iris).execute();
    expect(rows).toHaveLength(CREATES);
    // Each inbound note was processed once: re-shared to each follower under one set of ids, each sent once.
    const reshares = iris.map((iri) => announcesOf(iri));
    const perNote = reshares[0]![0]!.ids;
    expect(perNote).toBeGreaterThan(0);
    resharesPerNote = perNote;
    for (const [i, note] of reshares.entries())
      for (const a of note) expect(a, `re-share of ${iris[i]}`).toMatchObject({ posts: perNote, ids: perNote });
  }, 300_000);

  it("neither duplicates nor loses work across a rolling restart (SIGTERM)", async () => {
    const [webA, , , worker2] = roles();
    await stop(webA, "SIGTERM");
    const thread = await postThread("Second");
    await stop(worker2, "SIGTERM");
    const iris = await sendCreates(CREATES / 2, "while A restarts");
    await start(webA);
    await start(worker2);
    await Promise.all([ready(webA), ready(worker2)]);
    await delivered(thread, iris);

    for (const a of announcesOf(thread)) expect(a).toEqual({ sink: a.sink, posts: 2, ids: 2, paths: ["/inbox"] });
    for (const iri of iris)
      for (const a of announcesOf(iri)) expect(a, iri).toMatchObject({ posts: resharesPerNote, ids: resharesPerNote });
  }, 400_000);

  it("neither loses work nor sends anything under two ids when processes are killed (SIGKILL)", async () => {
    const [, webB, worker1] = roles();
    const thread = await postThread("Third");
    const sending = sendCreates(CREATES / 2, "during the crash");
    await stop(worker1, "SIGKILL");
    await stop(webB, "SIGKILL");
    const iris = await sending;
    await start(worker1);
    await start(webB);
    await Promise.all([ready(worker1), ready(webB)]);
    await delivered(thread, iris);

    // A delivery under way when its worker died may be sent again once its lease runs out, but under the same id
    // (receivers drop the repeat), and a Create the dying web process had queued before its 502 is stored once.
    for (const a of announcesOf(thread)) expect(a, a.sink).toMatchObject({ ids: 2, paths: ["/inbox"] });
    for (const iri of iris) for (const a of announcesOf(iri)) expect(a, iri).toMatchObject({ ids: resharesPerNote });
    const repeats = [thread, ...iris].flatMap(announcesOf).reduce((n, a) => n + a.posts - a.ids, 0);
    console.info(`[scale-out] ${resent} Creates sent again after a 502; ${repeats} deliveries repeated under their id`);
  }, 400_000);
});
