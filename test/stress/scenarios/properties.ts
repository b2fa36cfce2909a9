/**
 * Property-based checks (fast-check) of the engine's internal frame reader and envelope decoders,
 * shared by the quick test (properties.test.ts) and the full run (run.ts, more runs per property).
 * The encoders used to build inputs are the suite's own (lib/wire.ts), not the engine's.
 * Internal modules: if the refactor moves them, only the imports below change.
 */
import fc from "fast-check";
import {
  decodeRequest,
  decodeResponse,
  MalformedError,
} from "../../../packages/ttrpc/src/envelope.js";
import { FrameReader } from "../../../packages/ttrpc/src/frame.js";
import { bytesField, encodeFrame, request, varint, varintField } from "../lib/wire.js";

/** A named property; `known` marks one that documents a defect of issue 8 (7) still to fix. */
export interface NamedProperty {
  name: string;
  /** Runs the property `numRuns` times; throws fast-check's report (with the seed) on failure. */
  check(numRuns: number): void;
  known?: string;
}

interface Got {
  frames: { sid: number; type: number; flags: number; data: string }[];
  oversize: { sid: number; type: number; flags: number; length: number }[];
}

/** Feeds chunks to a FrameReader and records what it delivered. */
function read(chunks: readonly Buffer[], max: number): Got & { mid: boolean } {
  const got: Got = { frames: [], oversize: [] };
  const reader = new FrameReader(
    {
      frame: (sid, type, flags, data) =>
        got.frames.push({ sid, type, flags, data: data.toString("hex") }),
      oversize: (sid, type, flags, length) => got.oversize.push({ sid, type, flags, length }),
    },
    max,
  );
  for (const c of chunks) reader.push(c);
  return { ...got, mid: reader.midFrame };
}

/** Splits bytes at the given cut points (fractions in [0, 1)). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => Math.floor(p * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const a of at) {
    if (a > prev) out.push(bytes.subarray(prev, a));
    prev = Math.max(prev, a);
  }
  out.push(bytes.subarray(prev));
  return out;
}

const u32 = fc.nat({ max: 0xffffffff });
const u8 = fc.nat({ max: 255 });
const frameArb = fc.record({
  sid: u32,
  type: u8,
  flags: u8,
  data: fc.uint8Array({ maxLength: 300 }),
});
const cuts = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
  maxLength: 12,
});

function isMalformed(e: unknown): boolean {
  return e instanceof MalformedError;
}

/** Decoding either succeeds or throws MalformedError, never anything else. */
function decodesOrMalformed(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): boolean {
  try {
    decode(bytes);
    return true;
  } catch (e) {
    if (isMalformed(e)) return true;
    throw e;
  }
}

const text = fc.string({ unit: "grapheme", maxLength: 40 });
const requestArb = fc.record({
  service: text,
  method: text,
  payload: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: undefined }),
  timeoutNano: fc.option(fc.maxSafeInteger(), { nil: undefined }),
  metadata: fc.array(fc.tuple(text, text), { maxLength: 8 }),
});

