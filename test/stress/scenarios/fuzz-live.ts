/**
 * The live mutation fuzzer: batches of mutated frames (scenarios/mutations.ts) thrown at a target
 * server in another process through raw unix sockets, on `workers` connections at a time, while
 * a canary connection keeps calling. Each batch ends with a probe call (unless its last frame
 * desynchronised the stream) and a FIN; the target must then answer or close the connection.
 *
 * Invariants (the quick test asserts them; the full run reports them): no crash (a crashed target
 * is restarted and counted), no connection left silent, bounded RSS, the canary still answered.
 */
import { Canary, type CanaryFigures } from "../lib/canary.js";
import { mib, RssSampler, rssOf, startTarget, type Target, type TargetKind } from "../lib/procs.js";
import type { Row } from "../lib/report.js";
import { echoFrame, RawConn } from "../lib/wire.js";
import { type Batch, Mutator } from "./mutations.js";

/** Sizes of one fuzz run. */
export interface FuzzOptions {
  inputs: number;
  seed: number;
  workers: number;
  batch: number;
  /** Give up after this many crashes (the Go peer crashes often). */
  maxCrashes: number;
  /** How long a connection may stay open after our FIN. */
  closeTimeoutMs?: number;
}

/** The outcome of a fuzz run. */
export interface FuzzResult {
  row: Row;
  crashes: number;
  silent: number;
  canary: CanaryFigures;
  rssGrowth: number;
}

// Not 0xffffffff: the mutator uses that id on purpose.
const PROBE = 0xfffffffd;

async function runBatch(
  socket: string,
  batch: Batch,
  closeTimeoutMs: number,
): Promise<"answered" | "closed" | "silent" | "refused"> {
  const c = new RawConn(socket);
  try {
    await c.connected();
  } catch {
    return "refused";
  }
  const probe = c.reply(PROBE);
  let answered = false;
  probe.then((type) => {
    if (type === 2) answered = true;
  });
  const bytes = Buffer.concat(batch.desync ? batch.frames : [...batch.frames, echoFrame(PROBE)]);
  // Two writes cut at a random point: frames also arrive split across reads.
  const at = bytes.length > 20 ? (bytes.length * 7) >>> 4 : bytes.length;
  c.socket.write(bytes.subarray(0, at));
  c.socket.write(bytes.subarray(at));
  c.socket.end();
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    c.whenClosed.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), closeTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  c.destroy();
  if (!closed) return "silent";
  return answered ? "answered" : "closed";
}

/** Runs the live fuzzer against a fresh target of `kind`. */
export async function fuzzLive(kind: TargetKind, dir: string, o: FuzzOptions): Promise<FuzzResult> {
  const t0 = performance.now();
  const mutator = new Mutator(o.seed);
  let target: Target = await startTarget(kind, dir);
  const base = rssOf(target.pid).rss;
  let maxRss = 0;
  let sampler = new RssSampler(target.pid);
  let canary = new Canary(target.socket);
  const canaries: CanaryFigures[] = [];
  let sent = 0;
  let crashes = 0;
  let firstCrash = "";
  const counts = { answered: 0, closed: 0, silent: 0, refused: 0 };
  let restarting: Promise<void> | undefined;

  const restart = async () => {
    crashes += 1;
    if (firstCrash === "") {
      const panic =
        /panic: [^\n]*/.exec(target.proc.stderr)?.[0] ?? target.proc.stderr.slice(0, 120);
      firstCrash = `after ${sent} inputs: ${panic}`;
    }
    maxRss = Math.max(maxRss, sampler.stop());
    canaries.push(await canary.stop());
    if (crashes >= o.maxCrashes) return;
    target = await startTarget(kind, dir);
    sampler = new RssSampler(target.pid);
    canary = new Canary(target.socket);
  };

  const worker = async () => {
    while (sent < o.inputs && crashes < o.maxCrashes) {
      if (restarting) await restarting;
      const batch = mutator.batch(o.batch);
      const outcome = await runBatch(target.socket, batch, o.closeTimeoutMs ?? 5000);
      sent += batch.frames.length;
      counts[outcome] += 1;
      if (!target.proc.alive || outcome === "refused") {
        await target.proc.exited;
        restarting ??= restart().finally(() => {
          restarting = undefined;
        });
        await restarting;
      }
    }
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
  if (restarting) await restarting;
  if (crashes < o.maxCrashes) {
    maxRss = Math.max(maxRss, sampler.stop());
    canaries.push(await canary.stop());
  }
  const alive = target.proc.alive;
  await target.kill();
  const lat = canaries.map((c) => c.p99);
  const figures: CanaryFigures = {
    calls: canaries.reduce((a, c) => a + c.calls, 0),
    failed: canaries.reduce((a, c) => a + c.failed, 0),
    p50: Math.max(0, ...canaries.map((c) => c.p50)),
    p99: Math.max(0, ...lat),
    max: Math.max(0, ...canaries.map((c) => c.max)),
  };
  const row: Row = {
    suite: "fuzz",
    scenario: "live-mutation-fuzz",
    target: kind,
    inputs: sent,
    result:
      crashes === 0 && counts.silent === 0 && alive
        ? "ok"
        : crashes > 0
          ? `crashed ×${crashes}`
          : `silent ×${counts.silent}`,
    rssBaseMiB: mib(base),
    rssMaxMiB: mib(maxRss),
    figures: {
      seed: o.seed,
      conns: counts.answered + counts.closed + counts.silent + counts.refused,
      answered: counts.answered,
      closed: counts.closed,
      silent: counts.silent,
      crashes,
      ...(firstCrash ? { firstCrash: JSON.stringify(firstCrash.slice(0, 90)) } : {}),
      canaryCalls: figures.calls,
      canaryFailed: figures.failed,
      canaryP99ms: figures.p99,
      canaryMaxMs: figures.max,
    },
    ms: performance.now() - t0,
  };
  return { row, crashes, silent: counts.silent, canary: figures, rssGrowth: maxRss - base };
}
