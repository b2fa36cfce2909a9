// One measurement for bench/inproc-ab/ab.sh: the core at argv[2] (a dist/index.js), workload argv[3],
// argv[4] seconds; prints operations per CPU-second (client and server in this one process).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { connect, createClient, createServer, defineService } = await import(process.argv[2]);
const workload = process.argv[3];
const seconds = Number(process.argv[4] ?? 1.5);
const raw = { encode: (m) => m, decode: (b) => b };
const Svc = defineService({
  typeName: "bench.v1.Cpu",
  methods: {
    unary: { name: "Unary", kind: "unary", input: raw, output: raw },
    server: { name: "Server", kind: "server_streaming", input: raw, output: raw },
    client: { name: "Client", kind: "client_streaming", input: raw, output: raw },
    bidi: { name: "Bidi", kind: "bidi_streaming", input: raw, output: raw },
  },
});
const k1 = Buffer.alloc(1024, 1);
const server = createServer();
server.register(Svc, {
  unary: (m) => m,
  *server() {
    for (let i = 0; i < 1000; i++) yield k1;
  },
  async client(reqs) {
    let n = 0;
    for await (const _ of reqs) n++;
    return Buffer.from([n & 255]);
  },
  async *bidi(reqs) {
    for await (const m of reqs) yield m;
  },
});
const path = join(mkdtempSync(join(tmpdir(), "cpu-ab-")), "s.sock");
await server.listen(path);
const conn = await connect(path);
const c = createClient(Svc, conn);

async function round(kind) {
  switch (kind) {
    case "unary-64-c1": {
      const m = Buffer.alloc(64, 2);
      for (let i = 0; i < 200; i++) await c.unary(m);
      return 200;
    }
    case "unary-64-c32": {
      const m = Buffer.alloc(64, 2);
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          for (let i = 0; i < 50; i++) await c.unary(m);
        }),
      );
      return 1600;
    }
    case "unary-64k-c32": {
      const m = Buffer.alloc(64 * 1024, 2);
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          for (let i = 0; i < 4; i++) await c.unary(m);
        }),
      );
      return 128;
    }
    case "server-stream-1k": {
      let n = 0;
      for await (const _ of c.server(k1)) n++;
      return n;
    }
    case "client-stream-1k": {
      await c.client(Array.from({ length: 1000 }, () => k1));
      return 1000;
    }
    case "bidi-1k": {
      let n = 0;
      for await (const _ of c.bidi(Array.from({ length: 1000 }, () => k1))) n++;
      return n;
    }
  }
  throw new Error(`unknown workload ${kind}`);
}

// warm-up, then measure CPU time (user + system) for `seconds` of wall time
const warm = performance.now();
while (performance.now() - warm < 300) await round(workload);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let ops = 0;
while (performance.now() - t0 < seconds * 1000) ops += await round(workload);
const cpu = process.cpuUsage(cpu0);
const cpuSec = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({ workload, ops, cpuSec, opsPerCpuSec: ops / cpuSec }));
await conn.close();
await server.close();
