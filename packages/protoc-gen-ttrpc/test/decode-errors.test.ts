// Decode errors are typed and clear (code + message), and the encoder's chunked output and
// unknown-field handling behave as documented.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import * as esP2 from "./gen/es/feature2_pb.js";
import * as p2 from "./gen/ttrpc/feature2_ttrpc.js";
import * as p3 from "./gen/ttrpc/feature3_ttrpc.js";
import { $DecodeError } from "./gen/ttrpc/ttrpc_wire.js";

function fails(
  code: string,
  bytes: number[] | Uint8Array,
  decode: (b: Uint8Array) => unknown,
  re?: RegExp,
) {
  assert.throws(
    () => decode(Uint8Array.from(bytes)),
    (e: unknown) => {
      assert.ok(e instanceof $DecodeError, `not a DecodeError: ${String(e)}`);
      assert.equal(e.code, code, e.message);
      if (re) assert.match(e.message, re);
      return true;
    },
  );
}

describe("decode errors", { timeout: 10_000 }, () => {
  const scalars = (b: Uint8Array) => p3.Scalars.decode(b);

  test("truncated varint, fixed, length-delimited and tag", () => {
    fails("TRUNCATED", [0x28, 0x80], scalars, /truncated/); // int32 with a continuation byte last
    fails("TRUNCATED", [0x09, 1, 2], scalars); // a double needs 8 bytes
    fails("TRUNCATED", [0x4a, 5, 0x61], scalars); // string of 5, 1 byte present
    fails("TRUNCATED", [0x80], scalars); // a tag cut in half
  });

  test("a known field with another wire type", () => {
    fails("BAD_WIRE_TYPE", [0x2a, 0], scalars, /Scalars.*number 5.*wire type 2/); // int32 as LEN
    fails("BAD_WIRE_TYPE", [0x4d, 0, 0, 0, 0], scalars); // string as fixed32
  });

  test("illegal tags and wire types", () => {
    fails("BAD_TAG", [0x00], scalars); // field 0
    fails("BAD_TAG", [0x0e], scalars); // wire type 6
    fails("BAD_GROUP", [0xfc, 0x01], scalars); // end-group of field 31, no group open
  });

  test("varints longer than ten bytes", () => {
    fails("BAD_VARINT", [0x28, ...new Array(10).fill(0xff), 0x01], scalars);
  });

  test("invalid UTF-8 in a proto3 string; proto2 strings are not validated", () => {
    fails("BAD_UTF8", [0x4a, 2, 0xc3, 0x28], scalars, /UTF-8/);
    fails("BAD_UTF8", [0x4a, 30, ...new Array(29).fill(0x61), 0xff], scalars);
    const m = p2.P2.decode(Uint8Array.from([0x20, 1, 0x72, 2, 0xc3, 0x28]));
    assert.equal(m.anyBytes, "\ufffd(");
  });

  test("proto3 strings: valid UTF-8 exactly when a fatal TextDecoder accepts it", () => {
    const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 20 }).map((t) => new Uint8Array(Buffer.from(t))),
      fc
        .tuple(
          fc.string({ unit: "binary", maxLength: 10 }),
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
        )
        .map(([t, at, v]) => {
          const b = new Uint8Array(Buffer.from(t));
          if (b.length > 0) b[at % b.length] = v;
          return b;
        }),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const input = Uint8Array.from([0x4a, b.length, ...b]);
        let expected: string | undefined;
        try {
          expected = fatal.decode(b);
        } catch {
          expected = undefined;
        }
        if (expected === undefined) fails("BAD_UTF8", input, scalars);
        else assert.equal(p3.Scalars.decode(input).fString, expected);
      }),
      { numRuns: 3000 },
    );
  });

  test("nesting deeper than 100 messages", () => {
    // Recursive { child = 1 } nested 101 times
    let inner = new Uint8Array(0);
    for (let i = 0; i < 101; i++)
      inner = Uint8Array.from([0x0a, ...lenBytes(inner.length), ...inner]);
    fails("DEPTH", inner, (b) => p3.Recursive.decode(b), /deeper than 100/);
    // 99 levels decode
    let ok = new Uint8Array(0);
    for (let i = 0; i < 99; i++) ok = Uint8Array.from([0x0a, ...lenBytes(ok.length), ...ok]);
    assert.ok(p3.Recursive.decode(ok).child);
  });

  test("a field running past its enclosing message", () => {
    // Nested { inner = 1: Inner { name = 1: "abc" } } with inner's length one too short
    fails("OVERRUN", [0x0a, 4, 0x0a, 3, 0x61, 0x62, 0x63], (b) => p3.Nested.decode(b));
  });

  test("group end tags that do not match", () => {
    // P2.g (group 7) closed by end-group 9
    fails("BAD_GROUP", [0x20, 1, 0x3b, 0x4c], (b) => p2.P2.decode(b));
    // ...or not closed at all
    fails("TRUNCATED", [0x20, 1, 0x3b, 0x40, 1], (b) => p2.P2.decode(b));
  });
});

