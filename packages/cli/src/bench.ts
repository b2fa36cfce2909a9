/**
 * `ttrpc bench ADDR SERVICE/METHOD`: calls a unary method with C calls in flight over N
 * connections, for a number of calls or a duration, and reports calls/s, latency percentiles, a
 * histogram and errors by status code, in the spirit of ghz.
 * @module
 */
import { performance } from "node:perf_hooks";
import { type CallOptions, Code, type Connection, createClient, TtrpcError } from "ttrpc";
import { duration, parse, SCHEMA_OPTIONS, schemaOptions, str } from "./args.js";
import { callSettings, type Io } from "./call.js";
import { CliError, usageError } from "./cli-error.js";
import { open } from "./conn.js";
import { codeName } from "./errors.js";
import { Histogram } from "./histogram.js";
import { single, sourceOf } from "./input.js";
import { JsonCodec } from "./json.js";
import { rawService } from "./rawservice.js";
import { loadSchema } from "./schema/load.js";

/** The flags of `bench`. */
export const BENCH_OPTIONS = {
  ...SCHEMA_OPTIONS,
  data: { type: "string", short: "d" },
  header: { type: "string", short: "H", multiple: true },
  namespace: { type: "string" },
  timeout: { type: "string" },
  "max-msg-size": { type: "string" },
  concurrency: { type: "string", short: "c" },
  connections: { type: "string" },
  total: { type: "string", short: "n" },
  duration: { type: "string" },
  json: { type: "boolean" },
} as const;

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw usageError(`${flag} ${text}: expected a positive integer`);
  return n;
}

/** The measured outcome. */
export interface BenchResult {
  calls: number;
  ok: number;
  seconds: number;
  callsPerSecond: number;
  latencyMs: { min: number; mean: number; p50: number; p90: number; p99: number; max: number };
  histogram: { upToMs: number; count: number }[];
  errors: Record<string, number>;
  concurrency: number;
  connections: number;
}

const ms = (us: number) => Math.round(us) / 1000;

/** Runs `ttrpc bench`; resolves to the exit status. */
export async function runBench(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse("bench", argv, BENCH_OPTIONS);
  if (positionals.length !== 2)
    throw usageError("expected ADDR SERVICE/METHOD (see `ttrpc bench --help`)");
  const [address = "", path = ""] = positionals;
  const concurrency = positive("-c", str(values, "concurrency"), 32);
  const connections = Math.min(
    concurrency,
    positive("--connections", str(values, "connections"), 1),
  );
  const durText = str(values, "duration");
  const durationMs = durText === undefined ? undefined : duration("--duration", durText);
  const total =
    durationMs === undefined
      ? positive("-n", str(values, "total"), 10_000)
      : Number.POSITIVE_INFINITY;
  const settings = callSettings(values);
  const schema = await loadSchema(schemaOptions(values));
  const method = schema.method(path);
  if (method.methodKind !== "unary")
    throw new CliError(
      `bench calls unary methods; ${path} is ${method.methodKind.replace("_", "-")}`,
    );
  const codec = new JsonCodec(schema.typeRegistry, {
    emitDefaults: false,
    protoNames: false,
    allowUnknown: false,
  });
  const req = await single(sourceOf(str(values, "data"), "empty", io.stdin));
  const payload = codec.encode(method.input, req.value, req.where);

  const conns: Connection[] = [];
  try {
    for (let i = 0; i < connections; i++)
      conns.push((await open(address, settings.maxMessageBytes)).conn);
    const result = await drive(conns, method, payload, settings.options, {
      concurrency,
      total,
      durationMs,
    });
    io.stdout.write(values.json === true ? `${JSON.stringify(result)}\n` : report(result));
    if (result.ok > 0 || result.calls === 0) return 0;
    const worst = Object.entries(result.errors).sort((a, b) => b[1] - a[1])[0]?.[0] ?? "UNKNOWN";
    return Object.entries(Code).find(([, v]) => codeName(v) === worst)?.[1] ?? Code.Unknown;
  } finally {
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
  }
}

async function drive(
  conns: Connection[],
  method: Parameters<typeof rawService>[0],
  payload: Uint8Array,
  options: CallOptions,
  plan: { concurrency: number; total: number; durationMs: number | undefined },
): Promise<BenchResult> {
  const service = rawService(method, false);
  const calls = conns.map(
    (c) => createClient(service, c).call as (r: Uint8Array, o?: CallOptions) => Promise<unknown>,
  );
  const hist = new Histogram();
  const errors: Record<string, number> = {};
  let started = 0;
  const t0 = performance.now();
  const end = plan.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + plan.durationMs;
  const worker = async (w: number) => {
    const call = calls[w % calls.length] as (r: Uint8Array, o?: CallOptions) => Promise<unknown>;
    while (started < plan.total && performance.now() < end) {
      started++;
      const t = performance.now();
      try {
        await call(payload, options);
        hist.record((performance.now() - t) * 1000);
      } catch (err) {
        const name = codeName(TtrpcError.from(err).code);
        errors[name] = (errors[name] ?? 0) + 1;
        // A closed connection fails every later call at once: stop instead of spinning.
        if (TtrpcError.from(err).code === Code.Unavailable) return;
      }
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, (_, i) => worker(i)));
  const seconds = (performance.now() - t0) / 1000;
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    calls: hist.count + failed,
    ok: hist.count,
    seconds,
    callsPerSecond: (hist.count + failed) / seconds,
    latencyMs: {
      min: ms(hist.count ? hist.min : 0),
      mean: ms(hist.mean),
      p50: ms(hist.percentile(50)),
      p90: ms(hist.percentile(90)),
      p99: ms(hist.percentile(99)),
      max: ms(hist.max),
    },
    histogram: hist.bins(10).map((b) => ({ upToMs: ms(b.upTo), count: b.count })),
    errors,
    concurrency: plan.concurrency,
    connections: conns.length,
  };
}

/** The text report. */
export function report(r: BenchResult): string {
  const l = r.latencyMs;
  const lines = [
    "Summary:",
    `  Calls:        ${r.calls} (${r.ok} OK) over ${r.connections} connection(s), ${r.concurrency} in flight`,
    `  Total:        ${r.seconds.toFixed(2)} s`,
    `  Calls/sec:    ${r.callsPerSecond.toFixed(0)}`,
    `  Latency (ms): min ${l.min}  mean ${l.mean}  p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}`,
    "",
    "Latency histogram (ms):",
  ];
  const top = Math.max(1, ...r.histogram.map((b) => b.count));
  for (const b of r.histogram) {
    lines.push(
      `  ${b.upToMs.toFixed(3).padStart(10)} [${String(b.count).padStart(8)}] |${"∎".repeat(Math.round((b.count / top) * 40))}`,
    );
  }
  lines.push("", "Status codes:", `  OK: ${r.ok}`);
  for (const [name, n] of Object.entries(r.errors)) lines.push(`  ${name}: ${n}`);
  return `${lines.join("\n")}\n`;
}
