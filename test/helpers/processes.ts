// Running Kindred the way a self-hoster does: `src/main.ts` and the CLI as
// child processes, on free loopback ports.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/**
 * A `src/main.ts` process with `env` (or another entry point: `["src/cli/bin.ts", "worker"]`);
 * its output is kept for failure messages.
 */
export function spawnServer(
  env: NodeJS.ProcessEnv,
  args: string[] = ["src/main.ts"],
): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (out += c));
  return { child, output: () => out };
}

/** Polls GET / until it answers 200, the process dies, or the deadline passes. */
export async function waitUntilServing(
  origin: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
  name = "kindred",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (exited(child))
      throw new Error(
        `${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before serving:\n${output()}`,
      );
    try {
      const res = await fetch(`${origin}/`, { redirect: "manual", signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = String(error);
    }
    await delay(100);
  }
  throw new Error(`${name} did not answer GET / with 200 within ${timeoutMs} ms (last: ${last}):\n${output()}`);
}

/** Stops a server like a service manager would: SIGTERM, then SIGKILL if it hangs. */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timedOut = await Promise.race([gone.then(() => false), delay(10_000).then(() => true)]);
  if (timedOut) {
    child.kill("SIGKILL");
    await gone;
  }
}

/**
 * Runs `node src/cli/bin.ts` with exactly `env`. `input` is written to its
 * stdin, which is then held open until the process exits, as a terminal or a
 * slow pipe would: the CLI must read what it needs and exit by itself.
 * Whatever happens, a self-hoster never sees a stack trace.
 */
export function runCli(
  env: NodeJS.ProcessEnv,
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["src/cli/bin.ts", ...args], {
      cwd: ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    // Closing stdin after the process is gone may fail; that is fine.
    child.stdin.on("error", () => undefined);
    if (input === undefined) child.stdin.end();
    else child.stdin.write(input);
    child.on("error", reject);
    child.on("close", (code) => {
      child.stdin.end();
      // A failed check must fail the test at once, not leave the promise pending until the test times out.
      try {
        expect(stderr, `stderr of kindred ${args.join(" ")}`).not.toContain("    at ");
        resolve({ code, stdout, stderr });
      } catch (error) {
        reject(error);
      }
    });
  });
}
