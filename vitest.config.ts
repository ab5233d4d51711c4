import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file gets its own database files/schemas, so files run in parallel.
    pool: "forks",
    reporters: ["default"],
  },
});
