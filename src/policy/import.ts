import type { BlockSeverity, Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import type { ParsedBlockList } from "./csv.ts";
import {
  blockDomain,
  coveringBlock,
  type DomainBlock,
  listDomainBlocks,
  localFollowsWith,
  type PurgeCounts,
} from "./service.ts";
import { settlePolicyChange } from "./version.ts";

const strength: Record<BlockSeverity, number> = { noop: 0, silence: 1, suspend: 2 };

export interface PlannedChange {
  block: DomainBlock;
  /**
   * new: not blocked yet; changed: blocked differently; unchanged;
   * covered: a parent domain's block already applies.
   */
  status: "new" | "changed" | "unchanged" | "covered";
  coveredBy?: string;
  /** Follows between local and remote actors that a suspension would cut. */
  followsCut: number;
}

/** The review step: what importing `list` would change, before anything is written. */
export async function planImport(db: Db, list: ParsedBlockList): Promise<PlannedChange[]> {
  const existing = new Map((await listDomainBlocks(db)).map((b) => [b.domain, b]));
  const severities = new Map([...existing].map(([d, b]) => [d, b.severity]));
  const plan: PlannedChange[] = [];
  for (const block of list.blocks) {
    const current = existing.get(block.domain);
    const parent = coveringBlock(severities, block.domain);
    const followsCut = block.severity === "suspend" ? await localFollowsWith(db, block.domain) : 0;
    const parentSeverity = parent ? severities.get(parent) : undefined;
    if (!current && parent && parentSeverity && strength[parentSeverity] >= strength[block.severity]) {
      plan.push({ block, status: "covered", coveredBy: parent, followsCut: 0 });
    } else if (!current) {
      plan.push({ block, status: "new", followsCut });
    } else {
      const same =
        current.severity === block.severity &&
        (current.reject_media === 1) === block.rejectMedia &&
        (current.reject_reports === 1) === block.rejectReports &&
        (current.public_comment ?? null) === block.publicComment &&
        (current.obfuscate === 1) === block.obfuscate;
      plan.push({ block, status: same ? "unchanged" : "changed", followsCut: same ? 0 : followsCut });
    }
  }
  return plan;
}

/** Applies the new and changed entries of a plan, all or nothing (our own host refused, given `origin`). */
export async function applyImport(
  db: Db,
  plan: PlannedChange[],
  instance: { origin?: string } = {},
): Promise<{ applied: number; purged: PurgeCounts }> {
  const result = await inTransaction(db, async (trx) => {
    const purged: PurgeCounts = { actors: 0, follows: 0, posts: 0 };
    let applied = 0;
    for (const change of plan) {
      if (change.status !== "new" && change.status !== "changed") continue;
      // Lists carry no private comments: the one written here stays.
      const result = await blockDomain(
        trx,
        {
          ...change.block,
          privateComment: undefined,
          publicComment: change.block.publicComment ?? undefined,
        },
        instance,
      );
      applied++;
      if (result.purged) {
        purged.actors += result.purged.actors;
        purged.follows += result.purged.follows;
        purged.posts += result.purged.posts;
      }
    }
    return { applied, purged };
  });
  // Each block bumped the policy version in the transaction; the wait for every process is once, after it.
  await settlePolicyChange(db);
  return result;
}
