import { BenchMessage } from "../../../bench/systems/static/gen/bench_ttrpc.js";
import { decodeBenchMessage, varintSize, writeBenchMessagePrefix } from "../../../bench/lib/wire.js";
const plain = {
  encode: (m: { payload: Uint8Array }) => {
    const n = m.payload.length;
    const prefix = Buffer.allocUnsafe(1 + varintSize(n));
    writeBenchMessagePrefix(prefix, 0, n);
    return [prefix, m.payload];
  },
  decode: (b: Uint8Array) => ({ payload: decodeBenchMessage(b) }),
};
for (const size of [64, 1024, 65536]) {
  const m = { payload: Buffer.alloc(size, 0x61) };
  const enc = BenchMessage.toBinary(m);
  for (const [name, c] of [["plain", plain], ["static", BenchMessage]] as const) {
    for (let round = 0; round < 2; round++) {
      let t = process.hrtime.bigint();
      const N = size > 10000 ? 100000 : 2000000;
      let x = 0;
      for (let i = 0; i < N; i++) { const o = c.encode(m); x += (o as Uint8Array).length; }
      const te = Number(process.hrtime.bigint() - t) / N;
      t = process.hrtime.bigint();
      for (let i = 0; i < N; i++) { const o = c.decode(enc); x += o.payload.length; }
      const td = Number(process.hrtime.bigint() - t) / N;
      if (round) console.log(size, name, "encode ns", te.toFixed(1), "decode ns", td.toFixed(1), x > 0);
    }
  }
}
