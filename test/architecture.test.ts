import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

const imports = (file: string) =>
  [...readFileSync(join(root, file), "utf8").matchAll(/^\s*import\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);

describe("package boundaries (ARCHITECTURE.md)", () => {
  it("domain services import neither hono, views nor federation", () => {
    const offenders = files("src")
      .filter((f) => f.endsWith("service.ts"))
      .flatMap((f) =>
        imports(f)
          .filter((i) => i === "hono" || i.startsWith("hono/") || i.includes("/views/") || i.includes("/federation/"))
          .map((i) => `${f} -> ${i}`),
      );
    expect(offenders).toEqual([]);
  });

  it("views import nothing from src, db or federation", () => {
    const offenders = files("views").flatMap((f) =>
      imports(f)
        .filter((i) => /\/(src|db|federation)\//.test(i))
        .map((i) => `${f} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it("only src/config.ts reads process.env", () => {
    const readers = ["src", "db", "federation", "views"]
      .flatMap(files)
      .filter(
        (f) =>
          readFileSync(join(root, f), "utf8").includes("process.env") &&
          relative(root, join(root, f)) !== "src/config.ts",
      );
    expect(readers).toEqual([]);
  });

  it("only the process entry points import federation/ from src", () => {
    const importers = files("src").filter((f) => imports(f).some((i) => i.includes("federation/")));
    expect(importers.sort()).toEqual(["src/cli/bin.ts", "src/server.ts", "src/worker.ts"]);
  });

  // Biome formats at width 120 but cannot shorten a long string, comment or template (biome.jsonc).
  it("no application line is wider than 120 characters and no application file is over 400 lines", () => {
    const app = ["src", "federation", "db", "views"].flatMap(files);
    const wide = app.flatMap((f) =>
      readFileSync(join(root, f), "utf8")
        .split("\n")
        .flatMap((line, i) => (line.length > 120 ? [`${f}:${i + 1} (${line.length})`] : [])),
    );
    const long = app.flatMap((f) => {
      const lines = readFileSync(join(root, f), "utf8").trimEnd().split("\n").length;
      return lines > 400 ? [`${f} (${lines} lines)`] : [];
    });
    expect(wide).toEqual([]);
    expect(long).toEqual([]);
  });
});
