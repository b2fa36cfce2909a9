// The client driver shared by every Node system: the same concurrency loop, the same timing code.
// A driver process connects once, then runs workloads on command (JSON lines on stdin) and
// answers with one JSON line per workload on stdout.
import { createInterface } from "node:readline";

export interface BenchClient {
  /** One unary call; resolves to the response's payload. */
  unary(payload: Uint8Array): Promise<Uint8Array>;
  /** One server-streaming call asking for `count` messages of `size` bytes; resolves to the number received. */
  serverStream(count: number, size: number): Promise<number>;
  /** One client-streaming call sending `count` messages; resolves when the response arrived. */
  clientStream(count: number, payload: Uint8Array): Promise<void>;
  /** One bidi call sending `count` messages; resolves to the number of echoes received. */
  bidi(count: number, payload: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

export type Workload = "unary" | "server_stream" | "client_stream" | "bidi";

export interface WorkloadSpec {
  workload: Workload;
  /** Payload bytes per message. */
  size: number;
  /** Calls (or streams) in flight on the one connection. */
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** Messages per stream for the streaming workloads. */
  count: number;
}

export interface WorkloadResult {
  /** Calls (unary) or messages (streams) completed in the measured window. */
  ops: number;
  seconds: number;
  opsPerSec: number;
  /** Per-call latency percentiles (unary only), microseconds. */
  p50us?: number;
  p99us?: number;
}

export function makePayload(size: number): Uint8Array {
  const p = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) p[i] = (i * 31 + 7) & 0xff;
  return p;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

class Latencies {
  private data = new Float64Array(1 << 16);
  n = 0;
  push(v: number): void {
    if (this.n === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = v;
  }
  percentile(p: number): number {
    const sorted = this.data.subarray(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.floor(p * this.n))] ?? 0;
  }
}

/** Checks that the system answers correctly before anything is timed. */
async function validate(
  client: BenchClient,
  spec: WorkloadSpec,
  payload: Uint8Array,
): Promise<void> {
  switch (spec.workload) {
    case "unary": {
      const r = await client.unary(payload);
      if (!equalBytes(r, payload)) throw new Error(`unary echo mismatch (${r.length} bytes back)`);
      return;
    }
    case "server_stream": {
      const n = await client.serverStream(spec.count, spec.size);
      if (n !== spec.count) throw new Error(`server stream: ${n} of ${spec.count} messages`);
      return;
    }
    case "client_stream":
      await client.clientStream(spec.count, payload);
      return;
    case "bidi": {
      const n = await client.bidi(spec.count, payload);
      if (n !== spec.count) throw new Error(`bidi: ${n} of ${spec.count} echoes`);
      return;
    }
  }
}

/** Runs `concurrency` loops until `end`; returns completed ops (and latencies for unary). */
async function runPhase(
  client: BenchClient,
  spec: WorkloadSpec,
  payload: Uint8Array,
  end: number,
  lat: Latencies | null,
): Promise<number> {
  let ops = 0;
  const size = spec.size;
  const count = spec.count;
  let worker: () => Promise<void>;
  switch (spec.workload) {
    case "unary":
      worker = async () => {
        for (;;) {
          const t0 = performance.now();
          if (t0 >= end) return;
          const r = await client.unary(payload);
          if (r.length !== size) throw new Error(`unary: ${r.length} bytes back, want ${size}`);
          if (lat !== null) lat.push(performance.now() - t0);
          ops++;
        }
      };
      break;
    case "server_stream":
      worker = async () => {
        while (performance.now() < end) {
          const n = await client.serverStream(count, size);
          if (n !== count) throw new Error(`server stream: ${n} of ${count} messages`);
          ops += n;
        }
      };
      break;
    case "client_stream":
      worker = async () => {
        while (performance.now() < end) {
          await client.clientStream(count, payload);
          ops += count;
        }
      };
      break;
    case "bidi":
      worker = async () => {
        while (performance.now() < end) {
          const n = await client.bidi(count, payload);
          if (n !== count) throw new Error(`bidi: ${n} of ${count} echoes`);
          ops += n;
        }
      };
      break;
  }
  const workers: Promise<void>[] = [];
  for (let i = 0; i < spec.concurrency; i++) workers.push(worker());
  await Promise.all(workers);
  return ops;
}

export async function runWorkload(
  client: BenchClient,
  spec: WorkloadSpec,
): Promise<WorkloadResult> {
  const payload = makePayload(spec.size);
  await validate(client, spec, payload);
  if (spec.warmupMs > 0)
    await runPhase(client, spec, payload, performance.now() + spec.warmupMs, null);
  const lat = spec.workload === "unary" ? new Latencies() : null;
  const start = performance.now();
  const ops = await runPhase(client, spec, payload, start + spec.durationMs, lat);
  const seconds = (performance.now() - start) / 1000;
  const result: WorkloadResult = { ops, seconds, opsPerSec: ops / seconds };
  if (lat !== null && lat.n > 0) {
    result.p50us = lat.percentile(0.5) * 1000;
    result.p99us = lat.percentile(0.99) * 1000;
  }
  return result;
}

/**
 * The driver process: `node client.js <system> <socket>`; stdin lines are WorkloadSpec JSON or
 * "exit"; each answer is one JSON line (a WorkloadResult or {"error": ...}).
 */
export async function driverMain(client: BenchClient): Promise<void> {
  const out = (v: unknown): void => {
    process.stdout.write(`${JSON.stringify(v)}\n`);
  };
  out({ ready: true });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = line.trim();
    if (cmd === "") continue;
    if (cmd === "exit") break;
    try {
      out(await runWorkload(client, JSON.parse(cmd) as WorkloadSpec));
    } catch (e) {
      out({ error: e instanceof Error ? e.message : String(e) });
    }
  }
  lines.close();
  await client.close();
  process.exit(0);
}