function lenBytes(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

describe("encoding", { timeout: 10_000 }, () => {
  test("bytes fields from 1 KiB are returned as their own chunk, not copied", () => {
    const payload = new Uint8Array(4096).fill(7);
    const out = p3.Scalars.encode(
      p3.Scalars.create({ fBytes: payload, fString: "x", fSint64: -1n }),
    );
    assert.ok(Array.isArray(out));
    assert.ok(out.includes(payload), "the payload itself is one of the chunks");
    const joined = Buffer.concat(out);
    assert.deepStrictEqual(p3.Scalars.decode(joined).fBytes, Buffer.from(payload));
    assert.equal(p3.Scalars.decode(joined).fSint64, -1n);
  });

  test("small messages are one buffer", () => {
    const out = p3.Scalars.encode({ ...p3.Scalars.create(), fInt32: -5 });
    assert.ok(out instanceof Uint8Array);
    assert.equal(out.length, 11); // tag + ten-byte negative varint
  });

  test("unknown fields are kept and written back after the known ones", () => {
    // Large.n1 = 1, then field 99 (unknown to Large) as a string
    const bytes = Uint8Array.from([0x08, 1, 0x9a, 0x06, 2, 0x68, 0x69]);
    const m = p3.Large.decode(bytes);
    assert.equal(m.n1, 1);
    assert.equal(m.$unknown?.length, 1);
    assert.deepStrictEqual(Buffer.from(p3.Large.toBinary(m)), Buffer.from(bytes));
  });

  test("a missing proto2 required field is refused on encode", () => {
    assert.throws(() => p2.P2.encode(p2.P2.create()), /required field not set/);
  });

  test("create() fills defaults; proto2 explicit fields start absent", () => {
    const m = p3.Scalars.create({ fString: "a" });
    assert.equal(m.fString, "a");
    assert.equal(m.fInt64, 0n);
    assert.equal(m.fUint64String, "0");
    assert.equal(m.fBytes.length, 0);
    const o = p3.Oneofs.create();
    assert.equal(o.kind.case, undefined);
    assert.equal(p2.P2.create().a, undefined);
  });

  test("proto2 [default = …] values are on the codec constant, as protobuf-es reads them", () => {
    const es = create(esP2.P2Schema);
    for (const f of esP2.P2Schema.fields) {
      if (f.fieldKind !== "scalar" && f.fieldKind !== "enum") continue;
      if (f.getDefaultValue() === undefined) continue;
      const ours = (p2.P2.defaults as Record<string, unknown>)[f.localName];
      assert.deepStrictEqual(ours, (es as unknown as Record<string, unknown>)[f.localName], f.name);
    }
    assert.equal(p2.P2.defaults.a, 42);
    assert.deepEqual(p3.Scalars.defaults, {});
    assert.equal(p3.Color.NEGATIVE, -1); // enum value names as protobuf-es shortens them
  });
});
