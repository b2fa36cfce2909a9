// One measurement of bench/cpu-ab.ts: µs of CPU time (user + system, process.cpuUsage) per message
// in a client process and in the server process it forks, for one system and one workload.
// Bundled by cpu-ab.ts once per engine (esbuild, "ttrpc" aliased to that engine's sources), so the
// file runs as plain JS; never run it by hand. Prints one JSON line on stdout.
//   <bundle> client <floor|ttrpc> <workload> <messages>
import { fork } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchClient } from "./lib/driver.js";
import { createFloorClient, startFloorServer } from "./systems/floor.js";
import { createTtrpcClient, startTtrpcServer } from "./systems/ttrpc.js";

/** Calls in flight, the call, its payload size and the messages one call moves. */
interface Workload {
  concurrency: number;
  call: (client: BenchClient, payload: Uint8Array) => Promise<unknown>;
  size: number;
  perCall: number;
}

const WORKLOADS: Record<string, Workload> = {
  "unary-64-c1": { concurrency: 1, call: (c, p) => c.unary(p), size: 64, perCall: 1 },
  "unary-64-c32": { concurrency: 32, call: (c, p) => c.unary(p), size: 64, perCall: 1 },
  "unary-64k-c32": { concurrency: 32, call: (c, p) => c.unary(p), size: 65536, perCall: 1 },
  "server-stream-1k": {
    concurrency: 1,
    call: (c) => c.serverStream(1000, 1024),
    size: 0,
    perCall: 1000,
  },
  "client-stream-1k": {
    concurrency: 1,
    call: (c, p) => c.clientStream(1000, p),
    size: 1024,
    perCall: 1000,
  },
  "bidi-1k": { concurrency: 1, call: (c, p) => c.bidi(1000, p), size: 1024, perCall: 1000 },
};

const [role, system, workload, arg] = process.argv.slice(2);

async function server(socket: string): Promise<void> {
  if (system === "floor") await startFloorServer("pb", socket);
  else await startTtrpcServer("plain", socket);
  let start: NodeJS.CpuUsage | undefined;
  process.on("message", (m) => {
    if (m === "start") start = process.cpuUsage();
    if (m === "stop") {
      const used = process.cpuUsage(start);
      process.send?.(used.user + used.system, () => process.exit(0));
    }
  });
  process.send?.("ready");
}

async function client(): Promise<void> {
  const w = WORKLOADS[workload as string];
  if (w === undefined) throw new Error(`unknown workload ${workload}`);
  const socket = join(tmpdir(), `ttrpc-cpu-ab-${process.pid}.sock`);
  const child = fork(process.argv[1] as string, [
    "server",
    system as string,
    workload as string,
    socket,
  ]);
  await new Promise((resolve) => child.once("message", resolve));
  const c =
    system === "floor"
      ? await createFloorClient("pb", socket)
      : await createTtrpcClient("plain", socket);
  const payload = Buffer.alloc(w.size, 1);
  const calls = Math.ceil(Number(arg) / w.perCall);
  const run = async (count: number): Promise<void> => {
    let left = count;
    const worker = async (): Promise<void> => {
      while (left-- > 0) await w.call(c, payload);
    };
    await Promise.all(Array.from({ length: w.concurrency }, worker));
  };
  await run(Math.ceil(calls / 4)); // warm-up: JIT, pools, socket buffers
  child.send("start");
  const start = process.cpuUsage();
  await run(calls);
  const used = process.cpuUsage(start);
  child.send("stop");
  const serverUs = await new Promise<number>((resolve) => child.once("message", resolve));
  rmSync(socket, { force: true });
  const n = calls * w.perCall;
  const line = { client: (used.user + used.system) / n, server: serverUs / n };
  process.stdout.write(`${JSON.stringify(line)}\n`, () => process.exit(0));
}

if (role === "server") await server(arg as string);
else if (role === "client") await client();
