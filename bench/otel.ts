// Tracing overhead: `npm run bench:otel` (or `-- --quick`, `-- --reps N --duration MS`).
// Unary 64 B with 32 calls in flight, and a server stream of 1 KiB messages, each with tracing
// off, with a pass-through interceptor, with @ttrpc/otel on the API's no-op providers, and with
// the SDK (see bench/otel-proc.ts). Each run is a fresh server process and a fresh client
// process on a unix socket; runs interleave the modes (rotating order) and the table shows
// medians, min–max and the ratio to "off".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { WorkloadResult, WorkloadSpec } from "./lib/driver.js";
import { LineProc } from "./lib/proc.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const MODES = ["off", "pass", "noop", "sdk"] as const;
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const reps = flag("--reps", quick ? 1 : 5);
const durationMs = flag("--duration", quick ? 500 : 3000);
const warmupMs = quick ? 200 : 1000;

const workloads: { label: string; unit: string; spec: WorkloadSpec }[] = [
  {
    label: "unary 64 B, 32 in flight",
    unit: "calls/s",
    spec: { workload: "unary", size: 64, concurrency: 32, count: 1, durationMs, warmupMs },
  },
  {
    label: "server stream, 1 KiB msgs",
    unit: "msgs/s",
    spec: {
      workload: "server_stream",
      size: 1024,
      concurrency: 1,
      count: 1000,
      durationMs,
      warmupMs,
    },
  },
];

const tsx = (script: string, ...rest: string[]): [string, string[]] => [
  process.execPath,
  ["--conditions=ttrpc-source", "--import", "tsx", join(root, "bench", script), ...rest],
];

async function once(mode: string, spec: WorkloadSpec): Promise<WorkloadResult> {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-otel-bench-"));
  const socket = join(dir, "s.sock");
  const server = new LineProc(...tsx("otel-proc.ts", "server", mode, socket), { cwd: root });
  let client: LineProc | undefined;
  try {
    await server.nextJson(30_000);
    client = new LineProc(...tsx("otel-proc.ts", "client", mode, socket), { cwd: root });
    await client.nextJson(30_000);
    client.child.stdin?.write(`${JSON.stringify(spec)}\n`);
    const result = await client.nextJson(spec.durationMs + spec.warmupMs + 60_000);
    if ("error" in result) throw new Error(`${mode}: ${String(result.error)}`);
    client.child.stdin?.write("exit\n");
    await client.exited;
    return result as unknown as WorkloadResult;
  } finally {
    client?.child.kill("SIGKILL");
    server.child.kill("SIGTERM");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const results = new Map<string, number[]>();
for (let rep = 0; rep < reps; rep++) {
  for (const [w, { spec }] of workloads.entries()) {
    const order = MODES.map((_, i) => MODES[(i + rep + w) % MODES.length] as string);
    for (const mode of order) {
      const r = await once(mode, spec);
      const key = `${w}/${mode}`;
      results.set(key, [...(results.get(key) ?? []), r.opsPerSec]);
      process.stderr.write(
        `rep ${rep + 1}/${reps} ${spec.workload} ${mode}: ${Math.round(r.opsPerSec)}\n`,
      );
    }
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(`\nTracing overhead (${reps} reps × ${durationMs} ms, medians; ratio = mode / off)\n`);
console.log("| workload | mode | median | min–max | ratio |");
console.log("|---|---|---:|---:|---:|");
for (const [w, { label, unit }] of workloads.entries()) {
  const off = median(results.get(`${w}/off`) ?? [0]);
  for (const mode of MODES) {
    const xs = results.get(`${w}/${mode}`) ?? [];
    const m = median(xs);
    console.log(
      `| ${label} | ${mode} | ${fmt(m)} ${unit} | ${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))} | ${(m / off).toFixed(2)} |`,
    );
  }
}
