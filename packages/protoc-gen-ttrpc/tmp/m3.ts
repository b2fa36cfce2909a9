import { BenchMessage } from "../../../bench/systems/static/gen/bench_ttrpc.js";
const m = { payload: Buffer.alloc(Number(process.argv[2]), 0x61) };
for (let r = 0; r < 3; r++) {
  const N = 1000000;
  const t = process.hrtime.bigint();
  let x = 0;
  for (let i = 0; i < N; i++) x += (BenchMessage.encode(m) as Uint8Array).length;
  console.log(process.argv[2], (Number(process.hrtime.bigint() - t) / N).toFixed(1), "ns", x > 0);
}
