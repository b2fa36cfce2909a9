// The benchmark: `npm run bench` (full) or `npm run bench -- --quick` (< 2 minutes).
// Every system runs as a separate server process and a separate client process over a unix
// socket; runs are interleaved (each workload visits every system in a rotating order, then the
// next workload, then the next repetition); the table shows medians with min–max and ratios.
// See bench/README.md for the method and the meaning of every row.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Workload, WorkloadResult, WorkloadSpec } from "./lib/driver.js";
import { LineProc, rssOf, runToEnd, sleep } from "./lib/proc.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const buildDir = join(root, "bench", ".build");
const coreDir = join(root, "packages", "ttrpc");
const resultsDir = join(root, "bench", "results");
const MiB = 1024 * 1024;
const KiB = 1024;

// ------------------------------------------------------------------ options

interface Options {
  quick: boolean;
  reps: number;
  durationMs: number;
  warmupMs: number;
  memReps: number;
  coldReps: number;
  systems: string[] | null;
  workloads: string[] | null;
  phases: Set<string>;
  profile: string[];
  goPeer: string;
  /** CPU lists for `taskset` in the throughput phase (servers, clients), or undefined. */
  pinServer: string | undefined;
  pinClient: string | undefined;
  engineFrom: "dist" | "src";
  writeReadme: boolean;
}

const README_START = "<!-- results:start -->";
const README_END = "<!-- results:end -->";

/** `--pin 0:1` → server on CPU 0, client on CPU 1; `--pin none` → no pinning. */
function pin(spec: string | undefined, i: number): string | undefined {
  if (spec === undefined || spec === "none" || spec === "") return undefined;
  return spec.split(":")[i];
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
    if (i < 0) return undefined;
    const a = argv[i] as string;
    return a.includes("=") ? a.slice(a.indexOf("=") + 1) : (argv[i + 1] ?? "");
  };
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`usage: npm run bench -- [options]
  --quick                 short run (< 2 minutes): 3 repetitions of 250 ms
  --reps N                repetitions of every throughput run (default 5)
  --duration-ms N         measured time per run (default 1500)
  --warmup-ms N           unmeasured warm-up before each run (default 300)
  --systems a,b           only these systems (${ALL_SYSTEMS.join(", ")})
  --workloads a,b         only these workloads (${WORKLOADS.map((w) => w.id).join(", ")})
  --phases a,b            only these phases (startup, memory, throughput, footprint)
  --profile a,b           write CPU profiles (node --cpu-prof) of these systems' servers and
                          clients to bench/results/profiles/
  --pin S:C               pin servers to CPU list S and clients to CPU list C with taskset
                          during the throughput runs (default 0:1 on 2+ CPUs; --pin none: off)
  --engine dist|src       ttrpc-ts from the package build (dist/index.js, default) or from src/
                          compiled module by module (CPU profiles then map to src/ lines)
  --write-readme          put this run's tables into bench/README.md (the "Results" section)
  --go-peer PATH          the Go peer binary (default: $TTRPC_GO_PEER or the interop cache path)`);
    process.exit(0);
  }
  const quick = argv.includes("--quick");
  // One CPU for the server, another for the client, the same for every system (see README).
  const defaultPin = cpus().length >= 2 && existsSync("/usr/bin/taskset") ? "0:1" : "none";
  const list = (s: string | undefined) =>
    s
      ? s
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean)
      : null;
  const cache = process.env.TTRPC_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "ttrpc-ts");
  return {
    quick,
    reps: Number(get("--reps") ?? (quick ? 3 : 5)),
    durationMs: Number(get("--duration-ms") ?? (quick ? 250 : 1500)),
    warmupMs: Number(get("--warmup-ms") ?? (quick ? 60 : 300)),
    memReps: quick ? 1 : 3,
    coldReps: quick ? 3 : 5,
    systems: list(get("--systems")),
    workloads: list(get("--workloads")),
    phases: new Set(list(get("--phases")) ?? ["startup", "memory", "throughput", "footprint"]),
    profile: list(get("--profile")) ?? [],
    engineFrom: get("--engine") === "src" ? "src" : "dist",
    writeReadme: argv.includes("--write-readme"),
    pinServer: pin(get("--pin") ?? defaultPin, 0),
    pinClient: pin(get("--pin") ?? defaultPin, 1),
    goPeer:
      get("--go-peer") ??
      process.env.TTRPC_GO_PEER ??
      join(cache, "go-peer", "bin", "ttrpc-interop-peer"),
  };
}

// ------------------------------------------------------------------ systems and workloads

const ALL_SYSTEMS = [
  "floor",
  "floor-pb",
  "floor-es",
  "ttrpc-plain",
  "ttrpc-static",
  "ttrpc-es",
  "grpc-js",
  "go",
];
const SYSTEM_LABELS: Record<string, string> = {
  floor: "floor (raw)",
  "floor-pb": "floor-pb",
  "floor-es": "floor-es",
  "ttrpc-plain": "ttrpc-ts plain",
  "ttrpc-static": "ttrpc-ts static",
  "ttrpc-es": "ttrpc-ts es",
  "grpc-js": "grpc-js",
  go: "Go ttrpc",
};

interface WorkloadDef {
  id: string;
  label: string;
  unit: string;
  workload: Workload;
  size: number;
  concurrency: number;
  count: number;
}

