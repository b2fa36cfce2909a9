// Fuzzed inputs decode the same with protobuf-es and the generated code, or both fail (see
// lib/fuzz.ts for the two accepted, stricter divergences).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Arbitraries } from "./lib/arbitrary.js";
import { fuzzPair } from "./lib/fuzz.js";
import { schemas } from "./lib/schemas.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

describe("fuzz vs protobuf-es", { timeout: 180_000 }, () => {
  const arbs = new Arbitraries({ maxDepth: 2 });
  // The inlined-helpers variant is the same code as the module one.
  const all = schemas.filter(([name]) => !name.includes("inlined")).flatMap(([, list]) => list);
  for (const p of all) {
    test(p.desc.typeName, { timeout: 60_000 }, () => {
      const stats = fuzzPair(p, arbs, RUNS);
      // Damaged inputs must exercise both outcomes, or the property proves little.
      assert.ok(stats.bothOk > 0 && stats.bothFail > 0, JSON.stringify(stats));
    });
  }
});
