// CPU cost of the codecs alone, without sockets: the Bench service's BenchMessage as
// protoc-gen-ttrpc generates it (ttrpc-static) against the hand-written codec of ttrpc-plain
// (bench/systems/ttrpc.ts, built on bench/lib/wire.ts) and protobuf-es (ttrpc-es).
//   node_modules/.bin/tsx bench/systems/static-codec.ts [--rounds N]
// Rounds alternate the three, so a busy machine slows all of them alike; the table shows the
// median ns per message over the rounds.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BenchMessageSchema } from "../../test/interop/gen/bench_pb.js";
import { decodeBenchMessage, varintSize, writeBenchMessagePrefix } from "../lib/wire.js";
import { BenchMessage } from "./static/gen/bench_ttrpc.js";

interface Codec {
  encode(m: { payload: Uint8Array }): Uint8Array | readonly Uint8Array[];
  decode(b: Uint8Array): { payload: Uint8Array };
}

const EMPTY = new Uint8Array(0);
const plain: Codec = {
  // as in bench/systems/ttrpc.ts
  encode(m) {
    const n = m.payload.length;
    if (n === 0) return EMPTY;
    const prefix = Buffer.allocUnsafe(1 + varintSize(n));
    writeBenchMessagePrefix(prefix, 0, n);
    return [prefix, m.payload];
  },
  decode: (b) => ({ payload: decodeBenchMessage(b) }),
};
const es: Codec = {
  encode: (m) => toBinary(BenchMessageSchema, create(BenchMessageSchema, m)),
  decode: (b) => fromBinary(BenchMessageSchema, b),
};
const codecs: [string, Codec][] = [
  ["plain (hand-written)", plain],
  ["static (protoc-gen-ttrpc)", BenchMessage],
  ["protobuf-es", es],
];

const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1] || 9);
const sizes = [64, 1024, 65536];
const results = new Map<string, number[]>();
let sink = 0;
for (let round = 0; round <= rounds; round++) {
  for (const size of sizes) {
    const m = { payload: Buffer.alloc(size, 0x61) };
    const bytes = Buffer.from(BenchMessage.toBinary(m));
    const n = size > 10_000 ? 20_000 : 300_000;
    for (const [name, c] of codecs) {
      let t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        const out = c.encode(m);
        sink += out instanceof Uint8Array ? out.length : out.length;
      }
      const enc = Number(process.hrtime.bigint() - t) / n;
      t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) sink += c.decode(bytes).payload.length;
      const dec = Number(process.hrtime.bigint() - t) / n;
      if (round === 0) continue; // warm-up
      for (const [what, v] of [
        ["encode", enc],
        ["decode", dec],
      ] as const) {
        const key = `${size}\t${what}\t${name}`;
        results.set(key, [...(results.get(key) ?? []), v]);
      }
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(
  `ns per message, median of ${rounds} rounds (node ${process.version}; sink ${sink > 0})`,
);
console.log(`| payload | op | ${codecs.map(([n]) => n).join(" | ")} |`);
console.log(`|---|---|${codecs.map(() => "---").join("|")}|`);
for (const size of sizes) {
  for (const what of ["encode", "decode"]) {
    const cells = codecs.map(([name]) =>
      median(results.get(`${size}\t${what}\t${name}`) ?? []).toFixed(0),
    );
    console.log(`| ${size} B | ${what} | ${cells.join(" | ")} |`);
  }
}
