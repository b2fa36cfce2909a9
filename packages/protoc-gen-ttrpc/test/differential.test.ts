// Differential tests against protobuf-es (which passes the protobuf conformance suite): random
// messages of every type of every schema (lib/schemas.ts), encoded by each
// implementation and decoded by the other; the bytes must be identical (both write fields in
// number order, map entries in key order, unknown fields last) and the decoded messages equal.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { Arbitraries } from "./lib/arbitrary.js";
import { normalize } from "./lib/normalize.js";
import type { Pair } from "./lib/pairs.js";
import { schemas } from "./lib/schemas.js";

const RUNS = Number(process.env.DIFF_RUNS ?? 150);

/** The differential property for one message type. */
export function checkPair(p: Pair, arbs: Arbitraries, runs = RUNS): void {
  fc.assert(
    fc.property(arbs.message(p.desc), (init) => {
      const esBytes = toBinary(p.desc, create(p.desc, init));
      const ourBytes = p.codec.toBinary(init);
      assert.deepStrictEqual(Buffer.from(ourBytes), Buffer.from(esBytes), "bytes differ");
      const oursFromEs = normalize(p.desc, p.codec.decode(esBytes));
      const esFromOurs = normalize(p.desc, fromBinary(p.desc, ourBytes));
      assert.deepStrictEqual(oursFromEs, esFromOurs);
      // Decoding and encoding again reproduces the bytes.
      assert.deepStrictEqual(
        Buffer.from(p.codec.toBinary(p.codec.decode(ourBytes))),
        Buffer.from(esBytes),
      );
    }),
    { numRuns: runs },
  );
}

for (const [name, list] of schemas) {
  describe(`differential vs protobuf-es: ${name}`, { timeout: 120_000 }, () => {
    const arbs = new Arbitraries({ large: true });
    for (const p of list) {
      test(p.desc.typeName, { timeout: 60_000 }, () => checkPair(p, arbs));
    }
  });
}