const WORKLOADS: WorkloadDef[] = [
  {
    id: "unary-64-c1",
    label: "unary 64 B, concurrency 1",
    unit: "calls/s",
    workload: "unary",
    size: 64,
    concurrency: 1,
    count: 1,
  },
  {
    id: "unary-64-c32",
    label: "unary 64 B, 32 in flight",
    unit: "calls/s",
    workload: "unary",
    size: 64,
    concurrency: 32,
    count: 1,
  },
  {
    id: "unary-64k-c1",
    label: "unary 64 KiB, concurrency 1",
    unit: "calls/s",
    workload: "unary",
    size: 64 * KiB,
    concurrency: 1,
    count: 1,
  },
  {
    id: "unary-64k-c32",
    label: "unary 64 KiB, 32 in flight",
    unit: "calls/s",
    workload: "unary",
    size: 64 * KiB,
    concurrency: 32,
    count: 1,
  },
  {
    id: "unary-1m-c1",
    label: "unary 1 MiB, concurrency 1",
    unit: "calls/s",
    workload: "unary",
    size: MiB,
    concurrency: 1,
    count: 1,
  },
  {
    id: "server-stream-1k",
    label: "server stream, 1 KiB msgs",
    unit: "msgs/s",
    workload: "server_stream",
    size: KiB,
    concurrency: 1,
    count: 1000,
  },
  {
    id: "client-stream-1k",
    label: "client stream, 1 KiB msgs",
    unit: "msgs/s",
    workload: "client_stream",
    size: KiB,
    concurrency: 1,
    count: 1000,
  },
  {
    id: "bidi-1k",
    label: "bidi stream, 1 KiB msgs",
    unit: "msgs/s",
    workload: "bidi",
    size: KiB,
    concurrency: 1,
    count: 1000,
  },
  {
    id: "server-stream-1m",
    label: "server stream, 1 MiB msgs",
    unit: "msgs/s",
    workload: "server_stream",
    size: MiB,
    concurrency: 1,
    count: 16,
  },
];

/** Older peers only have ping-pong bidi; newer ones take `--bidi-mode pipeline` (as the Node drivers do). */
let goBidiPipeline = true;
const goComparable = (w: WorkloadDef): boolean => w.workload !== "bidi" || goBidiPipeline;

// ------------------------------------------------------------------ stats and formatting

/** The value under `key`, created with `init` when missing. */
function slot<T>(rec: Record<string, T>, key: string, init: () => T): T {
  let v = rec[key];
  if (v === undefined) {
    v = init();
    rec[key] = v;
  }
  return v;
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
const minOf = (xs: number[]) => (finite(xs).length ? Math.min(...finite(xs)) : Number.NaN);
const maxOf = (xs: number[]) => (finite(xs).length ? Math.max(...finite(xs)) : Number.NaN);

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}
function stat(xs: number[]): Stat {
  return { median: median(xs), min: minOf(xs), max: maxOf(xs), n: finite(xs).length };
}

function fmtInt(n: number): string {
  if (!Number.isFinite(n)) return "—";
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}
function fmtStat(s: Stat | undefined, f = fmtInt): string {
  if (!s || !Number.isFinite(s.median)) return "—";
  if (s.n < 2) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}
const fmtMiB = (b: number) => (Number.isFinite(b) ? `${(b / MiB).toFixed(1)}` : "—");
const fmtKiB = (b: number) => (Number.isFinite(b) ? `${(b / KiB).toFixed(1)}` : "—");
const fmtRatio = (r: number) =>
  Number.isFinite(r) ? `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×` : "—";

