import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), "kindred-cfg-"));
    const c = loadConfig({ DATA_DIR: dir });
    expect(c.port).toBe(3000);
    expect(c.origin).toBe("http://localhost:3000");
    expect(c.databaseUrl).toBe("sqlite:./data/kindred.sqlite");
    expect(c.allowPrivateAddress).toBe(false);
    expect(c.secure).toBe(false);
    expect(c.worker).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("reports every problem at once", () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: "abc",
        ORIGIN: "ftp://x",
        DATABASE_URL: "mysql://db",
        SECRET_KEY: "short",
        LOG_LEVEL: "loud",
        ALLOW_PRIVATE_ADDRESS: "maybe",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const fields = (error as ConfigError).problems.map((p) => p.split(":")[0]);
    expect(fields.sort()).toEqual([
      "ALLOW_PRIVATE_ADDRESS",
      "DATABASE_URL",
      "LOG_LEVEL",
      "ORIGIN",
      "PORT",
      "SECRET_KEY",
    ]);
  });

  it("generates SECRET_KEY once and keeps it in the data folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "kindred-cfg-"));
    const first = loadConfig({ DATA_DIR: dir }).secretKey;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({ DATA_DIR: dir }).secretKey).toBe(first);
    expect(readFileSync(join(dir, "secret.key"), "utf8").trim()).toBe(first);
    expect(statSync(join(dir, "secret.key")).mode & 0o077).toBe(0);
  });

  it("normalises ORIGIN and marks https as secure", () => {
    const c = loadConfig({ ORIGIN: "https://kindred.example/", SECRET_KEY: "k".repeat(32) });
    expect(c.origin).toBe("https://kindred.example");
    expect(c.secure).toBe(true);
    expect(c.secretKey).toBe("k".repeat(32));
  });
});
