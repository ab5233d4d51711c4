// A fake remote server on loopback that speaks like Mastodon, Lemmy or
// Misskey: it serves its actors' documents (filled in from the templates in
// test/fixtures/<software>/), sends activities to Kindred signed the way those
// servers sign them (draft-cavage HTTP Signatures with a Digest header), and
// records every POST Kindred makes to its inboxes after checking Kindred's
// signature with Fedify, fetching Kindred's key over loopback.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { signRequest, verifyRequest } from "@fedify/fedify";
import { exportSpki, getDocumentLoader } from "@fedify/fedify/runtime";

export type Software = "mastodon" | "lemmy" | "misskey";

const FIXTURES = join(fileURLToPath(new URL(".", import.meta.url)), "..", "fixtures");

/** The `as:Public` collection, spelled out as every implementation sends it. */
export const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

// ---------------------------------------------------------------------------
// Fixture templates

/**
 * A JSON template of test/fixtures/ with its `{{name}}` placeholders filled
 * in. A string that is exactly one placeholder takes the value as is (it may
 * be null, an array or an object); placeholders inside longer strings are
 * replaced by the value's text. An unknown placeholder is an error, so a typo
 * never goes out on the wire.
 */
export function fixture(path: string, vars: Record<string, unknown>): Record<string, any> {
  const template = JSON.parse(readFileSync(join(FIXTURES, path), "utf8")) as unknown;
  return fill(template, vars, path) as Record<string, any>;
}

function fill(value: unknown, vars: Record<string, unknown>, where: string): unknown {
  if (typeof value === "string") {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole) {
      if (!(whole[1]! in vars)) throw new Error(`${where}: no value for {{${whole[1]}}}`);
      return vars[whole[1]!];
    }
    return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      if (!(name in vars)) throw new Error(`${where}: no value for {{${name}}}`);
      return String(vars[name]);
    });
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars, where));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [fill(k, vars, where) as string, fill(v, vars, where)]),
    );
  }
  return value;
}

// ---------------------------------------------------------------------------
// Polling

export interface WaitOptions {
  /** At most 15 s (default 10 s). */
  timeoutMs?: number;
  intervalMs?: number;
  label?: string;
  /** Called on timeout; its result goes into the error message. */
  describe?: () => unknown;
}

/**
 * Polls `probe` (every 40 ms, no fixed sleeps) until it returns something
 * other than undefined/false/null, and returns that; fails after the timeout
 * with `label` and, if given, what `describe()` says about the state then.
 * The second argument may be just the timeout in milliseconds.
 */
