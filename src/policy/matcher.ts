// The policy check on every inbound activity, delivery and fetch: an
// in-memory snapshot of the block and allow lists, looked up by host and by
// each parent domain (a handful of Map lookups whatever the list's size).
// Each process refreshes its snapshot from the database every few seconds,
// and at once after a change it makes itself.
import type { BlockSeverity, Db } from "../../db/schema.ts";
import { getSettings } from "../instance/settings.ts";
import { logger } from "../logging.ts";
import { domainKeys } from "./domains.ts";

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

  async refresh(): Promise<void> {
    const [blocks, allows, settings] = await Promise.all([
      this.#db.selectFrom("domain_blocks").select(["domain", "severity", "reject_media", "reject_reports"]).execute(),
      this.#db.selectFrom("domain_allows").select("domain").execute(),
      getSettings(this.#db),
    ]);
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
