/**
 * Quick size of the live mutation fuzzer (scenarios/fuzz-live.ts) against our server in another
 * process: no crash, no connection left silent, the canary always answered, RSS bounded.
 * The full run (npm run stress) sends 1,000,000 inputs and also fuzzes the Go peer.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { killAll, tempDir } from "./lib/procs.js";
import { table } from "./lib/report.js";
import { QUICK } from "./lib/sizes.js";
import { fuzzLive } from "./scenarios/fuzz-live.js";

const tmp = tempDir();
after(() => {
  killAll();
  tmp.remove();
});

test(`live mutation fuzz: ${QUICK.fuzzInputs} mutated frames while a canary calls`, {
  timeout: 60_000,
}, async (t) => {
  const seed = Number(process.env.STRESS_SEED ?? Date.now() % 2 ** 31);
  const r = await fuzzLive("ts", tmp.dir, {
    inputs: QUICK.fuzzInputs,
    seed,
    workers: QUICK.fuzzWorkers,
    batch: QUICK.fuzzBatch,
    maxCrashes: 1,
  });
  t.diagnostic(`\n${table([r.row])}`);
  assert.equal(
    r.crashes,
    0,
    `the server crashed (replay with STRESS_SEED=${seed}): ${r.row.figures?.firstCrash}`,
  );
  assert.equal(r.silent, 0, `connections neither answered nor closed (STRESS_SEED=${seed})`);
  assert.equal(r.canary.failed, 0, "a canary call got no answer");
  assert.ok(r.canary.calls > 0, "the canary never got through");
  assert.ok(r.rssGrowth < 256 * 2 ** 20, `RSS grew by ${Math.round(r.rssGrowth / 2 ** 20)} MiB`);
});