function table(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

// ------------------------------------------------------------------ build

/**
 * Compiles the bench (and, through its imports, src/) with tsc into bench/.build, so every
 * process runs plain `node` without a TypeScript loader. With `engine: "dist"` the ttrpc-ts
 * systems then import the package as shipped: `npm run build` makes dist/index.js, and the
 * compiled bench's imports of src/index.js are pointed at it.
 */
async function compile(engineFrom: "dist" | "src"): Promise<{ engine: boolean; notes: string[] }> {
  const notes: string[] = [];
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  const engine = existsSync(join(coreDir, "src", "index.ts"));
  const files = [
    "bench/proc/server.ts",
    "bench/proc/client.ts",
    "bench/probes/connector.ts",
    "bench/probes/import.ts",
    // Listed itself: reached only through node_modules/ttrpc (a workspace symlink), tsc would
    // take it for a library and emit nothing for it.
    ...(engine ? ["packages/ttrpc/src/index.ts"] : []),
  ].map((f) => join(root, f));
  const config = {
    extends: "../../tsconfig.json",
    compilerOptions: {
      outDir: ".",
      rootDir: "../..",
      noEmit: false,
      declaration: false,
      sourceMap: true,
      noUnusedLocals: false,
    },
    files,
    include: [],
  };
  const cfgPath = join(buildDir, "tsconfig.json");
  writeFileSync(cfgPath, JSON.stringify(config, null, 2));
  const tsc = join(root, "node_modules", ".bin", "tsc");
  const r = spawnTsc(tsc, ["-p", cfgPath]);
  if (r.status !== 0) {
    const errors = r.output.split("\n").filter((l) => /error TS/.test(l));
    // errors in the engine, or in the bench's use of it, do not stop the floors and grpc-js
    const benchErrors = errors.filter(
      (l) =>
        l.startsWith("bench/") &&
        !l.startsWith("bench/systems/ttrpc.ts") &&
        !/src\/index\.js/.test(l),
    );
    if (benchErrors.length) {
      console.error(r.output);
      throw new Error("the bench code does not compile");
    }
    if (errors.length) {
      notes.push(
        `engine type errors at bench time (code emitted anyway): ${errors.slice(0, 3).join(" | ")}`,
      );
    }
  }
  const compiledEngine = join(buildDir, "packages", "ttrpc", "src", "index.js");
  const engineBuilt = engine && existsSync(compiledEngine);
  if (!engine)
    notes.push("packages/ttrpc/src/index.ts does not exist: the ttrpc-ts rows are skipped");
  // The compiled bench imports "ttrpc"; point it at the engine this run measures.
  const pointAt = (target: string) => {
    for (const f of [
      "bench/systems/ttrpc.js",
      "bench/probes/import.js",
      "bench/systems/static/gen/bench_ttrpc.js",
    ]) {
      const file = join(buildDir, f);
      const spec = relative(dirname(file), target);
      const text = readFileSync(file, "utf8");
      writeFileSync(file, text.replaceAll('"ttrpc"', JSON.stringify(spec)));
    }
  };
  if (engineBuilt && engineFrom === "dist") {
    const dist = join(coreDir, "dist", "index.js");
    // Rebuild only when dist/ is missing or older than src/ (others may be using dist/ right now).
    const build = distIsFresh(dist)
      ? { code: 0, stderr: "" }
      : await runToEnd("npm", ["run", "build", "--silent", "-w", "ttrpc"], {
          cwd: root,
          timeoutMs: 300_000,
        });
    if (build.code === 0 && existsSync(dist)) {
      pointAt(dist);
      notes.push("ttrpc-ts rows run the package as built by `npm run build` (dist/index.js)");
    } else {
      pointAt(compiledEngine);
      notes.push(
        `npm run build failed, so the ttrpc-ts rows run src/ compiled module by module: ${build.stderr.trim().slice(-300)}`,
      );
    }
  } else if (engineBuilt) {
    pointAt(compiledEngine);
    notes.push("ttrpc-ts rows run src/ compiled module by module (--engine src)");
  }
  return { engine: engineBuilt, notes };
}

function distIsFresh(dist: string): boolean {
  if (!existsSync(dist)) return false;
  const built = statSync(dist).mtimeMs;
  const inputs = [
    join(coreDir, "package.json"),
    ...readdirSync(join(coreDir, "src")).map((f) => join(coreDir, "src", f)),
  ];
  return inputs.every((f) => statSync(f).mtimeMs <= built);
}

function spawnTsc(tsc: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(tsc, args, { cwd: root, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

// ------------------------------------------------------------------ processes

const js = (p: string) => join(buildDir, "bench", p);
let sockDir = "";
let sockCounter = 0;
const newSocket = (name: string) => join(sockDir, `${name}-${++sockCounter}.sock`);

/** Prefixes a command with `taskset -c CPUS` when a CPU list is given. */
function pinned(cpus: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [cmd, args] : ["taskset", ["-c", cpus, cmd, ...args]];
}

function profileArgs(opts: Options, system: string, role: string): string[] {
  if (!opts.profile.includes(system)) return [];
  const dir = join(resultsDir, "profiles", `${system}-${role}`);
  mkdirSync(dir, { recursive: true });
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}

async function startServer(
  opts: Options,
  system: string,
  profile = false,
): Promise<{ proc: LineProc; socket: string; readyMs: number; ready: Record<string, unknown> }> {
  const socket = newSocket(system);
  const pin = profile ? opts.pinServer : undefined; // pinning applies to the throughput phase
  const proc =
    system === "go"
      ? new LineProc(...pinned(pin, opts.goPeer, ["serve", "--socket", socket]))
      : new LineProc(
          ...pinned(pin, process.execPath, [
            "--expose-gc",
            ...(profile ? profileArgs(opts, system, "server") : []),
            js("proc/server.js"),
            system,
            socket,
          ]),
        );
  try {
    for (;;) {
      const j = await proc.nextJson(30_000);
      if (j.ready === true)
        return { proc, socket, readyMs: performance.now() - proc.spawnedAt, ready: j };
    }
  } catch (e) {
    await proc.stop();
    throw new Error(`${system} server did not start: ${(e as Error).message}`);
  }
}

async function gcAndRss(
  system: string,
  proc: LineProc,
): Promise<{ rss: number; heapUsed?: number }> {
  if (system === "go") {
    await sleep(100);
    return { rss: rssOf(proc.pid) };
  }
  proc.send("gc");
  const j = await proc.nextJson(10_000);
  return { rss: rssOf(proc.pid), heapUsed: Number(j.heapUsed) };
}

// ------------------------------------------------------------------ phase: startup

interface StartupResult {
  importRss: Record<string, number[]>;
  coldStartMs: Record<string, number[]>;
}

async function phaseStartup(opts: Options, systems: string[]): Promise<StartupResult> {
  const importRss: Record<string, number[]> = {};
  const coldStartMs: Record<string, number[]> = {};
  const list = ["bare", ...systems];
  for (let rep = 0; rep < opts.coldReps; rep++) {
    for (const system of rotate(list, rep)) {
      if (system !== "go") {
        const r = await runToEnd(process.execPath, [js("probes/import.js"), system], {
          timeoutMs: 30_000,
        });
        const line = r.stdout.trim().split("\n").pop() ?? "";
        try {
          slot(importRss, system, () => []).push(Number((JSON.parse(line) as { rss: number }).rss));
        } catch {
          console.error(`import probe ${system} failed: ${r.stderr.trim()}`);
        }
      }
      const s = await startServer(opts, system);
      slot(coldStartMs, system, () => []).push(s.readyMs);
      await s.proc.stop();
    }
    process.stderr.write(".");
  }
  return { importRss, coldStartMs };
}

// ------------------------------------------------------------------ phase: memory

interface MemoryRun {
  idleRss: number;
  idleRssGc: number;
  conns: Record<string, number>; // connection count -> RSS after GC
}

const CONN_STEPS = [1, 100, 1000];

async function phaseMemory(opts: Options, systems: string[]): Promise<Record<string, MemoryRun[]>> {
  const out: Record<string, MemoryRun[]> = {};
  const list = ["bare", ...systems];
  for (let rep = 0; rep < opts.memReps; rep++) {
    for (const system of rotate(list, rep)) {
      const s = await startServer(opts, system);
      try {
        await sleep(300);
        const idleRss = rssOf(s.proc.pid);
        const idleRssGc = (await gcAndRss(system, s.proc)).rss;
        const run: MemoryRun = { idleRss, idleRssGc, conns: {} };
        if (system !== "bare") {
          const mode = system === "floor" ? "raw" : system === "grpc-js" ? "grpc" : "ttrpc";
          const conn = new LineProc(process.execPath, [js("probes/connector.js"), mode, s.socket]);
          try {
            let open = 0;
            for (const n of CONN_STEPS) {
              conn.send(`open ${n - open}`);
              const j = await conn.nextJson(60_000);
              if (j.open !== n) throw new Error(`connector: ${JSON.stringify(j)}`);
              open = n;
              await sleep(100);
              run.conns[n] = (await gcAndRss(system, s.proc)).rss;
            }
          } catch (e) {
            console.error(`\nmemory ${system}: ${(e as Error).message}`);
          } finally {
            await conn.stop();
          }
        }
        slot(out, system, () => []).push(run);
      } finally {
        await s.proc.stop();
      }
      process.stderr.write(".");
    }
  }
  return out;
}

// ------------------------------------------------------------------ phase: throughput

interface RunRecord {
  rep: number;
  result?: WorkloadResult;
  error?: string;
}
interface ServerMemory {
  rep: number;
  rss: number;
  rssGc: number;
  heapUsedGc?: number;
}
interface ThroughputResult {
  runs: Record<string, Record<string, RunRecord[]>>; // workload -> system -> runs
  serverMemory: Record<string, ServerMemory[]>;
  errors: string[];
}

function rotate<T>(xs: T[], k: number): T[] {
  if (xs.length === 0) return xs;
  const s = k % xs.length;
  return [...xs.slice(s), ...xs.slice(0, s)];
}

async function phaseThroughput(
  opts: Options,
  systems: string[],
  workloads: WorkloadDef[],
): Promise<ThroughputResult> {
  const runs: ThroughputResult["runs"] = {};
  const serverMemory: ThroughputResult["serverMemory"] = {};
  const errors: string[] = [];
  const servers = new Map<string, { proc: LineProc; socket: string }>();
  const clients = new Map<string, LineProc>();
  const active: string[] = [];
  try {
    for (const system of systems) {
      try {
        const s = await startServer(opts, system, true);
        servers.set(system, s);
        if (system !== "go") {
          const c = new LineProc(
            ...pinned(opts.pinClient, process.execPath, [
              ...profileArgs(opts, system, "client"),
              js("proc/client.js"),
              system,
              s.socket,
            ]),
          );
          const j = await c.nextJson(30_000);
          if (j.ready !== true) throw new Error(`client: ${JSON.stringify(j)}`);
          clients.set(system, c);
        }
        active.push(system);
      } catch (e) {
        errors.push(`${system}: ${(e as Error).message}`);
        console.error(`\n${system}: ${(e as Error).message}`);
      }
    }
    const timeout = opts.durationMs + opts.warmupMs + 120_000;
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const [wi, w] of workloads.entries()) {
        for (const system of rotate(active, rep + wi)) {
          const spec: WorkloadSpec = {
            workload: w.workload,
            size: w.size,
            concurrency: w.concurrency,
            durationMs: opts.durationMs,
            warmupMs: opts.warmupMs,
            count: w.count,
          };
          const rec: RunRecord = { rep };
          try {
            if (system === "go") {
              rec.result = await runGoClient(
                opts,
                servers.get(system)?.socket ?? "",
                spec,
                timeout,
              );
            } else {
              const c = clients.get(system) as LineProc;
              c.send(JSON.stringify(spec));
              const j = await c.nextJson(timeout);
              if (typeof j.error === "string") throw new Error(j.error);
              rec.result = j as unknown as WorkloadResult;
            }
          } catch (e) {
            rec.error = (e as Error).message;
            errors.push(`${system} ${w.id} rep ${rep + 1}: ${rec.error}`);
            console.error(`\n${system} ${w.id}: ${rec.error}`);
          }
          const bySystem = slot(runs, w.id, (): Record<string, RunRecord[]> => ({}));
          slot(bySystem, system, (): RunRecord[] => []).push(rec);
        }
        process.stderr.write(".");
      }
      // server memory after this repetition's runs, then after a full GC
      for (const system of active) {
        const s = servers.get(system);
        if (!s) continue;
        const rss = rssOf(s.proc.pid);
        const after = await gcAndRss(system, s.proc).catch(() => ({
          rss: Number.NaN,
          heapUsed: Number.NaN,
        }));
        slot(serverMemory, system, () => []).push({
          rep,
          rss,
          rssGc: after.rss,
          heapUsedGc: after.heapUsed,
        });
      }
      process.stderr.write(`[rep ${rep + 1}/${opts.reps}]`);
    }
  } finally {
    for (const c of clients.values()) {
      c.send("exit");
    }
    await Promise.all(
      [...clients.values()].map(async (c) => {
        const t = setTimeout(() => void c.stop(), 5000);
        await c.exited;
        clearTimeout(t);
      }),
    );
    await Promise.all([...servers.values()].map((s) => s.proc.stop()));
  }
  return { runs, serverMemory, errors };
}

async function runGoClient(
  opts: Options,
  socket: string,
  spec: WorkloadSpec,
  timeoutMs: number,
): Promise<WorkloadResult> {
  const args = [
    "bench-client",
    "--socket",
    socket,
    "--workload",
    spec.workload,
    "--size",
    String(spec.size),
    "--concurrency",
    String(spec.concurrency),
    "--duration-ms",
    String(spec.durationMs),
    "--warmup-ms",
    String(spec.warmupMs),
    "--stream-messages",
    String(spec.count),
  ];
  if (spec.workload === "bidi" && goBidiPipeline) args.push("--bidi-mode", "pipeline");
  let r = await runToEnd(...pinned(opts.pinClient, opts.goPeer, args), { timeoutMs });
  if (spec.workload === "bidi" && goBidiPipeline && /bidi-mode/.test(r.stderr)) {
    goBidiPipeline = false; // an older peer: ping-pong only
    args.splice(args.indexOf("--bidi-mode"), 2);
    r = await runToEnd(...pinned(opts.pinClient, opts.goPeer, args), { timeoutMs });
  }
  const line = r.stdout.trim().split("\n").pop() ?? "";
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`go bench-client (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  if (typeof j.error === "string") throw new Error(j.error);
  if (Number(j.errors) > 0)
    throw new Error(`go bench-client: ${j.errors} errors, first: ${j.firstError}`);
  const res: WorkloadResult = {
    ops: Number(j.ops),
    seconds: Number(j.seconds),
    opsPerSec: Number(j.opsPerSec),
  };
  if (spec.workload === "unary") {
    res.p50us = Number(j.p50us);
    res.p99us = Number(j.p99us);
  }
  return res;
}

// ------------------------------------------------------------------ phase: footprint

interface Footprint {
  core?: {
    packedBytes: number;
    unpackedBytes: number;
    files: number;
    runtimeDependencies: number;
    built: boolean;
    note?: string;
  };
  packages: Record<string, { bytes: number; packages: number; names: string[] }>;
}

function dirBytes(path: string): number {
  let total = 0;
  for (const name of readdirSync(path)) {
    const p = join(path, name);
    const st = statSync(p);
    if (st.isDirectory()) total += dirBytes(p);
    else total += st.size;
  }
  return total;
}

/** Apparent size of a package and its runtime dependency closure as installed in node_modules. */
function installClosure(name: string): { bytes: number; packages: number; names: string[] } {
  const seen = new Map<string, string>();
  const visit = (pkg: string, fromDir: string): void => {
    // node resolution: walk up from the requiring package's directory
    let dir = fromDir;
    let found: string | null = null;
    for (;;) {
      const candidate = join(dir, "node_modules", pkg);
      if (existsSync(join(candidate, "package.json"))) {
        found = candidate;
        break;
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    if (found === null || seen.has(found)) return;
    seen.set(found, pkg);
    const pj = JSON.parse(readFileSync(join(found, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pj.dependencies ?? {})) visit(dep, found);
  };
  visit(name, root);
  let bytes = 0;
  for (const dir of seen.keys()) {
    // exclude nested node_modules (counted separately when they are part of the closure)
    for (const entry of readdirSync(dir)) {
      if (entry === "node_modules") continue;
      const p = join(dir, entry);
      bytes += statSync(p).isDirectory() ? dirBytes(p) : statSync(p).size;
    }
  }
  return { bytes, packages: seen.size, names: [...seen.values()].sort() };
}

async function phaseFootprint(engine: boolean): Promise<Footprint> {
  const fp: Footprint = { packages: {} };
  for (const pkg of ["@grpc/grpc-js", "@bufbuild/protobuf"]) {
    try {
      fp.packages[pkg] = installClosure(pkg);
    } catch (e) {
      console.error(`footprint ${pkg}: ${(e as Error).message}`);
    }
  }
  const pj = JSON.parse(readFileSync(join(coreDir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const runtimeDependencies = Object.keys(pj.dependencies ?? {}).length;
  if (!engine) {
    fp.core = {
      packedBytes: Number.NaN,
      unpackedBytes: Number.NaN,
      files: 0,
      runtimeDependencies,
      built: false,
      note: "no engine yet",
    };
    return fp;
  }
  // compile() built dist/ already unless --engine src
  const build = existsSync(join(coreDir, "dist", "index.js"))
    ? { code: 0, stderr: "" }
    : await runToEnd("npm", ["run", "build", "--silent"], { cwd: coreDir, timeoutMs: 300_000 });
  const pack = await runToEnd("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: coreDir,
    timeoutMs: 120_000,
  });
  try {
    const info = (
      JSON.parse(pack.stdout) as { size: number; unpackedSize: number; entryCount: number }[]
    )[0];
    fp.core = {
      packedBytes: info?.size ?? Number.NaN,
      unpackedBytes: info?.unpackedSize ?? Number.NaN,
      files: info?.entryCount ?? 0,
      runtimeDependencies,
      built: build.code === 0,
      note: build.code === 0 ? undefined : `npm run build failed: ${build.stderr.slice(-300)}`,
    };
  } catch {
    fp.core = {
      packedBytes: Number.NaN,
      unpackedBytes: Number.NaN,
      files: 0,
      runtimeDependencies,
      built: build.code === 0,
      note: `npm pack failed: ${pack.stderr.slice(-300)}`,
    };
  }
  return fp;
}

// ------------------------------------------------------------------ report

interface Ratio {
  id: string;
  label: string;
  num: string;
  den: string;
  /** Target: ratio must be >= min (throughput) or <= max (latency). */
  min?: number;
  max?: number;
}

const THROUGHPUT_RATIOS: Ratio[] = [
  {
    id: "plain/floor-pb",
    label: "ttrpc-ts plain ÷ floor-pb",
    num: "ttrpc-plain",
    den: "floor-pb",
    min: 0.8,
  },
  {
    id: "es/floor-es",
    label: "ttrpc-ts es ÷ floor-es",
    num: "ttrpc-es",
    den: "floor-es",
    min: 0.85,
  },
  {
    id: "static/plain",
    label: "ttrpc-ts static ÷ ttrpc-ts plain",
    num: "ttrpc-static",
    den: "ttrpc-plain",
    min: 0.95,
  },
  { id: "plain/grpc-js", label: "ttrpc-ts plain ÷ grpc-js", num: "ttrpc-plain", den: "grpc-js" },
  { id: "es/grpc-js", label: "ttrpc-ts es ÷ grpc-js", num: "ttrpc-es", den: "grpc-js" },
  { id: "plain/go", label: "ttrpc-ts plain ÷ Go ttrpc", num: "ttrpc-plain", den: "go" },
  { id: "floor-pb/floor", label: "floor-pb ÷ floor", num: "floor-pb", den: "floor" },
  { id: "floor-es/floor-pb", label: "floor-es ÷ floor-pb", num: "floor-es", den: "floor-pb" },
  { id: "floor-pb/grpc-js", label: "floor-pb ÷ grpc-js", num: "floor-pb", den: "grpc-js" },
];
const LATENCY_RATIOS: Ratio[] = [
  {
    id: "plain/floor-pb",
    label: "ttrpc-ts plain ÷ floor-pb",
    num: "ttrpc-plain",
    den: "floor-pb",
    max: 1.15,
  },
  {
    id: "es/floor-es",
    label: "ttrpc-ts es ÷ floor-es",
    num: "ttrpc-es",
    den: "floor-es",
    max: 1.15,
  },
];

/** Median over repetitions of the per-repetition ratio (runs of one repetition ran side by side). */
function pairedRatio(
  a: RunRecord[] | undefined,
  b: RunRecord[] | undefined,
  pick: (r: WorkloadResult) => number | undefined,
): Stat {
  if (!a || !b) return stat([]);
  const xs: number[] = [];
  for (const ra of a) {
    const rb = b.find((r) => r.rep === ra.rep);
    const va = ra.result ? pick(ra.result) : undefined;
    const vb = rb?.result ? pick(rb.result) : undefined;
    if (va !== undefined && vb !== undefined && vb > 0) xs.push(va / vb);
  }
  return stat(xs);
}

interface Target {
  name: string;
  value: string;
  target: string;
  met: boolean | null;
}

function report(
  opts: Options,
  systems: string[],
  workloads: WorkloadDef[],
  startup: StartupResult | null,
  memory: Record<string, MemoryRun[]> | null,
  tp: ThroughputResult | null,
  fp: Footprint | null,
  notes: string[],
): { text: string; json: Record<string, unknown> } {
  const out: string[] = [];
  const targets: Target[] = [];
  const json: Record<string, unknown> = {};
  const cols = systems;
  const colHead = cols.map((s) => SYSTEM_LABELS[s] ?? s);

  if (tp) {
    const thr: Record<string, Record<string, unknown>> = {};
    const rows: string[][] = [];
    for (const w of workloads) {
      const row = [`${w.label} — ${w.unit}`];
      thr[w.id] = {};
      for (const s of cols) {
        const rs = tp.runs[w.id]?.[s] ?? [];
        const st = stat(rs.map((r) => r.result?.opsPerSec ?? Number.NaN));
        const p50 = stat(rs.map((r) => r.result?.p50us ?? Number.NaN));
        const p99 = stat(rs.map((r) => r.result?.p99us ?? Number.NaN));
        (thr[w.id] as Record<string, unknown>)[s] = {
          opsPerSec: st,
          p50us: p50,
          p99us: p99,
          runs: rs,
        };
        row.push(fmtStat(st) + (s === "go" && !goComparable(w) ? " †" : ""));
      }
      rows.push(row);
    }
    out.push(`### Throughput (median of ${opts.reps}, min–max)\n`);
    out.push(table(["workload", ...colHead], rows));

    const lrows: string[][] = [];
    for (const w of workloads.filter((w) => w.workload === "unary" && w.concurrency === 1)) {
      for (const [q, key] of [
        ["p50", "p50us"],
        ["p99", "p99us"],
      ] as const) {
        const row = [`${w.label} — ${q} µs`];
        for (const s of cols) {
          const rs = tp.runs[w.id]?.[s] ?? [];
          row.push(fmtStat(stat(rs.map((r) => r.result?.[key] ?? Number.NaN))));
        }
        lrows.push(row);
      }
    }
    if (lrows.length) {
      out.push(`\n### Latency at concurrency 1 (median of ${opts.reps}, min–max)\n`);
      out.push(table(["workload", ...colHead], lrows));
    }

    const ratios = THROUGHPUT_RATIOS.filter(
      (r) => systems.includes(r.num) && systems.includes(r.den),
    );
    const rrows: string[][] = [];
    const ratioJson: Record<string, Record<string, Stat>> = {};
    for (const w of workloads) {
      const row = [w.label];
      for (const r of ratios) {
        const st =
          (r.num === "go" || r.den === "go") && !goComparable(w)
            ? stat([])
            : pairedRatio(tp.runs[w.id]?.[r.num], tp.runs[w.id]?.[r.den], (x) => x.opsPerSec);
        slot(ratioJson, r.id, (): Record<string, Stat> => ({}))[w.id] = st;
        let cell = fmtRatio(st.median);
        if (r.min !== undefined && Number.isFinite(st.median)) {
          const met = st.median >= r.min;
          cell += met ? " ✓" : " ✗";
          targets.push({
            name: `${r.label}, ${w.label}`,
            value: fmtRatio(st.median),
            target: `≥ ${r.min}×`,
            met,
          });
        }
        row.push(cell);
      }
      rrows.push(row);
    }
    const lat = LATENCY_RATIOS.filter((r) => systems.includes(r.num) && systems.includes(r.den));
    for (const w of workloads.filter((w) => w.workload === "unary" && w.concurrency === 1)) {
      for (const r of lat) {
        const st = pairedRatio(tp.runs[w.id]?.[r.num], tp.runs[w.id]?.[r.den], (x) => x.p50us);
        slot(ratioJson, `p50 ${r.id}`, (): Record<string, Stat> => ({}))[w.id] = st;
        if (r.max !== undefined && Number.isFinite(st.median)) {
          targets.push({
            name: `p50 ${r.label}, ${w.label}`,
            value: fmtRatio(st.median),
            target: `≤ ${r.max}×`,
            met: st.median <= r.max,
          });
        }
      }
    }
    if (ratios.length) {
      out.push(`\n### Throughput ratios (median of per-repetition ratios; ✓/✗ = issue target)\n`);
      out.push(table(["workload", ...ratios.map((r) => r.label)], rrows));
    }
    json.throughput = thr;
    json.ratios = ratioJson;

    const mrows: string[][] = [];
    for (const s of cols) {
      const m = tp.serverMemory[s];
      if (!m?.length) continue;
      const heap = m.map((x) => x.heapUsedGc ?? Number.NaN);
      mrows.push([
        SYSTEM_LABELS[s] ?? s,
        m.map((x) => fmtMiB(x.rss)).join(" / "),
        m.map((x) => fmtMiB(x.rssGc)).join(" / "),
        heap.every(Number.isFinite) ? heap.map(fmtMiB).join(" / ") : "—",
      ]);
    }
    if (mrows.length) {
      out.push(`\n### Server memory after each repetition of the throughput runs (MiB)\n`);
      out.push(table(["system", "RSS after runs", "RSS after GC", "JS heap used after GC"], mrows));
      // A leak shows as live JS heap growing from repetition to repetition; RSS also moves with
      // V8's heap sizing and the allocator, so it is shown but not judged. Repetition 1 warms up.
      for (const name of ["ttrpc-plain", "ttrpc-es"]) {
        const m = tp.serverMemory[name];
        if (!m || m.length < 3) continue;
        const g = (m[m.length - 1]?.heapUsedGc ?? 0) - (m[1]?.heapUsedGc ?? 0);
        targets.push({
          name: `${SYSTEM_LABELS[name]}: server JS heap growth after GC, repetition 2 → ${m.length}`,
          value: `${fmtMiB(g)} MiB`,
          target: "no growth (≤ 1 MiB)",
          met: g <= MiB,
        });
      }
    }
    json.serverMemoryAfterRuns = tp.serverMemory;
    json.errors = tp.errors;
  }

  if (memory || startup) {
    const rows: string[][] = [];
    const memJson: Record<string, unknown> = {};
    const list = ["bare", ...systems];
    const head = ["", ...list.map((s) => (s === "bare" ? "bare node" : (SYSTEM_LABELS[s] ?? s)))];
    const bareIdle = memory ? median((memory.bare ?? []).map((r) => r.idleRssGc)) : Number.NaN;
    if (startup) {
      rows.push([
        "RSS after import, MiB",
        ...list.map((s) => fmtStat(stat(startup.importRss[s] ?? []), fmtMiB)),
      ]);
    }
    if (memory) {
      const get = (s: string, f: (r: MemoryRun) => number) => stat((memory[s] ?? []).map(f));
      rows.push([
        "server RSS idle, MiB",
        ...list.map((s) =>
          fmtStat(
            get(s, (r) => r.idleRss),
            fmtMiB,
          ),
        ),
      ]);
      rows.push([
        "server RSS idle after GC, MiB",
        ...list.map((s) =>
          fmtStat(
            get(s, (r) => r.idleRssGc),
            fmtMiB,
          ),
        ),
      ]);
      rows.push([
        "  − bare node, MiB",
        ...list.map((s) =>
          s === "bare" || s === "go" ? "" : fmtMiB(get(s, (r) => r.idleRssGc).median - bareIdle),
        ),
      ]);
      for (const n of CONN_STEPS) {
        rows.push([
          `server RSS, ${n} idle conn${n > 1 ? "s" : ""} (after GC), MiB`,
          ...list.map((s) =>
            s === "bare"
              ? ""
              : fmtStat(
                  get(s, (r) => r.conns[n] ?? Number.NaN),
                  fmtMiB,
                ),
          ),
        ]);
      }
      const perConn = (s: string, n: number) =>
        get(s, (r) => ((r.conns[n] ?? Number.NaN) - r.idleRssGc) / n);
      rows.push([
        "growth per idle conn (100), KiB",
        ...list.map((s) => (s === "bare" ? "" : fmtStat(perConn(s, 100), fmtKiB))),
      ]);
      rows.push([
        "growth per idle conn (1,000), KiB",
        ...list.map((s) => (s === "bare" ? "" : fmtStat(perConn(s, 1000), fmtKiB))),
      ]);
      for (const s of list)
        memJson[s] = {
          runs: memory[s] ?? [],
          perConn1000: perConn(s, 1000),
          perConn100: perConn(s, 100),
          idleRssGc: get(s, (r) => r.idleRssGc),
        };
      if (memory["ttrpc-plain"]) {
        const over = get("ttrpc-plain", (r) => r.idleRssGc).median - bareIdle;
        targets.push({
          name: "ttrpc-ts plain: idle server RSS over bare node (after GC)",
          value: `+${fmtMiB(over)} MiB`,
          target: "≤ +1.5 MiB",
          met: over <= 1.5 * MiB,
        });
        const pc = perConn("ttrpc-plain", 1000).median;
        targets.push({
          name: "ttrpc-ts plain: RSS growth per idle connection (1,000)",
          value: `${fmtKiB(pc)} KiB`,
          target: "≤ 12 KiB",
          met: pc <= 12 * KiB,
        });
      }
      if (memory["ttrpc-es"]) {
        const pc = perConn("ttrpc-es", 1000).median;
        targets.push({
          name: "ttrpc-ts es: RSS growth per idle connection (1,000)",
          value: `${fmtKiB(pc)} KiB`,
          target: "≤ 12 KiB",
          met: pc <= 12 * KiB,
        });
      }
    }
    if (startup) {
      rows.push([
        "cold start to ready, ms",
        ...list.map((s) => fmtStat(stat(startup.coldStartMs[s] ?? []), (x) => x.toFixed(0))),
      ]);
    }
    out.push(`\n### Memory and startup (median, min–max)\n`);
    out.push(table(head, rows));
    json.memory = memJson;
    json.startup = startup;
  }

  if (fp) {
    const rows: string[][] = [];
    if (fp.core) {
      rows.push([
        "ttrpc (this repo, npm pack)",
        Number.isFinite(fp.core.packedBytes)
          ? `${(fp.core.packedBytes / 1000).toFixed(1)} kB packed, ${(fp.core.unpackedBytes / 1000).toFixed(1)} kB unpacked, ${fp.core.files} files`
          : (fp.core.note ?? "—"),
        `${fp.core.runtimeDependencies} runtime deps`,
      ]);
      if (Number.isFinite(fp.core.unpackedBytes)) {
        targets.push({
          name: "install footprint of the core (unpacked)",
          value: `${(fp.core.unpackedBytes / 1000).toFixed(1)} kB`,
          target: "≤ 200 kB",
          met: fp.core.unpackedBytes <= 200_000,
        });
      }
      targets.push({
        name: "runtime dependencies of the core",
        value: String(fp.core.runtimeDependencies),
        target: "0",
        met: fp.core.runtimeDependencies === 0,
      });
    }
    for (const [name, p] of Object.entries(fp.packages)) {
      rows.push([
        `${name} (installed, with its dependencies)`,
        `${(p.bytes / 1e6).toFixed(1)} MB`,
        `${p.packages} packages`,
      ]);
    }
    out.push(`\n### Install footprint\n`);
    out.push(table(["package", "size", "packages"], rows));
    json.footprint = fp;
  }

  if (targets.length) {
    out.push(`\n### Issue targets\n`);
    out.push(
      table(
        ["target", "measured", "required", ""],
        targets.map((t) => [
          t.name,
          t.value,
          t.target,
          t.met === null ? "" : t.met ? "met" : "MISSED",
        ]),
      ),
    );
  }
  if (notes.length) out.push(`\nNotes:\n${notes.map((n) => `- ${n}`).join("\n")}`);
  json.targets = targets;
  return { text: out.join("\n"), json };
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const notes: string[] = [];
  process.stderr.write("compiling bench and engine … ");
  const built = await compile(opts.engineFrom);
  notes.push(...built.notes);
  process.stderr.write("done\n");

  let systems = ALL_SYSTEMS.filter((s) => opts.systems === null || opts.systems.includes(s));
  if (!built.engine) systems = systems.filter((s) => !s.startsWith("ttrpc-"));
  if (systems.includes("go") && !existsSync(opts.goPeer)) {
    systems = systems.filter((s) => s !== "go");
    notes.push(
      `Go ttrpc skipped: no peer at ${opts.goPeer} (build it with scripts/interop-peer.sh)`,
    );
  }
  const workloads = WORKLOADS.filter(
    (w) => opts.workloads === null || opts.workloads.includes(w.id),
  );
  sockDir = mkdtempSync(join(tmpdir(), "ttrpc-bench-"));
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const machine = `${cpus().length} cores (${cpu}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, ${process.platform} ${process.arch}`;
  const git = (args: string[]) =>
    spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";
  const srcCommit = git(["log", "-1", "--format=%h", "--", "packages/ttrpc/src"]);
  const srcDirty = git(["status", "--porcelain", "--", "packages/ttrpc/src"]) !== "";
  const revision = `${git(["rev-parse", "--short", "HEAD"])}, src/ at ${srcCommit}${srcDirty ? " + uncommitted changes" : ""}`;
  const shownArgs = process.argv.slice(2).filter((a) => a !== "--write-readme");
  const command = `npm run bench${shownArgs.length > 0 ? ` -- ${shownArgs.join(" ")}` : ""}`;
  process.stderr.write(`systems: ${systems.join(", ")}\nmachine: ${machine}\n`);

  let startup: StartupResult | null = null;
  let memory: Record<string, MemoryRun[]> | null = null;
  let tp: ThroughputResult | null = null;
  let fp: Footprint | null = null;
  try {
    if (opts.phases.has("startup")) {
      process.stderr.write("startup (import RSS, cold start) ");
      startup = await phaseStartup(opts, systems);
      process.stderr.write("\n");
    }
    if (opts.phases.has("memory")) {
      process.stderr.write("memory (idle server, idle connections) ");
      memory = await phaseMemory(opts, systems);
      process.stderr.write("\n");
    }
    if (opts.phases.has("throughput") && workloads.length) {
      process.stderr.write(
        `throughput (${workloads.length} workloads × ${systems.length} systems × ${opts.reps} reps) `,
      );
      tp = await phaseThroughput(opts, systems, workloads);
      process.stderr.write("\n");
    }
    if (opts.phases.has("footprint")) {
      process.stderr.write("footprint … ");
      fp = await phaseFootprint(built.engine);
      process.stderr.write("done\n");
    }
  } finally {
    rmSync(sockDir, { recursive: true, force: true });
  }
  if (systems.includes("go") && workloads.some((w) => !goComparable(w)))
    notes.push(
      "† Go ttrpc bidi: the Go peer's bench-client sends one message and waits for its echo (ping-pong on one long stream), where the Node drivers pipeline 1,000 messages per stream; not comparable, left out of the ratios.",
    );
  if (systems.includes("go"))
    notes.push(
      "Go ttrpc: Go server and Go client (bench-client of the interop peer), timed by the Go client itself",
    );
  notes.push(
    "Throughput: one connection per client process; streams use 1 stream at a time (1,000 msgs of 1 KiB or 16 of 1 MiB per stream).",
  );
  const elapsed = (performance.now() - t0) / 1000;
  const date = new Date().toISOString();
  const { text, json } = report(opts, systems, workloads, startup, memory, tp, fp, notes);
  const header = `## ttrpc-ts benchmark — ${date.slice(0, 16).replace("T", " ")} UTC\n\nMachine: ${machine}. Repo: ${revision}. Command: \`${command}\` (${elapsed.toFixed(0)} s; ${opts.reps} repetitions × ${opts.durationMs} ms per run after ${opts.warmupMs} ms warm-up${opts.pinServer !== undefined ? `; throughput servers pinned to CPU ${opts.pinServer}, clients to CPU ${opts.pinClient}` : ""}).\n`;
  console.log(`${header}\n${text}`);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(
    resultsDir,
    `bench-${date.replace(/[:.]/g, "-")}${opts.quick ? "-quick" : ""}.json`,
  );
  const doc = {
    date,
    machine,
    revision,
    command,
    elapsedSeconds: elapsed,
    options: { ...opts, phases: [...opts.phases] },
    systems,
    workloads,
    ...json,
    notes,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`\nJSON: ${relative(process.cwd(), file)}`);
  // A failed run (a system that errored) fails the command; missed targets do not.
  if (tp !== null && tp.errors.length > 0) {
    console.error(`\n${tp.errors.length} run(s) failed:\n${tp.errors.join("\n")}`);
    process.exitCode = 1;
  }
  if (opts.writeReadme) {
    const readme = join(root, "bench", "README.md");
    const text0 = readFileSync(readme, "utf8");
    const a = text0.indexOf(README_START);
    const b = text0.indexOf(README_END);
    if (a < 0 || b < a)
      throw new Error(`bench/README.md has no ${README_START} … ${README_END} section`);
    const body = `${header}\n${text}`.replace(/^## /m, "### ").replace(/\n### /g, "\n#### ");
    writeFileSync(readme, `${text0.slice(0, a + README_START.length)}\n${body}\n${text0.slice(b)}`);
    console.log("bench/README.md: results section updated");
  }
}

await main();
