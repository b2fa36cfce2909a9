/**
 * Quick size of the load scenarios (scenarios/load.ts) against our server in another process:
 * every connection answered, no call lost, calls and streams concurrent on one connection, and
 * afterwards the server's heap, handlers and active resources back to the baseline.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { killAll, startTarget, type Target, tempDir } from "./lib/procs.js";
import { table } from "./lib/report.js";
import { QUICK } from "./lib/sizes.js";
import * as L from "./scenarios/load.js";

const tmp = tempDir();
let target: Target;
before(async () => {
  target = await startTarget("ts", tmp.dir);
});
after(() => {
  killAll();
  tmp.remove();
});

const cases: [string, () => Promise<L.Checked>][] = [
  [
    `${QUICK.connections} connections at once, each answered, then back to baseline`,
    () => L.connections(target, QUICK.connections),
  ],
  [
    `${QUICK.calls} unary calls over ${QUICK.callConns} connections, none lost`,
    () => L.calls(target, QUICK.calls, QUICK.callConns, QUICK.callDepth),
  ],
  [
    `${QUICK.concurrentCalls} concurrent calls on one connection`,
    () => L.concurrentCalls(target, QUICK.concurrentCalls),
  ],
  [
    `${QUICK.concurrentStreams} concurrent bidi streams on one connection`,
    () => L.concurrentStreams(target, QUICK.concurrentStreams),
  ],
];
for (const [name, run] of cases) {
  test(name, { timeout: 60_000 }, async (t) => {
    const r = await run();
    t.diagnostic(`\n${table([r.row])}`);
    assert.deepEqual(r.violations, []);
  });
}
