// No module of src/, federation/ or db/ may reach itself through its imports
// (type-only imports included: they still tie two modules' designs together).
// A cycle is reported as the path that closes it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const FOLDERS = ["src", "federation", "db", "views"];

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Every module specifier a file names: static imports and re-exports, side-effect imports, literal `import()`. */
function specifiers(source: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/gms,
    /^\s*import\s+["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((re) => [...source.matchAll(re)].map((m) => m[1] ?? ""));
}

/** The project modules a file imports, as paths relative to the root. */
function localImports(file: string, known: Set<string>): string[] {
  return specifiers(readFileSync(join(root, file), "utf8"))
    .filter((s) => s.startsWith("."))
    .map((s) => relative(root, resolve(root, dirname(file), s)))
    .filter((target) => known.has(target));
}

/** Tarjan's strongly connected components; every component of two or more modules, or one importing itself, is a cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      component.push(member);
      if (member === node) break;
    }
    if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("import cycles (ARCHITECTURE.md)", () => {
  const all = FOLDERS.flatMap(files);
  const known = new Set(all);
  const graph = new Map(all.map((f) => [f, localImports(f, known)]));

  it("reads the imports it must see", () => {
    // Guards the scanner itself: if it found nothing, the test below could not fail.
    expect(graph.get("src/cli/bin.ts")?.length ?? 0).toBeGreaterThan(0);
    expect(
      specifiers(
        'import type { A } from "./a.ts";\nexport { b } from "./b.ts";\nimport "./c.ts";\nawait import("./d.ts");',
      ),
    ).toEqual(["./a.ts", "./b.ts", "./c.ts", "./d.ts"]);
    expect(
      cycles(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
          ["c", ["a"]],
          ["d", ["a"]],
        ]),
      ),
    ).toEqual([["a", "b", "c"]]);
  });

  it("no module of src/, federation/, db/ or views/ imports itself, directly or through others", () => {
    expect(cycles(graph)).toEqual([]);
  });
});
