// The core reads from the ground up: every import of src/ (type-only ones included) points to a
// lower floor, so there is no cycle and no arrow back up; the client and server sides share only
// what lies below them. A new file must be given its floor here.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../src/", import.meta.url));

/** The floors, bottom first. A file may import only files on floors below its own. */
const floors: [string, string[]][] = [
  [
    "ground",
    [
      "frame",
      "errors",
      "metadata",
      "handshake",
      "deadline",
      "proto",
      "method",
      "es-types",
      "limits",
      "debug",
    ],
  ],
  ["shared", ["envelope", "queue", "stream", "context", "channel", "dial"]],
  ["seams", ["service", "interceptor", "outbound", "details"]],
  ["call-parts", ["server-intercept", "server-report"]],
  ["calls", ["client-call", "server-call"]],
  ["engines", ["connection", "dispatch"]],
  ["reconnect", ["redial"]],
  ["facades", ["client", "server"]],
  ["entries", ["index", "wire"]],
];
const clientSide = new Set(["client-call", "connection", "redial", "client"]);
const serverSide = new Set([
  "server-intercept",
  "server-report",
  "server-call",
  "dispatch",
  "server",
]);

const floorOf = new Map<string, number>();
for (const [i, [, files]] of floors.entries()) for (const f of files) floorOf.set(f, i);

const modules = readdirSync(src)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .map((f) => f.slice(0, -3));

/** Every relative module a file names: static imports and re-exports (type-only too), dynamic imports. */
function importsOf(module: string): string[] {
  const text = readFileSync(`${src}${module}.ts`, "utf8");
  const found = new Set<string>();
  const patterns = [
    /\b(?:import|export)\s[^;]*?\sfrom\s*"(\.\/[^"]+)"/gs,
    /\bimport\s*"(\.\/[^"]+)"/g,
    /\bimport\(\s*"(\.\/[^"]+)"\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      found.add((match[1] as string).replace(/^\.\//, "").replace(/\.js$/, ""));
    }
  }
  return [...found];
}

const graph = new Map(modules.map((m) => [m, importsOf(m)]));

describe("the core's import graph", { timeout: 10_000 }, () => {
  it("sees the imports it checks", () => {
    // Guards the parser: a regex that matched nothing would pass every other test.
    assert.ok(graph.get("index")?.includes("client"));
    assert.ok(graph.get("interceptor")?.includes("context"), "type-only imports count");
    assert.ok(modules.length >= 20, `found ${modules.length} modules`);
  });

  it("gives every file of src/ a floor", () => {
    const missing = modules.filter((m) => !floorOf.has(m));
    assert.deepEqual(missing, [], "add new files to the floors in test/layers.test.ts");
    const gone = [...floorOf.keys()].filter((m) => !modules.includes(m));
    assert.deepEqual(gone, [], "files listed in the floors but not in src/");
  });

  it("imports only downwards", () => {
    const upward: string[] = [];
    for (const [module, imports] of graph) {
      const own = floorOf.get(module) ?? -1;
      for (const target of imports) {
        const theirs = floorOf.get(target);
        if (theirs === undefined || theirs >= own) {
          const name = (i: number | undefined) => (i === undefined ? "?" : floors[i]?.[0]);
          upward.push(`${module} (${name(own)}) -> ${target} (${name(theirs)})`);
        }
      }
    }
    assert.deepEqual(upward, []);
  });

  it("has no cycle", () => {
    // Redundant with the floors, and independent of them: a plain depth-first search.
    const state = new Map<string, "visiting" | "done">();
    const cycles: string[] = [];
    const visit = (module: string, path: string[]): void => {
      if (state.get(module) === "done") return;
      if (state.get(module) === "visiting") {
        cycles.push([...path.slice(path.indexOf(module)), module].join(" -> "));
        return;
      }
      state.set(module, "visiting");
      for (const target of graph.get(module) ?? []) visit(target, [...path, module]);
      state.set(module, "done");
    };
    for (const module of modules) visit(module, []);
    assert.deepEqual(cycles, []);
  });

  it("keeps the client and server sides apart", () => {
    const crossings: string[] = [];
    for (const [module, imports] of graph) {
      for (const target of imports) {
        if (
          (clientSide.has(module) && serverSide.has(target)) ||
          (serverSide.has(module) && clientSide.has(target))
        ) {
          crossings.push(`${module} -> ${target}`);
        }
      }
    }
    assert.deepEqual(crossings, []);
  });
});