export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  optionsOrTimeout: WaitOptions | number = {},
): Promise<T> {
  const options = typeof optionsOrTimeout === "number" ? { timeoutMs: optionsOrTimeout } : optionsOrTimeout;
  const timeoutMs = Math.min(options.timeoutMs ?? 10_000, 15_000);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 40));
  }
  const state = options.describe ? `\nstate: ${JSON.stringify(await options.describe(), null, 2).slice(0, 4000)}` : "";
  const cause = lastError ? `\nlast error: ${String(lastError)}` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.label ?? "a condition"}${cause}${state}`);
}

// ---------------------------------------------------------------------------
// Actors

export interface PeerActorOptions {
  type?: "Person" | "Group";
  name?: string;
  summary?: string;
  manuallyApprovesFollowers?: boolean;
}

export interface PeerActor {
  software: Software;
  type: "Person" | "Group" | "Application";
  username: string;
  /** The actor's IRI. */
  id: string;
  inbox: string;
  sharedInbox: string;
  /** Where `followers` points (Mastodon and Misskey people, Lemmy groups). */
  followers: string;
  keyId: string;
  privateKey: CryptoKey;
  publicKeyPem: string;
  /** The actor document this server answers with (already filled in). */
  document: Record<string, any>;
  /** When set, the actor document answers `410 Gone` (a deleted account). */
  gone: boolean;
}

/** One POST Kindred made to this server. */
export interface Delivery {
  method: string;
  /** Path (with query) of the inbox that was posted to. */
  path: string;
  headers: Record<string, string>;
  /** The raw body text, exactly as received. */
  raw: string;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: any;
  /** Fedify's `verifyRequest` accepted the HTTP signature with a key fetched from Kindred. */
  verified: boolean;
  /** The `keyId` the signature named, if any. */
  keyId: string | null;
  /** The owner of the verified key (the actor that signed), if verified. */
  signer: string | null;
  receivedAt: number;
}

export interface SendOptions {
  /** Sign as this actor instead of the body's actor (a forged request); `null` sends it unsigned. */
  signAs?: PeerActor | null;
  contentType?: string;
}

export interface SendResult {
  status: number;
  text: string;
}

/** The User-Agent each implementation sends (shapes taken from real servers). */
function userAgent(software: Software, origin: string): string {
  switch (software) {
    case "mastodon":
      return `http.rb/5.2.0 (Mastodon/4.3.2; +${origin}/)`;
    case "lemmy":
      return `Lemmy/0.19.5; +${origin}`;
    case "misskey":
      return `Misskey/2024.10.1 (${origin})`;
  }
}

/** A Misskey "aid" style id: ten base-36 characters. */
const aid = () => (Date.now().toString(36) + Math.random().toString(36).slice(2)).slice(0, 10);
/** A Mastodon snowflake-ish status id: 18 digits. */
let snowflakeSeq = 0;
export const snowflake = () => `${BigInt(Date.now()) * 65536n + BigInt(++snowflakeSeq % 65536)}`.padStart(18, "1");

// ---------------------------------------------------------------------------
// The server

export class Peer {
  readonly software: Software;
  readonly origin: string;
  readonly host: string;
  readonly deliveries: Delivery[] = [];
  /** Every GET this server answered (path and status), for debugging. */
  readonly fetches: { path: string; status: number }[] = [];
  readonly actors = new Map<string, PeerActor>();
  /** Documents served at their `id` (notes, pages) besides actors. */
  readonly objects = new Map<string, Record<string, any>>();
  /** While set, each POST is recorded at once but answered only when this settles: a slow server. */
  inboxHold: Promise<void> | null = null;
  readonly #server: Server;
  readonly #loader = getDocumentLoader({ allowPrivateAddress: true });

  private constructor(software: Software, server: Server, port: number) {
    this.software = software;
    this.#server = server;
    this.origin = `http://127.0.0.1:${port}`;
    this.host = `127.0.0.1:${port}`;
  }

  /** Starts a server on a random loopback port. */
  static async start(software: Software): Promise<Peer> {
    let peer: Peer | undefined;
    const server = createServer((req, res) => {
      if (!peer) return void res.writeHead(503).end();
      peer.#handle(req, res).catch((error) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(error));
      });
    });
    // Kindred's delivery client keeps connections alive; don't let that hold stop() up.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    peer = new Peer(software, server, (server.address() as AddressInfo).port);
    return peer;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The shared inbox of this server (every implementation has one at `/inbox`). */
  get sharedInbox(): string {
    return `${this.origin}/inbox`;
  }

  /** Creates an actor with a fresh RSA-2048 key, served from now on. */
  async addActor(username: string, options: PeerActorOptions = {}): Promise<PeerActor> {
    const type = options.type ?? "Person";
    if (type === "Group" && this.software !== "lemmy") throw new Error("only the Lemmy peer plays groups");
    const keys = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const publicKeyPem = await exportSpki(keys.publicKey);
    let id: string;
    let template: string;
    const extra: Record<string, unknown> = {};
    switch (this.software) {
      case "mastodon":
        id = `${this.origin}/users/${username}`;
        template = "mastodon/person.json";
        break;
      case "lemmy":
        id = type === "Group" ? `${this.origin}/c/${username}` : `${this.origin}/u/${username}`;
        template = type === "Group" ? "lemmy/group.json" : "lemmy/person.json";
        break;
      case "misskey": {
        const userId = aid();
        extra.userId = userId;
        id = `${this.origin}/users/${userId}`;
        template = "misskey/person.json";
        break;
      }
    }
    const document = fixture(template, {
      actor: id,
      origin: this.origin,
      host: this.host,
      username,
      name: options.name ?? username,
      summary: options.summary ?? "",
      publicKeyPem,
      published: "2024-03-01T00:00:00Z",
      manuallyApprovesFollowers: options.manuallyApprovesFollowers ?? false,
      ...extra,
    });
    const actor: PeerActor = {
      software: this.software,
      type,
      username,
      id,
      inbox: document.inbox,
      sharedInbox: document.endpoints?.sharedInbox ?? this.sharedInbox,
      followers: document.followers ?? `${id}/followers`,
      keyId: document.publicKey.id,
      privateKey: keys.privateKey,
      publicKeyPem,
      document,
      gone: false,
    };
    this.actors.set(id, actor);
    return actor;
  }

  /**
   * The instance actor Mastodon signs reports (`Flag`) and fetches with: an
   * `Application` at `/actor`, named after the host, as Mastodon serves it.
   */
  async addInstanceActor(): Promise<PeerActor> {
    if (this.software !== "mastodon") throw new Error("only the Mastodon peer has an Application actor at /actor");
    const person = await this.addActor(this.host.replace(/:\d+$/, ""));
    this.actors.delete(person.id);
    const id = `${this.origin}/actor`;
    const document = {
      "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
      id,
      type: "Application",
      inbox: `${id}/inbox`,
      outbox: `${id}/outbox`,
      preferredUsername: this.host,
      url: `${this.origin}/about/more?instance_actor=true`,
      manuallyApprovesFollowers: true,
      publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: person.publicKeyPem },
      endpoints: { sharedInbox: this.sharedInbox },
    };
    const actor: PeerActor = {
      ...person,
      type: "Application",
      username: this.host,
      id,
      inbox: `${id}/inbox`,
      followers: `${id}/followers`,
      keyId: `${id}#main-key`,
      document,
    };
    this.actors.set(id, actor);
    return actor;
  }

  /** Publishes a Lemmy group's moderators collection (its `attributedTo`), as Lemmy serves it. */
  setModerators(group: PeerActor, moderators: string[]): void {
    this.publish({
      "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
      type: "OrderedCollection",
      id: `${group.id}/moderators`,
      orderedItems: moderators,
    });
  }

  /**
   * Answers a Kindred member's `Follow` of a Lemmy `group` with Lemmy's
   * `Accept`, sent by the group to the member's inbox, once the Follow arrives.
   */
  async acceptFollow(group: PeerActor, followerIri: string): Promise<void> {
    const follow = await this.waitForDelivery(
      (b) => b.type === "Follow" && b.object === group.id && b.actor === followerIri,
      { label: `${followerIri}'s Follow of ${group.id}` },
    );
    const accept = fixture("lemmy/accept.json", {
      origin: this.origin,
      actor: group.id,
      follower: followerIri,
      followId: follow.body.id,
      uuid: randomUUID(),
    });
    const res = await this.send(group, `${followerIri}/inbox`, accept);
    if (res.status !== 202) throw new Error(`Accept refused: ${res.status} ${res.text}`);
  }

  /** Serves `object` at its `id` (for Kindred's fetches of posts it does not know). */
  publish(object: Record<string, any>): void {
    this.objects.set(String(object.id), object);
  }

  /** A signed (unless `signAs: null`) POST request of `body`, ready to send. */
  async signedRequest(actor: PeerActor, url: string, body: unknown, options: SendOptions = {}): Promise<Request> {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const request = new Request(url, {
      method: "POST",
      headers: {
        // All three send exactly this media type on deliveries.
        "content-type": options.contentType ?? "application/activity+json",
        accept: "application/activity+json, application/ld+json",
        "user-agent": userAgent(this.software, this.origin),
      },
      body: text,
    });
    const signer = options.signAs === undefined ? actor : options.signAs;
    if (signer === null) return request;
    return signRequest(request, signer.privateKey, new URL(signer.keyId), { spec: "draft-cavage-http-signatures-12" });
  }

  /** POSTs `body` to `url` (one of Kindred's inboxes) as `actor`. */
  async send(actor: PeerActor, url: string, body: unknown, options: SendOptions = {}): Promise<SendResult> {
    const request = await this.signedRequest(actor, url, body, options);
    const res = await fetch(request);
    return { status: res.status, text: await res.text() };
  }

  /** Deliveries whose JSON body matches `predicate`. */
  received(predicate: (body: any, delivery: Delivery) => boolean = () => true): Delivery[] {
    return this.deliveries.filter((d) => d.body !== undefined && predicate(d.body, d));
  }

  /** Waits for a delivery whose JSON body matches `predicate`. */
  waitForDelivery(
    predicate: (body: any, delivery: Delivery) => boolean,
    options: { timeoutMs?: number; label?: string } = {},
  ): Promise<Delivery> {
    return waitFor(() => this.received(predicate)[0], {
      timeoutMs: options.timeoutMs ?? 10_000,
      label: options.label ?? `a delivery to ${this.software} peer ${this.origin}`,
      describe: () =>
        this.deliveries.map((d) => ({
          path: d.path,
          verified: d.verified,
          type: d.body?.type,
          object: typeof d.body?.object === "object" ? d.body.object?.type : d.body?.object,
        })),
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    if (req.method === "POST") return this.#receive(req, res, url);
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405).end();
    const answer = (status: number, body?: unknown, type = "application/activity+json; charset=utf-8") => {
      this.fetches.push({ path: url.pathname + url.search, status });
      if (body === undefined) return void res.writeHead(status).end();
      res.writeHead(status, { "content-type": type });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/.well-known/webfinger") {
      const resource = url.searchParams.get("resource") ?? "";
      const name = /^acct:([^@]+)@/.exec(resource)?.[1];
      const actor = [...this.actors.values()].find((a) => a.username === name && !a.gone);
      if (!actor) return answer(404);
      return answer(
        200,
        {
          subject: resource,
          aliases: [actor.id],
          links: [{ rel: "self", type: "application/activity+json", href: actor.id }],
        },
        "application/jrd+json; charset=utf-8",
      );
    }
    const iri = `${this.origin}${url.pathname}`;
    const actor = this.actors.get(iri);
    if (actor) {
      // Mastodon answers a deleted account with 410 Gone (Lemmy and Misskey likewise refuse it).
      if (actor.gone) return answer(410, { error: "Gone" }, "application/json; charset=utf-8");
      return answer(
        200,
        actor.document,
        this.software === "lemmy" ? "application/activity+json" : "application/activity+json; charset=utf-8",
      );
    }
    const object = this.objects.get(iri);
    if (object) return answer(200, object);
    return answer(404, { error: "Record not found" }, "application/json; charset=utf-8");
  }

  async #receive(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const request = new Request(`${this.origin}${url.pathname}${url.search}`, {
      method: "POST",
      headers: new Headers(headers),
      body: raw,
    });
    let key: Awaited<ReturnType<typeof verifyRequest>> = null;
    try {
      key = await verifyRequest(request, { documentLoader: this.#loader, contextLoader: this.#loader });
    } catch {
      key = null;
    }
    const keyId = /keyId="([^"]+)"/.exec(headers.signature ?? "")?.[1] ?? null;
    this.deliveries.push({
      method: "POST",
      path: url.pathname + url.search,
      headers,
      raw,
      body,
      verified: key !== null,
      keyId,
      signer: key?.ownerId?.href ?? null,
      receivedAt: Date.now(),
    });
    if (this.inboxHold) await this.inboxHold;
    // Like the real servers: a bad signature is refused, a good one accepted
    // (Lemmy answers 200, Mastodon and Misskey 202).
    res.writeHead(key === null ? 401 : this.software === "lemmy" ? 200 : 202, { "content-type": "text/plain" });
    res.end();
  }
}

/** A fresh UUID, as Mastodon and Lemmy use in activity ids. */
export const uuid = () => randomUUID();
