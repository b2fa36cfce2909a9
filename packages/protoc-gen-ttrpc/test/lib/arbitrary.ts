/**
 * fast-check arbitraries for any message, driven by its protobuf-es descriptor. A value is a
 * plain object in the shape both protobuf-es's `create(schema, init)` and the generated code
 * accept: scalars, enums as numbers, oneofs as `{case, value}`, maps as objects with string keys,
 * wrappers unwrapped, absent explicit-presence fields undefined.
 * @module
 */
import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import fc from "fast-check";

const PRESENCE_IMPLICIT = 2;
const PRESENCE_REQUIRED = 3;

/** Options: how deep messages nest, whether large bytes values appear. */
export interface ArbOptions {
  maxDepth: number;
  large: boolean;
}

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const int64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
const uint64 = fc.bigInt(0n, 2n ** 64n - 1n);
const string = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 10 }),
);

/** A scalar value as protobuf-es represents it. */
export function scalarArb(
  t: ScalarType,
  longAsString: boolean,
  large = false,
): fc.Arbitrary<unknown> {
  const long = (a: fc.Arbitrary<bigint>) => (longAsString ? a.map(String) : a);
  switch (t) {
    case ScalarType.DOUBLE:
      return fc.double();
    case ScalarType.FLOAT:
      return fc.float();
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return long(fc.oneof(int64, fc.bigInt(-300n, 300n)));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(fc.oneof(uint64, fc.bigInt(0n, 300n)));
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(int32, fc.integer({ min: -200, max: 200 }));
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(uint32, fc.integer({ min: 0, max: 300 }));
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return string;
    case ScalarType.BYTES:
      return large
        ? fc.oneof(
            { weight: 9, arbitrary: fc.uint8Array({ maxLength: 30 }) },
            {
              weight: 1,
              arbitrary: fc
                .integer({ min: 16384, max: 40000 })
                .map((n) => new Uint8Array(n).fill(n & 0xff)),
            },
          )
        : fc.uint8Array({ maxLength: 30 });
  }
}

function enumArb(e: DescEnum): fc.Arbitrary<number> {
  const known = fc.constantFrom(...e.values.map((v) => v.number));
  return e.open
    ? fc.oneof({ weight: 4, arbitrary: known }, { weight: 1, arbitrary: int32 })
    : known;
}

function mapKeyArb(t: ScalarType): fc.Arbitrary<string> {
  if (t === ScalarType.BOOL) return fc.constantFrom("true", "false");
  if (t === ScalarType.STRING) return fc.string({ maxLength: 8 });
  return (scalarArb(t, false) as fc.Arbitrary<number | bigint>).map(String);
}

function wrapped(f: DescField): DescField | undefined {
  if (f.fieldKind !== "message" || f.oneof !== undefined) return undefined;
  const inner = f.message.fields[0];
  return f.message.typeName.startsWith("google.protobuf.") &&
    f.message.typeName.endsWith("Value") &&
    inner?.fieldKind === "scalar"
    ? inner
    : undefined;
}

/** Builds arbitraries for messages, memoised per descriptor and depth. */
export class Arbitraries {
  readonly #opts: ArbOptions;
  readonly #cache = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

  constructor(opts: Partial<ArbOptions> = {}) {
    this.#opts = { maxDepth: 3, large: false, ...opts };
  }

  /** Random messages of `desc`. */
  message(desc: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
    const key = `${desc.typeName}@${depth}`;
    let arb = this.#cache.get(key);
    if (arb === undefined) {
      arb = this.#build(desc, depth);
      this.#cache.set(key, arb);
    }
    return arb;
  }

  #value(f: DescField, depth: number): fc.Arbitrary<unknown> {
    switch (f.fieldKind) {
      case "scalar":
        return scalarArb(f.scalar, f.longAsString, this.#opts.large);
      case "enum":
        return enumArb(f.enum);
      case "message": {
        const w = wrapped(f);
        if (w !== undefined && w.fieldKind === "scalar") return scalarArb(w.scalar, w.longAsString);
        return this.message(f.message, depth + 1);
      }
      case "list": {
        const el =
          f.listKind === "scalar"
            ? scalarArb(f.scalar, f.longAsString)
            : f.listKind === "enum"
              ? enumArb(f.enum)
              : this.message(f.message, depth + 1);
        return fc.array(el, { maxLength: depth >= this.#opts.maxDepth ? 0 : 4 });
      }
      case "map": {
        const v =
          f.mapKind === "scalar"
            ? scalarArb(f.scalar, false)
            : f.mapKind === "enum"
              ? enumArb(f.enum)
              : this.message(f.message, depth + 1);
        return fc.dictionary(mapKeyArb(f.mapKey), v, {
          maxKeys: depth >= this.#opts.maxDepth ? 0 : 3,
          noNullPrototype: true,
        });
      }
    }
  }

  #build(desc: DescMessage, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const deep = depth >= this.#opts.maxDepth;
    const parts: Record<string, fc.Arbitrary<unknown>> = {};
    for (const member of desc.members) {
      if (member.kind === "oneof") {
        const cases = member.fields
          .filter((f) => !(deep && f.fieldKind === "message"))
          .map((f) => this.#value(f, depth).map((value) => ({ case: f.localName, value })));
        parts[member.localName] = fc.oneof(fc.constant({ case: undefined }), ...cases);
        continue;
      }
      const f = member;
      if (f.fieldKind === "message" && deep && wrapped(f) === undefined) {
        parts[f.localName] = fc.constant(undefined);
        continue;
      }
      const v = this.#value(f, depth);
      const explicit =
        (f.fieldKind === "scalar" || f.fieldKind === "enum" || f.fieldKind === "message") &&
        f.presence !== PRESENCE_IMPLICIT;
      parts[f.localName] =
        explicit && f.presence !== PRESENCE_REQUIRED ? fc.option(v, { nil: undefined }) : v;
    }
    return fc.record(parts).map((r) => {
      // Absent fields are left out, as a user would write an init object.
      for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k];
      return r;
    });
  }
}
