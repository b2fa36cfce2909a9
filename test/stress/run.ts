/**
 * `npm run stress`: the whole suite at full size (or `--quick`), against our server and, where it
 * is cheap, the Go ttrpc 1.2.4 peer; prints one table and writes it as JSON to bench/results/.
 *   npm run stress -- [--quick] [--only=<substring of a step>] [--targets=ts,go] [--seed=N]
 * Exits 1 when an invariant of our engine broke (a crash, a lost call, a leak, a bound exceeded);
 * the Go peer's crashes are reported, not judged. To measure a committed engine instead of the
 * work tree: bash test/stress/snapshot.sh <rev> -- <arguments>.
 */
import type { BoundName } from "./bounds.js";
import { goPeer, startTarget, type Target, type TargetKind, tempDir } from "./lib/procs.js";
import { type Row, table, writeResults } from "./lib/report.js";
import { FULL, QUICK } from "./lib/sizes.js";
import * as A from "./scenarios/attacks.js";
import * as C from "./scenarios/client-side.js";
import * as F from "./scenarios/faults.js";
import { fuzzLive } from "./scenarios/fuzz-live.js";
import * as L from "./scenarios/load.js";
import { properties } from "./scenarios/properties.js";

const args = new Map(
  process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string | undefined]),
);
const size = args.has("quick") ? QUICK : FULL;
const only = args.get("only");
const seed = Number(args.get("seed") ?? Date.now() % 2 ** 31);
let targets = (args.get("targets") ?? "ts,go").split(",") as TargetKind[];
if (targets.includes("go") && goPeer() === undefined) {
  console.error(
    "!!! stress: the Go peer is not built (scripts/interop-peer.sh): Go columns skipped !!!",
  );
  targets = targets.filter((t) => t !== "go");
}

const rows: Row[] = [];
const violations: string[] = [];
const { dir, remove } = tempDir();
process.on("exit", remove);

/** One step of the run: skipped unless its name contains --only. */
async function step(name: string, body: () => Promise<void>): Promise<void> {
  if (only !== undefined && !name.includes(only)) return;
  process.stderr.write(`stress: ${name} ...\n`);
  try {
    await body();
  } catch (e) {
    violations.push(`${name}: ${(e as Error).stack ?? String(e)}`);
    rows.push({
      suite: "error",
      scenario: name,
      target: "",
      inputs: 0,
      result: `threw: ${(e as Error).message}`,
      ms: 0,
    });
  }
}

function judge(kind: string, list: string[]): void {
  if (kind !== "go") violations.push(...list);
}

await step("properties", async () => {
  const t0 = performance.now();
  let failed = 0;
  for (const p of properties()) {
    try {
      p.check(size.propertyRuns);
    } catch (e) {
      if (!p.known) violations.push(`property ${p.name}: ${(e as Error).message.slice(0, 300)}`);
      failed += 1;
    }
  }
  rows.push({
    suite: "fuzz",
    scenario: "properties (frame reader, envelopes)",
    target: "ts",
    inputs: properties().length * size.propertyRuns,
    result: failed
      ? `${failed} failing (known defects: ${properties().filter((p) => p.known).length})`
      : "ok",
    ms: performance.now() - t0,
  });
});

for (const kind of targets) {
  await step(`fuzz-${kind}`, async () => {
    const r = await fuzzLive(kind, dir, {
      inputs: size.fuzzInputs,
      seed,
      workers: size.fuzzWorkers,
      batch: size.fuzzBatch,
      maxCrashes: kind === "go" ? 50 : 1,
    });
    rows.push(r.row);
    if (r.crashes || r.silent || r.canary.failed) judge(kind, [`fuzz-${kind}: ${r.row.result}`]);
  });
}

for (const kind of targets) {
  await step(`load-${kind}`, async () => {
    const target = await startTarget(kind, dir);
    try {
      for (const run of [
        () => L.connections(target, size.connections),
        () => L.calls(target, size.calls, size.callConns, size.callDepth),
        () => L.concurrentCalls(target, size.concurrentCalls),
        () => L.concurrentStreams(target, size.concurrentStreams),
      ]) {
        const r = await run();
        rows.push(r.row);
        judge(
          kind,
          r.violations.map((v) => `${r.row.scenario}/${kind}: ${v}`),
        );
      }
    } finally {
      await target.kill();
    }
  });
}

