import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file gets its own database files/schemas, so files run in parallel.
    pool: "forks",
    // Most suites wait on sockets, child processes and leases rather than the CPU: one more file at a time
    // than the machine's two cores keeps the whole run well inside CI's limit.
    maxWorkers: 3,
    reporters: ["default"],
  },
});
