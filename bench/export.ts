// Export archive figures: time, size and peak memory for members with 2,000
// and 20,000 posts. Memory is sampled while the archive is written; a flat
// export shows about the same peak for both sizes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { archiveRenderer } from "../federation/archive.ts";
import { buildFederation } from "../federation/builder.ts";
import { createUser } from "../src/accounts/service.ts";
import { createCommunity, getCommunity } from "../src/communities/service.ts";
import { loadConfig } from "../src/config.ts";
import { writeArchive } from "../src/export/archive.ts";
import { newId } from "../src/ids.ts";
import { openRuntime } from "../src/runtime.ts";
import { postIri } from "../src/urls.ts";

const ORIGIN = "http://bench.local";

export interface ExportFigures {
  posts: number;
  seconds: number;
  bytes: number;
  peakHeapMiB: number;
  /** The most memory still in use right after a garbage collection (needs --expose-gc): what the export holds on to. */
  peakLiveMiB: number | null;
  peakRssMiB: number;
}

/** Exports a member with `posts` threads (bulk-inserted rows, each ~600 bytes of Markdown). */
export async function exportBench(posts: number): Promise<ExportFigures> {
  const dir = mkdtempSync(join(tmpdir(), "kindred-export-bench-"));
  const config = loadConfig({
    ORIGIN,
    DATABASE_URL: `sqlite:${join(dir, "bench.sqlite")}`,
    DATA_DIR: dir,
    LOG_LEVEL: "error",
    SECRET_KEY: "x".repeat(48),
  });
  const rt = await openRuntime(config);
  try {
    const user = await createUser(
      rt.db,
      ORIGIN,
      { username: "prolific", password: "a long password" },
      { role: "admin", allowReserved: true },
    );
    await createCommunity(rt.db, ORIGIN, user, { slug: "bench", name: "Bench" });
    const community = await getCommunity(rt.db, "bench");
    const body = "Fatigue diary. ".repeat(40);
    const ts = new Date().toISOString();
    for (let i = 0; i < posts; i += 500) {
      const rows = Array.from({ length: Math.min(500, posts - i) }, (_, k) => {
        const id = newId();
        return {
          id,
          iri: postIri(ORIGIN, id),
          url: postIri(ORIGIN, id),
          type: "Page" as const,
          author_id: user.actorId,
          community_id: community.id,
          parent_id: null,
          thread_id: id,
          title: `Day ${i + k}`,
          source: body,
          content_html: `<p>${body}</p>`,
          summary: null,
          sensitive: 0 as const,
          audience: "public" as const,
          language: null,
          local: 1 as const,
          published_at: ts,
          updated_at: null,
          deleted_at: null,
          removed_at: null,
          removed_by: null,
          locked: 0 as const,
          pinned_at: null,
          created_at: ts,
        };
      });
      await rt.db.insertInto("posts").values(rows).execute();
    }
    const built = buildFederation(rt);
    rt.archive = archiveRenderer(built.federation, rt);
    globalThis.gc?.();
    const base = process.memoryUsage();
    let peakHeap = base.heapUsed;
    let peakRss = base.rss;
    let peakLive = base.heapUsed;
    let ticks = 0;
    const gc = globalThis.gc;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
      if (gc && ++ticks % 25 === 0) {
        gc();
        peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
      }
    }, 20);
    const t0 = performance.now();
    const bytes = await writeArchive(
      { db: rt.db, origin: ORIGIN, dataDir: dir, archive: rt.archive },
      user.actorId,
      join(dir, "archive.tar.gz"),
    );
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    return {
      posts,
      seconds,
      bytes,
      peakHeapMiB: (peakHeap - base.heapUsed) / 2 ** 20,
      peakLiveMiB: gc ? (peakLive - base.heapUsed) / 2 ** 20 : null,
      peakRssMiB: (peakRss - base.rss) / 2 ** 20,
    };
  } finally {
    await rt.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