/** An unknown field of any non-group wire type, numbered above the envelope's fields. */
const unknownField = fc.oneof(
  fc
    .tuple(fc.integer({ min: 6, max: 2 ** 29 - 1 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
    .map(([n, v]) => Buffer.concat([varint(n * 8), varint(v)])),
  fc
    .tuple(fc.integer({ min: 6, max: 2 ** 29 - 1 }), fc.uint8Array({ maxLength: 40 }))
    .map(([n, b]) => bytesField(n, b)),
  fc
    .tuple(fc.integer({ min: 6, max: 2 ** 29 - 1 }), fc.uint8Array({ minLength: 8, maxLength: 8 }))
    .map(([n, b]) => Buffer.concat([varint(n * 8 + 1), b])),
  fc
    .tuple(fc.integer({ min: 6, max: 2 ** 29 - 1 }), fc.uint8Array({ minLength: 4, maxLength: 4 }))
    .map(([n, b]) => Buffer.concat([varint(n * 8 + 5), b])),
);

type Req = typeof requestArb extends fc.Arbitrary<infer R> ? R : never;

function sameRequest(bytes: Uint8Array, want: Req): boolean {
  const got = decodeRequest(bytes);
  const ok =
    got.service === want.service &&
    got.method === want.method &&
    (want.payload === undefined
      ? got.payload === undefined
      : Buffer.from(want.payload).equals(got.payload ?? Buffer.alloc(1))) &&
    got.timeoutNano === (want.timeoutNano ?? 0) &&
    JSON.stringify(got.metadata) === JSON.stringify(want.metadata);
  if (!ok) throw new Error(`decoded ${JSON.stringify(got)} for ${JSON.stringify(want)}`);
  return true;
}

function run<T>(property: fc.IProperty<T>): (numRuns: number) => void {
  return (numRuns) => fc.assert(property, { numRuns });
}

/** The properties. */
export function properties(): NamedProperty[] {
  return [
    {
      name: "frame reader: any frames, cut anywhere, come out whole and in order",
      check: run(
        fc.property(fc.array(frameArb, { maxLength: 20 }), cuts, (frames, points) => {
          const bytes = Buffer.concat(
            frames.map((f) => encodeFrame(f.sid, f.type, f.flags, f.data)),
          );
          const got = read(cut(bytes, points), 1 << 20);
          const want = frames.map((f) => ({
            sid: f.sid,
            type: f.type,
            flags: f.flags,
            data: Buffer.from(f.data).toString("hex"),
          }));
          return (
            JSON.stringify(got.frames) === JSON.stringify(want) &&
            got.oversize.length === 0 &&
            !got.mid
          );
        }),
      ),
    },
    {
      name: "frame reader: an oversize frame is reported once, skipped, and the next frame still reads",
      check: run(
        fc.property(
          frameArb,
          fc.integer({ min: 1, max: 64 }),
          frameArb,
          cuts,
          (big, max, next, points) => {
            fc.pre(big.data.length > max && next.data.length <= max);
            const bytes = Buffer.concat([
              encodeFrame(big.sid, big.type, big.flags, big.data),
              encodeFrame(next.sid, next.type, next.flags, next.data),
            ]);
            const got = read(cut(bytes, points), max);
            return (
              got.oversize.length === 1 &&
              got.oversize[0]?.length === big.data.length &&
              got.frames.length === 1 &&
              got.frames[0]?.data === Buffer.from(next.data).toString("hex") &&
              !got.mid
            );
          },
        ),
      ),
    },
    {
      name: "frame reader: a cut-short stream is reported mid-frame and delivers only whole frames",
      check: run(
        fc.property(
          fc.array(frameArb, { minLength: 1, maxLength: 5 }),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          (frames, where) => {
            const bytes = Buffer.concat(
              frames.map((f) => encodeFrame(f.sid, f.type, f.flags, f.data)),
            );
            const end = Math.floor(where * bytes.length);
            const got = read([bytes.subarray(0, end)], 1 << 20);
            let whole = 0;
            let off = 0;
            for (const f of frames) {
              if (off + 10 + f.data.length > end) break;
              off += 10 + f.data.length;
              whole += 1;
            }
            return got.frames.length === whole && got.mid === off < end;
          },
        ),
      ),
    },
    {
      name: "frame reader: random bytes in random chunks never throw",
      check: run(
        fc.property(
          fc.uint8Array({ maxLength: 2000 }),
          cuts,
          fc.integer({ min: 0, max: 4 << 20 }),
          (b, points, max) => {
            read(cut(Buffer.from(b), points), max);
            return true;
          },
        ),
      ),
    },
    {
      name: "envelope: a Request round-trips (service, method, payload presence, timeout, metadata order)",
      check: run(fc.property(requestArb, (want) => sameRequest(request(want), want))),
    },
    {
      name: "envelope: unknown non-group fields anywhere in a Request are skipped",
      check: run(
        fc.property(
          requestArb,
          fc.array(unknownField, { maxLength: 4 }),
          fc.nat(),
          (want, extra, at) => {
            const base = request(want);
            const splice = Math.min(at % (base.length + 1), base.length);
            // Only at a field boundary: the start or the end.
            const bytes =
              splice < base.length / 2
                ? Buffer.concat([...extra, base])
                : Buffer.concat([base, ...extra]);
            return sameRequest(bytes, want);
          },
        ),
      ),
    },
    {
      name: "envelope: random bytes decode or throw MalformedError (Request and Response)",
      check: run(
        fc.property(
          fc.uint8Array({ maxLength: 300 }),
          (b) => decodesOrMalformed(decodeRequest, b) && decodesOrMalformed(decodeResponse, b),
        ),
      ),
    },
    {
      name: "envelope: a mutated Request decodes or throws MalformedError",
      check: run(
        fc.property(
          requestArb,
          fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 6 }),
          fc.nat(),
          (want, flips, trunc) => {
            const b = Buffer.from(request(want));
            for (const [i, v] of flips) if (b.length > 0) b[i % b.length] = v;
            return decodesOrMalformed(
              decodeRequest,
              b.subarray(0, b.length - (trunc % (b.length + 1))),
            );
          },
        ),
      ),
    },
    {
      name: "envelope: a Response round-trips (status code, message, details, payload)",
      check: run(
        fc.property(
          fc.option(
            fc.record({
              code: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
              message: text,
              details: fc.array(fc.tuple(text, fc.uint8Array({ maxLength: 30 })), { maxLength: 3 }),
            }),
            { nil: undefined },
          ),
          fc.uint8Array({ maxLength: 200 }),
          (status, payload) => {
            const parts: Buffer[] = [];
            if (status !== undefined) {
              const body = Buffer.concat([
                status.code === 0
                  ? Buffer.alloc(0)
                  : varintField(1, BigInt.asUintN(64, BigInt(status.code))),
                status.message === "" ? Buffer.alloc(0) : bytesField(2, status.message),
                ...status.details.map(([t, v]) =>
                  bytesField(3, Buffer.concat([bytesField(1, t), bytesField(2, v)])),
                ),
              ]);
              parts.push(bytesField(1, body));
            }
            if (payload.length > 0) parts.push(bytesField(2, payload));
            const got = decodeResponse(Buffer.concat(parts));
            if (status === undefined)
              return got.status === undefined && Buffer.from(payload).equals(got.payload);
            return (
              got.status?.code === status.code &&
              got.status.message === status.message &&
              got.status.details.length === status.details.length &&
              got.status.details.every(
                (d, i) =>
                  d.typeUrl === status.details[i]?.[0] &&
                  Buffer.from(d.value).equals(Buffer.from(status.details[i]?.[1] ?? [])),
              ) &&
              Buffer.from(payload).equals(got.payload)
            );
          },
        ),
      ),
    },
    {
      name: "envelope: an unknown group field (wire types 3/4) is skipped, as protobuf does",
      check: run(
        fc.property(requestArb, fc.integer({ min: 6, max: 1000 }), (want, n) => {
          const group = Buffer.concat([varint(n * 8 + 3), varintField(1, 7), varint(n * 8 + 4)]);
          return sameRequest(Buffer.concat([request(want), group]), want);
        }),
      ),
    },
    {
      name: "envelope: field number 0 in a Response or Status is malformed",
      check: run(
        fc.property(fc.nat({ max: 1000 }), (v) => {
          for (const bytes of [varintField(0, v), bytesField(1, varintField(0, v))]) {
            try {
              decodeResponse(bytes);
              return false;
            } catch (e) {
              if (!isMalformed(e)) throw e;
            }
          }
          return true;
        }),
      ),
    },
    {
      name: "envelope: a 10-byte varint that overflows 64 bits is malformed",
      check: run(
        fc.property(fc.integer({ min: 2, max: 0x7f }), (last) => {
          const overflow = Buffer.from([
            0x20,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            last,
          ]);
          try {
            decodeRequest(Buffer.concat([request({ service: "s", method: "m" }), overflow]));
            return false;
          } catch (e) {
            if (!isMalformed(e)) throw e;
            return true;
          }
        }),
      ),
    },
  ];
}
