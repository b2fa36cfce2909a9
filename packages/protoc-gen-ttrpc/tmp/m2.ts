const v = Buffer.alloc(1024, 0x61);
const u = new Uint8Array(1024).fill(0x61);
function bench(name: string, f: () => unknown, N = 1000000) {
  for (let r = 0; r < 2; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) f();
    if (r) console.log(name, (Number(process.hrtime.bigint() - t) / N).toFixed(1), "ns");
  }
}
bench("allocUnsafe 1027", () => Buffer.allocUnsafe(1027));
bench("allocUnsafe 1027 + set", () => { const b = Buffer.allocUnsafe(1027); b.set(v, 3); return b; });
bench("allocUnsafe 1027 + copy", () => { const b = Buffer.allocUnsafe(1027); v.copy(b, 3); return b; });
bench("allocUnsafe 1027 + set(u8)", () => { const b = Buffer.allocUnsafe(1027); b.set(u, 3); return b; });
bench("allocUnsafeSlow 1027 + set", () => { const b = Buffer.allocUnsafeSlow(1027); b.set(v, 3); return b; });
bench("new Uint8Array 1027 + set", () => { const b = new Uint8Array(1027); b.set(v, 3); return b; });
