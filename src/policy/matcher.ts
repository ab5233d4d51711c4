// The policy check on every inbound activity, delivery and fetch: an
// in-memory snapshot of the block and allow lists, looked up by host and by
// each parent domain (a handful of Map lookups whatever the list's size).
// Before a request, a delivery or a queued activity uses it, `ensureFresh`
// compares the snapshot's version with the database's (version.ts) and loads
// the lists again when another process (the CLI, another node) changed them.
// A full reload every few seconds also catches lists edited by hand in SQL.
import type { BlockSeverity, Db } from "../../db/schema.ts";
import { getSettings } from "../instance/settings.ts";
import { logger } from "../logging.ts";
import { domainKeys } from "./domains.ts";
import { POLICY_STALENESS_MS, readPolicyVersion } from "./version.ts";

export interface DomainVerdict {
  /** "suspend" also covers hosts outside the allow list in allowlist mode. */
  severity: BlockSeverity | null;
  rejectMedia: boolean;
  rejectReports: boolean;
  /** The block entry that matched (the domain itself or a parent). */
  matched: string | null;
}

interface Snapshot {
  blocks: Map<string, { severity: BlockSeverity; rejectMedia: boolean; rejectReports: boolean }>;
  allows: Set<string>;
  allowlistMode: boolean;
}

const NONE: DomainVerdict = { severity: null, rejectMedia: false, rejectReports: false, matched: null };
const log = logger("policy");

export class DomainPolicy {
  readonly #db: Db;
  readonly #localHost: string;
  #snapshot: Snapshot = { blocks: new Map(), allows: new Set(), allowlistMode: false };
  /** The policy version the snapshot was loaded at, and when (performance.now()) its load began. */
  #version: string | null = null;
  #loadedFrom = Number.NEGATIVE_INFINITY;
  /** The latest version check: when it began, and its promise (shared by every caller within the bound). */
  #checkStarted = Number.NEGATIVE_INFINITY;
  #check: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Db, localHost: string) {
    this.#db = db;
    this.#localHost = localHost.toLowerCase();
  }

  /** Loads the lists now; then every `intervalMs` in the background. */
  async start(intervalMs = 5_000): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(
      () => this.refresh().catch((error) => log.warn("policy refresh failed: {error}", { error })),
      intervalMs,
    );
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Makes sure the snapshot is no older than the database's policy as of at
   * most POLICY_STALENESS_MS ago: a caller joins a check begun within that
   * bound (in flight or done), or begins one. A check reads the version row
   * and reloads the lists only when it moved. A failed read keeps the snapshot
   * (the database is then failing the request anyway) and is retried by the next caller.
   */
  ensureFresh(): Promise<void> {
    const started = performance.now();
    if (started - this.#checkStarted < POLICY_STALENESS_MS) return this.#check;
    this.#checkStarted = started;
    this.#check = (async () => {
      const version = await readPolicyVersion(this.#db);
      if (version !== this.#version) await this.#load(started, version);
    })().catch((error) => {
      this.#checkStarted = Number.NEGATIVE_INFINITY;
      log.warn("policy version check failed: {error}", { error });
    });
    return this.#check;
  }

  /** Loads the lists now (after a change this process made, or as the periodic full reload). */
  async refresh(): Promise<void> {
    const started = performance.now();
    await this.#load(started, await readPolicyVersion(this.#db));
  }

  /** Loads the lists as of `version` (read when the load began, at `started`); an older load never wins. */
  async #load(started: number, version: string): Promise<void> {
    const [blocks, allows, settings] = await Promise.all([
      this.#db.selectFrom("domain_blocks").select(["domain", "severity", "reject_media", "reject_reports"]).execute(),
      this.#db.selectFrom("domain_allows").select("domain").execute(),
      getSettings(this.#db),
    ]);
    if (started < this.#loadedFrom) return;
    this.#loadedFrom = started;
    this.#version = version;
    this.#snapshot = {
      blocks: new Map(
        blocks.map((b) => [
          b.domain,
          { severity: b.severity, rejectMedia: b.reject_media === 1, rejectReports: b.reject_reports === 1 },
        ]),
      ),
      allows: new Set(allows.map((a) => a.domain)),
      allowlistMode: settings.federationMode === "allowlist",
    };
  }

  /** The policy for `host` (a host, or any URL). Our own host is never blocked. */
  check(hostOrUrl: string): DomainVerdict {
    // The DNS root's trailing dot names the same host: "example.com." is "example.com".
    const host = (hostOrUrl.includes("/") ? safeHost(hostOrUrl) : hostOrUrl.toLowerCase())?.replace(
      /\.(?=:\d+$|$)/,
      "",
    );
    if (!host || host === this.#localHost) return NONE;
    const snap = this.#snapshot;
    const keys = domainKeys(host);
    if (snap.allowlistMode && !keys.some((k) => snap.allows.has(k))) {
      return { severity: "suspend", rejectMedia: true, rejectReports: true, matched: null };
    }
    for (const key of keys) {
      const block = snap.blocks.get(key);
      if (block) return { ...block, matched: key };
    }
    return NONE;
  }

  /** Whether nothing may be exchanged with `host` (suspended, or outside the allow list). */
  isSuspended(hostOrUrl: string): boolean {
    return this.check(hostOrUrl).severity === "suspend";
  }

  isSilenced(hostOrUrl: string): boolean {
    return this.check(hostOrUrl).severity === "silence";
  }

  /** Whether reports (`Flag`s) from `host` are dropped: `reject_reports`, or nothing at all is exchanged with it. */
  rejectsReports(hostOrUrl: string): boolean {
    const verdict = this.check(hostOrUrl);
    return verdict.rejectReports || verdict.severity === "suspend";
  }
}

function safeHost(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}
