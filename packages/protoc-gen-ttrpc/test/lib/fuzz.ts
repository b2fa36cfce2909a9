/**
 * The fuzz property: damaged encodings (bit flips, truncation, inserted and deleted bytes, plain
 * random bytes) decode to the same message with protobuf-es and the generated code, or both fail.
 * The generated decoder is stricter in two documented ways, the only divergences accepted: a known
 * field with another wire type (protobuf-es reads it as its declared type anyway) and a field
 * running past the end of its enclosing message (protobuf-es reads on).
 * @module
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import type { Arbitraries } from "./arbitrary.js";
import { normalize } from "./normalize.js";
import type { Pair } from "./pairs.js";

type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "cut"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
  }),
  fc.record({
    op: fc.constant("delete" as const),
    at: fc.nat(),
    n: fc.integer({ min: 1, max: 4 }),
  }),
);

function mutate(bytes: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = Buffer.from(bytes);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.op === "flip") {
      if (b.length > 0) b[at % b.length] = (b[at % b.length] as number) ^ (1 << m.bit);
    } else if (m.op === "cut") b = b.subarray(0, at);
    else if (m.op === "insert") b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
  }
  return b;
}

/** Counts of what happened, for the report and to prove the fuzzer reaches every branch. */
export interface FuzzStats {
  bothOk: number;
  bothFail: number;
  stricter: Record<string, number>;
}

function attempt<T>(f: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Compares both decoders on one input; throws on a divergence that is not accepted. */
export function compareDecode(p: Pair, input: Uint8Array, stats: FuzzStats): void {
  const es = attempt(() => fromBinary(p.desc, input));
  const ours = attempt(() => p.codec.decode(input));
  if (!ours.ok) {
    const code = (ours.error as { code?: unknown }).code;
    assert.ok(
      ours.error instanceof Error && typeof code === "string",
      `generated decode threw a non-DecodeError: ${String(ours.error)}`,
    );
    if (!es.ok) {
      stats.bothFail++;
      return;
    }
    assert.ok(
      code === "BAD_WIRE_TYPE" || code === "OVERRUN",
      `generated decode failed (${code}: ${(ours.error as Error).message}) where protobuf-es decoded`,
    );
    stats.stricter[code] = (stats.stricter[code] ?? 0) + 1;
    return;
  }
  assert.ok(
    es.ok,
    `generated decode succeeded where protobuf-es failed: ${String(!es.ok && es.error)}`,
  );
  stats.bothOk++;
  if (!isDeepStrictEqual(normalize(p.desc, ours.value), normalize(p.desc, es.value))) {
    // protobuf-es's known loss of closed-enum unknowns (see NormalizeOptions) is the only
    // difference accepted; re-encoding then differs by those fields too.
    const lenient = { dropClosedEnumUnknowns: true };
    assert.deepStrictEqual(
      normalize(p.desc, ours.value, lenient),
      normalize(p.desc, es.value, lenient),
    );
    stats.stricter.ES_LOST_CLOSED_ENUM = (stats.stricter.ES_LOST_CLOSED_ENUM ?? 0) + 1;
    return;
  }
  // Encoding the decoded message again (unknown fields included) gives the same bytes, or
  // both encoders refuse (a proto2 required field missing).
  const esOut = attempt(() => toBinary(p.desc, es.value));
  const ourOut = attempt(() => p.codec.toBinary(ours.value));
  assert.equal(ourOut.ok, esOut.ok, "one encoder failed, the other did not");
  if (ourOut.ok && esOut.ok && !Buffer.from(ourOut.value).equals(esOut.value)) {
    // Only a NaN's bits may differ: protobuf-es writes doubles through a DataView, which keeps
    // a NaN's payload; Buffer's writer stores the canonical NaN. Both decode to the same message.
    assert.deepStrictEqual(
      normalize(p.desc, fromBinary(p.desc, ourOut.value)),
      normalize(p.desc, fromBinary(p.desc, esOut.value)),
      "re-encoded bytes differ beyond NaN payloads",
    );
    stats.stricter.NAN_PAYLOAD = (stats.stricter.NAN_PAYLOAD ?? 0) + 1;
  }
}

/** Runs the fuzz property on one message type. */
export function fuzzPair(p: Pair, arbs: Arbitraries, runs: number): FuzzStats {
  const stats: FuzzStats = { bothOk: 0, bothFail: 0, stricter: {} };
  const valid = arbs.message(p.desc).map((m) => toBinary(p.desc, create(p.desc, m)));
  const damaged = fc
    .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([b, ms]) => mutate(b, ms));
  const input = fc.oneof(
    { weight: 6, arbitrary: damaged },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  );
  fc.assert(
    fc.property(input, (bytes) => compareDecode(p, bytes, stats)),
    { numRuns: runs },
  );
  return stats;
}
