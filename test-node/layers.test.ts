import path from "node:path";
import { describe, expect, it } from "vitest";
import { disallowed, importsOf, LAYERS, LOAD_IMPORTS, layerOf, sourcesUnder, violations } from "./layers.ts";

const ROOT = path.join(import.meta.dirname, "..");

describe("the layers of src/", () => {
  it("every import points down a layer or stays in its own, and every file has a layer", () => {
    const sources = sourcesUnder(ROOT, "src");
    expect(sources.size).toBeGreaterThan(50);
    expect(violations(sources)).toEqual([]);
  });

  it("the check catches an import that points up, and a file outside every layer", () => {
    const sources = new Map([
      [
        "src/objects/tier-inventory.ts",
        'import { x } from "../domain/sales/orders";\nimport type { y } from "../db/schema";',
      ],
      ["src/lib/ids.ts", 'export { z } from "../routes/views";'],
      ["src/domain/sales/orders.ts", 'const m = await import("../../routes/views");'],
      ["src/elsewhere/thing.ts", ""],
    ]);
    expect(violations(sources)).toEqual([
      {
        file: "src/objects/tier-inventory.ts",
        imports: "src/domain/sales/orders.ts",
        why: "objects imports from domain, a layer above it",
      },
      { file: "src/lib/ids.ts", imports: "src/routes/views.ts", why: "lib imports from http, a layer above it" },
      {
        file: "src/domain/sales/orders.ts",
        imports: "src/routes/views.ts",
        why: "domain imports from http, a layer above it",
      },
      { file: "src/elsewhere/thing.ts", imports: "", why: "belongs to no layer: add its folder to LAYERS" },
    ]);
  });

  it("reads relative imports with and without the .ts extension, and leaves packages alone", () => {
    const source = [
      'import { Hono } from "hono";',
      'import { a } from "./a";',
      'import type { B } from "../b.ts";',
      "import {\n  c,\n  d,\n} from './c';",
    ].join("\n");
    expect(importsOf("src/domain/x/y.ts", source)).toEqual([
      "src/domain/x/a.ts",
      "src/domain/b.ts",
      "src/domain/x/c.ts",
    ]);
  });

  it("orders the layers from the entry down to lib", () => {
    expect(LAYERS.map((l) => l.name)).toEqual(["entry", "http", "domain", "objects", "stripe", "schemas", "db", "lib"]);
    expect(layerOf("src/app.ts")).toBe(0);
    expect(layerOf("src/openapi.ts")).toBe(1);
    expect(layerOf("src/lib/ids.ts")).toBe(7);
  });
});

describe("the load harness", () => {
  it("bench and suite share common and serve, never each other; serve imports neither", () => {
    const sources = sourcesUnder(ROOT, "load");
    expect(sources.size).toBeGreaterThan(20);
    expect(disallowed(sources, LOAD_IMPORTS)).toEqual([]);
  });

  it("the browser tests start the Worker through serve and common only", () => {
    const sources = sourcesUnder(ROOT, "test-browser");
    const reaching = [...sources].flatMap(([file, source]) =>
      importsOf(file, source)
        .filter((t) => t.startsWith("load/") && !t.startsWith("load/serve/") && !t.startsWith("load/common/"))
        .map((t) => `${file} -> ${t}`),
    );
    expect(reaching).toEqual([]);
  });

  it("the check catches a harness importing the other", () => {
    const sources = new Map([
      ["load/bench/main.ts", 'import { x } from "../suite/engine.ts";'],
      ["load/serve/start.ts", 'import { y } from "../common/http.ts";'],
    ]);
    expect(disallowed(sources, LOAD_IMPORTS).map((v) => `${v.file} -> ${v.imports}`)).toEqual([
      "load/bench/main.ts -> load/suite/engine.ts",
      "load/serve/start.ts -> load/common/http.ts",
    ]);
  });
});
