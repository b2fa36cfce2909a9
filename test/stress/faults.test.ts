/**
 * Quick faults (scenarios/faults.ts): a lying server in front of our client (a child process),
 * SIGKILL of the server and of the client in the middle of unary calls and streams.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { killAll, tempDir } from "./lib/procs.js";
import { table } from "./lib/report.js";
import { QUICK } from "./lib/sizes.js";
import * as F from "./scenarios/faults.js";

const tmp = tempDir();
after(() => {
  killAll();
  tmp.remove();
});

test("a lying server: every call of our client settles, the client survives", {
  timeout: 60_000,
}, async (t) => {
  const r = await F.lyingServer(tmp.dir, QUICK.lieWatchMs);
  t.diagnostic(`\n${table(r.rows)}`);
  assert.deepEqual(r.failures, []);
});

test("SIGKILL of the server mid-unary and mid-stream: every pending call fails", {
  timeout: 60_000,
}, async (t) => {
  const r = await F.killServer("ts", tmp.dir, 100, 10);
  t.diagnostic(`\n${table([r.row])}`);
  assert.deepEqual(r.failures, []);
});

test("SIGKILL of the client mid-unary and mid-stream: the server gets back to zero", {
  timeout: 60_000,
}, async (t) => {
  const r = await F.killClient(tmp.dir, 100, 10);
  t.diagnostic(`\n${table([r.row])}`);
  assert.deepEqual(r.failures, []);
});
