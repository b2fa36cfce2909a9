// Fuzzed inputs decode the same with protobuf-es and the generated code, or both fail (see
// lib/fuzz.ts for the two accepted, stricter divergences).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as esEd from "./gen/es/feature_editions_pb.js";
import * as es2 from "./gen/es/feature2_pb.js";
import * as es3 from "./gen/es/feature3_pb.js";
import * as oursEd from "./gen/ttrpc/feature_editions_ttrpc.js";
import * as ours2 from "./gen/ttrpc/feature2_ttrpc.js";
import * as ours3 from "./gen/ttrpc/feature3_ttrpc.js";
import { Arbitraries } from "./lib/arbitrary.js";
import { fuzzPair } from "./lib/fuzz.js";
import { pairs } from "./lib/pairs.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

describe("fuzz vs protobuf-es", { timeout: 180_000 }, () => {
  const arbs = new Arbitraries({ maxDepth: 2 });
  const all = [...pairs(es3, ours3), ...pairs(es2, ours2), ...pairs(esEd, oursEd)];
  for (const p of all) {
    test(p.desc.typeName, { timeout: 60_000 }, () => {
      const stats = fuzzPair(p, arbs, RUNS);
      // Damaged inputs must exercise both outcomes, or the property proves little.
      assert.ok(stats.bothOk > 0 && stats.bothFail > 0, JSON.stringify(stats));
    });
  }
});
