// Lightweight fake remote servers for load tests: each a plain node:http
// server on its own loopback port (so its own host) with one Mastodon-shaped
// actor, that records every POST to its inboxes and answers 202 — or
// misbehaves on purpose: accepts and never answers, answers after a minute, or
// streams an endless error page one byte at a time. Unlike test/helpers/peer.ts
// they don't check signatures (a hundred of them would spend the test's CPU on
// it); every actor shares one key pair, generated once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { signRequest } from "@fedify/fedify";
import { exportSpki } from "@fedify/fedify/runtime";

export type SinkBehaviour = "normal" | "never-answers" | "answers-in-60s" | "endless-body";

export interface SinkPost {
  path: string;
  /** The activity's `type`, and the raw body (to look for an IRI in it). */
  type: string | undefined;
  raw: string;
  at: number;
}

let keys: Promise<{ privateKey: CryptoKey; publicKeyPem: string }> | undefined;
function sharedKeys() {
  keys ??= (async () => {
    const pair = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    return { privateKey: pair.privateKey, publicKeyPem: await exportSpki(pair.publicKey) };
  })();
  return keys;
}

export class Sink {
  readonly behaviour: SinkBehaviour;
  readonly origin: string;
  /** The one actor: `${origin}/users/u`. */
  readonly actor: string;
  /** Inbox POSTs answered (or, for a misbehaving sink, received). */
  readonly posts: SinkPost[] = [];
  /** POSTs the client gave up on (closed the connection) before we answered them in full. */
  cut = 0;
  /** POSTs being held right now. */
  open = 0;
  readonly #server: Server;
  readonly #privateKey: CryptoKey;
  /** The software its NodeInfo names (none served when unset). */
  software: string | undefined;

  private constructor(behaviour: SinkBehaviour, server: Server, port: number, privateKey: CryptoKey) {
    this.behaviour = behaviour;
    this.#server = server;
    this.origin = `http://127.0.0.1:${port}`;
    this.actor = `${this.origin}/users/u`;
    this.#privateKey = privateKey;
  }

  static async start(behaviour: SinkBehaviour = "normal", options: { software?: string } = {}): Promise<Sink> {
    const { privateKey, publicKeyPem } = await sharedKeys();
    let sink: Sink | undefined;
    const server = createServer((req, res) => sink?.handle(req, res, publicKeyPem));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    sink = new Sink(behaviour, server, (server.address() as AddressInfo).port, privateKey);
    sink.software = options.software;
    return sink;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Sends `activity` to `inbox`, signed by this sink's actor as Mastodon signs; the response status. */
  async send(inbox: string, activity: unknown): Promise<number> {
    const request = new Request(inbox, {
      method: "POST",
      headers: { "content-type": "application/activity+json" },
      body: JSON.stringify(activity),
    });
    const signed = await signRequest(request, this.#privateKey, new URL(`${this.actor}#main-key`), {
      spec: "draft-cavage-http-signatures-12",
    });
    const res = await fetch(signed);
    await res.arrayBuffer();
    return res.status;
  }

  /** Posts received whose raw body contains `text`. */
  postsWith(type: string, text: string): SinkPost[] {
    return this.posts.filter((p) => p.type === type && p.raw.includes(text));
  }

  private handle(req: IncomingMessage, res: ServerResponse, publicKeyPem: string): void {
    if (req.method === "GET") {
      const path = new URL(req.url ?? "/", this.origin).pathname;
      const json = (body: unknown) => {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify(body));
      };
      // NodeInfo as NodeBB serves it, when the sink plays a given software.
      if (this.software && path === "/.well-known/nodeinfo")
        return void json({
          links: [{ rel: "http://nodeinfo.diaspora.software/ns/schema/2.0", href: `${this.origin}/nodeinfo/2.0` }],
        });
      if (this.software && path === "/nodeinfo/2.0")
        return void json({
          version: "2.0",
          software: { name: this.software, version: "4.0.0" },
          protocols: ["activitypub"],
        });
      if (path !== "/users/u") return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/activity+json; charset=utf-8" });
      return void res.end(JSON.stringify(this.document(publicKeyPem)));
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let type: string | undefined;
      try {
        type = JSON.parse(raw).type;
      } catch {}
      this.posts.push({ path: req.url ?? "", type, raw, at: Date.now() });
      this.misbehave(res);
    });
  }

  private misbehave(res: ServerResponse): void {
    if (this.behaviour === "normal") return void res.writeHead(202).end();
    this.open++;
    let timer: NodeJS.Timeout | undefined;
    res.on("close", () => {
      this.open--;
      clearTimeout(timer);
      clearInterval(timer);
      if (!res.writableFinished) this.cut++;
    });
    if (this.behaviour === "answers-in-60s") timer = setTimeout(() => res.writeHead(202).end(), 60_000);
    if (this.behaviour === "endless-body") {
      // An error page Fedify reads (up to 1 KiB) to report the failure: it never ends, and a byte comes
      // every 100 ms, so no idle timeout ever fires.
      res.writeHead(500, { "content-type": "text/html" });
      timer = setInterval(() => res.write("x"), 100);
    }
    // "never-answers": nothing at all.
  }

  private document(publicKeyPem: string) {
    return {
      "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
      id: this.actor,
      type: "Person",
      preferredUsername: "u",
      name: "U",
      inbox: `${this.actor}/inbox`,
      outbox: `${this.actor}/outbox`,
      followers: `${this.actor}/followers`,
      following: `${this.actor}/following`,
      endpoints: { sharedInbox: `${this.origin}/inbox` },
      publicKey: { id: `${this.actor}#main-key`, owner: this.actor, publicKeyPem },
    };
  }
}
