// `kindred web` and `kindred worker` (src/cli/processes.ts) run as a service
// manager runs them: each starts, does its one role, and on SIGTERM stops
// gracefully and exits 0 without a stack trace. The web process serves but
// leaves the queues to the worker, which works them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects, freshDatabase, type TestDatabase } from "./helpers/databases.ts";
import { queueDepth, until } from "./helpers/federation.ts";
import { exited, freePort, runCli, spawnServer, stopProcess, waitUntilServing } from "./helpers/processes.ts";

describe.each(dialects)("kindred web and kindred worker on %s", (dialect) => {
  let database: TestDatabase;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let port: number;
  const started: ReturnType<typeof spawnServer>[] = [];

  /** Sends SIGTERM and waits for the exit; returns the exit code and signal, and all the output. */
  const terminate = async ({ child, output }: ReturnType<typeof spawnServer>) => {
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    child.kill("SIGTERM");
    await closed;
    return { code: child.exitCode, signal: child.signalCode, output: output() };
  };

  beforeAll(async () => {
    database = await freshDatabase(dialect, false);
    dataDir = mkdtempSync(join(tmpdir(), "kindred-roles-"));
    port = await freePort();
    env = {
      PATH: process.env.PATH,
      PORT: String(port),
      ORIGIN: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      POSTING_LIMITS: "false",
      LOG_LEVEL: "info",
    };
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => stopProcess(p.child)));
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("`kindred web` serves without working the queues and stops on SIGTERM with exit code 0", async () => {
    const web = spawnServer(env, ["src/cli/bin.ts", "web"]);
    started.push(web);
    await waitUntilServing(env.ORIGIN ?? "", web.child, web.output, 60_000, "kindred web");
    expect(web.output()).toContain(`kindred web: serving ${env.ORIGIN} on port ${port}`);
    for (const args of [
      ["user", "create", "admin", "--admin"],
      ["community", "create", "roles", "--name", "Roles"],
    ])
      expect(await runCli(env, args)).toMatchObject({ code: 0 });
    const post = await runCli(env, [
      "post",
      "create",
      "--as",
      "admin",
      "--community",
      "roles",
      "--title",
      "Queued",
      "--body",
      "for the worker",
    ]);
    expect(post).toMatchObject({ code: 0 });
    // The web process serves the thread the CLI wrote…
    const page = await fetch(post.stdout.trimEnd().split("\n").at(-1) ?? "", { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Queued");
    // …and left it to a worker.
    expect((await queueDepth(database.db)).events).toBeGreaterThan(0);

    const stopped = await terminate(web);
    expect(stopped, stopped.output).toMatchObject({ code: 0, signal: null });
    expect(stopped.output).not.toContain("    at ");
    await expect(fetch(`${env.ORIGIN}/`)).rejects.toThrow();
  }, 120_000);

  it("`kindred worker` works the queues without serving and stops on SIGTERM with exit code 0", async () => {
    const worker = spawnServer(env, ["src/cli/bin.ts", "worker"]);
    started.push(worker);
    await until(
      "kindred worker to start",
      async () => {
        if (exited(worker.child)) throw new Error(`kindred worker exited:\n${worker.output()}`);
        return worker.output().includes("kindred worker: working the queues");
      },
      (ready) => ready,
      60_000,
    );
    await until(
      "the worker to dispatch the thread's event",
      () => queueDepth(database.db),
      (depth) => depth.events === 0,
      60_000,
    );
    // It serves nothing: PORT is free.
    await expect(fetch(`${env.ORIGIN}/`)).rejects.toThrow();

    const stopped = await terminate(worker);
    expect(stopped, stopped.output).toMatchObject({ code: 0, signal: null });
    expect(stopped.output).not.toContain("    at ");
  }, 120_000);
});
