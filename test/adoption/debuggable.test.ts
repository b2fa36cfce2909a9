// Issue 10, "debuggable": NODE_DEBUG=ttrpc (util.debuglog) and handler errors that reach onError,
// with one concise stderr line by default. The class-name and source-map parts are tested
// (test/package/pack-install.test.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "./spec.js";

const child = fileURLToPath(new URL("fixtures/debug-child.ts", import.meta.url));
const T = { timeout: 30_000 };

function runChild(dir: string, mode: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(
    process.execPath,
    ["--conditions=ttrpc-source", "--import", "tsx", child, mode, dir],
    { encoding: "utf8", env: { ...process.env, NODE_DEBUG: "", ...env }, timeout: 25_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^done$/m);
  return r;
}

describe("adoption: debuggable", () => {
  test("NODE_DEBUG=ttrpc logs connections, calls, stream ends and protocol errors with stream ids", {
    ...T,
  }, (t) => {
    const r = runChild(tempDir(t), "silent", { NODE_DEBUG: "ttrpc" });
    const lines = r.stderr.split("\n").filter((l) => /^TTRPC \d+: /.test(l));
    assert.ok(
      lines.some((l) => /conn/i.test(l)),
      `a connection line:\n${r.stderr}`,
    );
    assert.ok(
      lines.some((l) => /stream 1\b.*\/adopt\.v1\.Svc\/Hello/.test(l)),
      `a call line:\n${r.stderr}`,
    );
    assert.ok(
      lines.some((l) => /stream \d+.*(end|clos)/i.test(l)),
      `a stream end:\n${r.stderr}`,
    );
    assert.ok(
      lines.some((l) => /stream 2\b.*(odd|invalid|protocol)/i.test(l)),
      `a protocol error:\n${r.stderr}`,
    );
    // Off by default: nothing without NODE_DEBUG.
    assert.doesNotMatch(runChild(tempDir(t), "silent").stderr, /^TTRPC /m);
  });

  test("a handler that throws a plain Error: one concise stderr line by default", {
    ...T,
  }, (t) => {
    const r = runChild(tempDir(t), "default");
    const lines = r.stderr.split("\n").filter((l) => l.includes("boom from the handler"));
    assert.equal(lines.length, 1, `one line:\n${r.stderr}`);
    assert.match(lines[0] as string, /\/adopt\.v1\.Svc\/Hello/);
  });

  test("onError receives unexpected handler errors; a no-op onError silences the default line", {
    ...T,
  }, (t) => {
    const collected = runChild(tempDir(t), "collect");
    assert.match(collected.stdout, /^onError: boom from the handler$/m);
    assert.doesNotMatch(collected.stderr, /boom/);
    assert.doesNotMatch(runChild(tempDir(t), "silent").stderr, /boom/);
  });
});
