/**
 * The layers of `src/`, top to bottom, and the check that imports only point down (docs/architecture.md).
 * A file may import from its own layer or any layer below it, never from one above.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export const LAYERS: readonly { name: string; paths: readonly string[] }[] = [
  { name: "entry", paths: ["src/index.ts", "src/app.ts"] },
  { name: "http", paths: ["src/routes/", "src/middleware/", "src/pages/", "src/openapi.ts"] },
  { name: "domain", paths: ["src/domain/"] },
  { name: "objects", paths: ["src/objects/"] },
  { name: "stripe", paths: ["src/stripe/"] },
  { name: "schemas", paths: ["src/schemas/"] },
  { name: "db", paths: ["src/db/"] },
  { name: "lib", paths: ["src/lib/"] },
];

/** The layer's index (0 is the top), or null for a file no layer owns. */
export function layerOf(file: string): number | null {
  const i = LAYERS.findIndex((l) => l.paths.some((p) => (p.endsWith("/") ? file.startsWith(p) : file === p)));
  return i < 0 ? null : i;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** The repository-relative files that `file` imports by a relative path (`.ts` added where it is left out). */
export function importsOf(file: string, source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = (m[1] ?? m[2]) as string;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
    found.push(target.endsWith(".ts") ? target : `${target}.ts`);
  }
  return found;
}

export interface Violation {
  file: string;
  imports: string;
  why: string;
}

/** Every import in `sources` (file → text) that points up a layer, and every file no layer owns. */
export function violations(sources: Map<string, string>): Violation[] {
  const found: Violation[] = [];
  for (const [file, source] of sources) {
    const from = layerOf(file);
    if (from === null) {
      found.push({ file, imports: "", why: "belongs to no layer: add its folder to LAYERS" });
      continue;
    }
    for (const target of importsOf(file, source)) {
      const to = layerOf(target);
      if (to !== null && to < from) {
        found.push({
          file,
          imports: target,
          why: `${LAYERS[from]?.name} imports from ${LAYERS[to]?.name}, a layer above it`,
        });
      }
    }
  }
  return found;
}

/**
 * The load harness (load/): the two harnesses share common/, which starts nothing; serve/ starts the Worker.
 * Each folder may import only from the folders listed for it.
 */
export const LOAD_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  "load/bench/": ["load/bench/", "load/common/", "load/serve/"],
  "load/suite/": ["load/suite/", "load/common/", "load/serve/"],
  "load/common/": ["load/common/", "load/serve/"],
  "load/serve/": ["load/serve/"],
};

/** Every import in `sources` outside what `allowed` lets its folder import, and every file in no folder of it. */
export function disallowed(sources: Map<string, string>, allowed: Readonly<Record<string, readonly string[]>>) {
  const found: Violation[] = [];
  for (const [file, source] of sources) {
    const folder = Object.keys(allowed).find((f) => file.startsWith(f));
    if (folder === undefined) {
      found.push({ file, imports: "", why: "is in no folder of the harness" });
      continue;
    }
    for (const target of importsOf(file, source)) {
      const within = Object.keys(allowed).some((f) => target.startsWith(f));
      if (within && !allowed[folder]?.some((f) => target.startsWith(f))) {
        found.push({ file, imports: target, why: `${folder} may import only from ${allowed[folder]?.join(", ")}` });
      }
    }
  }
  return found;
}

/** The TypeScript files under `dir` of the repository at `root`, as repository-relative paths. */
export function sourcesUnder(root: string, dir: string): Map<string, string> {
  const sources = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith(".ts")) sources.set(child, readFileSync(path.join(root, child), "utf8"));
    }
  };
  walk(dir);
  return sources;
}
