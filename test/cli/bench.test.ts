// `ttrpc bench` against the Go ttrpc peer and against our own server (test/cli/our-server.ts), each
// a process of its own: every call is counted, the report has its parts, and errors are counted by
// status code. No speed is asserted; the figures are in the README (measured with these commands).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import {
  type GoServer,
  interopSuite,
  socketPath,
  startGoServer,
  tempDir,
} from "../interop/peer.js";
import { REPO, ttrpc } from "./helpers.js";

const T = { timeout: 120_000 };
const BENCH = ["--proto", "bench.proto", "-I", join(REPO, "bench/proto")];
const PAYLOAD = JSON.stringify({ payload: Buffer.alloc(64, 7).toString("base64") });

/** Starts test/cli/our-server.ts; resolves once it listens. */
async function startOurServer(socket: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ["--conditions=ttrpc-source", "--import", "tsx", join(REPO, "test/cli/our-server.ts"), socket],
    {
      cwd: REPO,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    lines.once("line", () => resolve());
    child.once("close", (code) => reject(new Error(`our server exited ${code}`)));
  });
  return {
    async stop() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

function checkResult(out: string, calls: number, connections: number): void {
  const r = JSON.parse(out);
  assert.equal(r.calls, calls);
  assert.equal(r.ok, calls);
  assert.deepEqual(r.errors, {});
  assert.equal(r.connections, connections);
  assert.ok(r.callsPerSecond > 0);
  const l = r.latencyMs;
  assert.ok(
    l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max,
    JSON.stringify(l),
  );
  assert.equal(r.histogram.length, 10);
  assert.equal(
    r.histogram.reduce((a: number, b: { count: number }) => a + b.count, 0),
    calls,
  );
}

interopSuite("ttrpc bench", (bin) => {
  const dir = tempDir();
  let go: GoServer;

  test("against the Go peer: -n calls over --connections, JSON and text reports", T, async (t) => {
    go = await startGoServer(bin, socketPath(dir, "go"));
    t.after(() => go.kill());
    const r = await ttrpc([
      "bench",
      go.socket,
      "ttrpc.bench.v1.Bench/Unary",
      ...BENCH,
      "-d",
      PAYLOAD,
      "-c",
      "32",
      "--connections",
      "4",
      "-n",
      "20000",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    checkResult(r.stdout, 20000, 4);
    const text = await ttrpc([
      "bench",
      go.socket,
      "ttrpc.bench.v1.Bench/Unary",
      ...BENCH,
      "-d",
      PAYLOAD,
      "-n",
      "2000",
    ]);
    assert.equal(text.code, 0, text.stderr);
    for (const part of [
      "Summary:",
      "Calls/sec:",
      "p50",
      "p99",
      "Latency histogram (ms):",
      "Status codes:",
      "OK: 2000",
    ]) {
      assert.ok(text.stdout.includes(part), `${part} missing:\n${text.stdout}`);
    }
  });

  test(
    "against our server: --duration runs for a time; errors are counted by code",
    T,
    async (t) => {
      const socket = socketPath(dir, "ours");
      const ours = await startOurServer(socket);
      t.after(() => ours.stop());
      const r = await ttrpc([
        "bench",
        socket,
        "ttrpc.bench.v1.Bench/Unary",
        ...BENCH,
        "-d",
        PAYLOAD,
        "--duration",
        "1s",
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const res = JSON.parse(r.stdout);
      assert.ok(res.calls > 0 && res.seconds >= 1, r.stdout);
      checkResult(r.stdout, res.calls, 1);
      // Every call fails: counted under its code, and the exit status is that code.
      const fail = await ttrpc([
        "bench",
        socket,
        "ttrpc.interop.v1.Interop/Fail",
        "--proto",
        "interop.proto",
        "-I",
        join(REPO, "test/interop/proto"),
        "-d",
        '{"code":5,"message":"x"}',
        "-n",
        "500",
        "--json",
      ]);
      assert.equal(fail.code, 5, fail.stderr);
      const f = JSON.parse(fail.stdout);
      assert.deepEqual(f.errors, { NOT_FOUND: 500 });
      assert.equal(f.ok, 0);
      // Streams are not benchmarked.
      const stream = await ttrpc(["bench", socket, "ttrpc.bench.v1.Bench/Bidi", ...BENCH]);
      assert.equal(stream.code, 3);
    },
  );
});