for (const kind of targets) {
  await step(`faults-kill-server-${kind}`, async () => {
    const r = await F.killServer(kind, dir, 100, 10);
    rows.push(r.row);
    judge(kind, r.failures);
  });
}
await step("faults-kill-client", async () => {
  const r = await F.killClient(dir, 100, 10);
  rows.push(r.row);
  violations.push(...r.failures);
});
await step("faults-lying-server", async () => {
  const r = await F.lyingServer(dir, size.lieWatchMs);
  rows.push(...r.rows);
  violations.push(...r.failures);
});

const attacks: {
  name: string;
  bounds: BoundName[];
  run: (t: Target) => Promise<A.AttackResult>;
}[] = [
  {
    name: "f1-unread-unary-replies",
    bounds: ["maxWriteQueueBytes"],
    run: (t) => A.unreadUnaryReplies(t, size.unreadReplies),
  },
  {
    name: "f1-unread-bidi-echo",
    bounds: ["maxWriteQueueBytes", "streamBufferBytes"],
    run: (t) => A.unreadBidiEcho(t, 4, size.unreadEchoPerStream),
  },
  {
    name: "f5-metadata-bomb",
    bounds: ["maxMetadataEntries", "maxMetadataBytes"],
    run: (t) => A.metadataBomb(t, size.metadataBombs, size.metadataEntries),
  },
  {
    name: "f5-streams-per-connection",
    bounds: ["maxConcurrentStreams"],
    run: (t) => A.streamsPerConnection(t, size.streamsPerConnection),
  },
  {
    name: "f5-slowloris",
    bounds: ["frameTimeoutMs", "idleTimeoutMs"],
    run: (t) => A.slowloris(t, size.slowlorisConns, size.slowlorisMs),
  },
];
for (const { name, bounds, run: attack } of attacks) {
  for (const kind of targets) {
    await step(`${name}-${kind}`, async () => {
      const r = await A.onFreshTarget(kind, dir, bounds, attack);
      rows.push(r.row);
      judge(kind, r.violations);
      if (r.boundHeld === false)
        judge(kind, [`${name}/${kind}: bound exceeded (+${Math.round(r.growth / 2 ** 20)} MiB)`]);
    });
  }
}

await step("f1-client-unread-requests", async () => {
  const r = await C.clientUnreadRequests(dir, size.unreadRequests);
  rows.push(r.row);
  violations.push(...r.violations);
  if (r.boundHeld === false) violations.push(`f1-client-unread-requests: bound exceeded`);
});
await step("f2-server-unread-client-stream", async () => {
  const r = await A.onFreshTarget("ts", dir, ["streamBufferBytes"], (t) =>
    A.unreadClientStream(t, size.unreadStreamMessages),
  );
  rows.push(r.row);
  violations.push(...r.violations);
  if (r.boundHeld === false) violations.push("f2-server-unread-client-stream: bound exceeded");
});
await step("f2-client-unread-stream", async () => {
  const target = await startTarget("ts", dir);
  try {
    const r = await C.clientUnreadStream(target, size.unreadStreamMessages);
    rows.push(r.row);
    violations.push(...r.violations);
    if (r.boundHeld === false) violations.push(`f2-client-unread-stream: bound exceeded`);
  } finally {
    await target.kill();
  }
});
for (const kind of targets) {
  await step(`f3-reader-keeps-up-${kind}`, async () => {
    const target = await startTarget(kind, dir);
    try {
      const r = await C.readerKeepsUp(target, 1100);
      rows.push(r.row);
    } finally {
      await target.kill();
    }
  });
}
await step("f4-abandoned-bidi-streams", async () => {
  const target = await startTarget("ts", dir);
  try {
    rows.push((await C.abandonedStreams(target, 100)).row);
  } finally {
    await target.kill();
  }
});
await step("f6-shutdown-endless-stream", async () => {
  rows.push((await C.shutdownWithEndlessStream(dir, size.shutdownWaitMs)).row);
});

console.log(`\nttrpc stress (${size.name}, seed ${seed}, node ${process.version})\n`);
console.log(table(rows));
console.log(`\nresults: ${writeResults(rows, size.name)}`);
if (violations.length > 0) {
  console.log(`\n${violations.length} invariant(s) broken:\n- ${violations.join("\n- ")}`);
  process.exitCode = 1;
}
