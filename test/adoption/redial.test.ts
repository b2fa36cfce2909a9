// Issue 10, "a connection that redials" (opt-in): dial lazily, redial with capped exponential
// backoff after the peer goes away, fail calls fast while disconnected or queue them up to a
// bound, expose state changes. Tested by restarting a real server process (SIGKILL, then a new
// one on the same path) under a live client. The API:
//   redial(path, { initialBackoffMs, maxBackoffMs, queue, queueBytes, onStateChange }) → Connection
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Code, type ConnectionState, createClient, redial } from "ttrpc";
import { rejection, Svc, tempDir } from "./spec.js";

const T = { timeout: 30_000 };
const child = fileURLToPath(new URL("fixtures/server-child.ts", import.meta.url));

/** Starts the server process; resolves when it listens. Killed when the test ends. */
async function startServer(t: TestContext, path: string): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    ["--conditions=ttrpc-source", "--import", "tsx", child, path],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on("data", (d) => String(d).includes("ready") && resolve());
    proc.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return proc;
}

async function kill(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGKILL");
  await exited;
}

/** Calls hello until it succeeds (bounded: 200 tries, 50 ms apart). */
async function eventually(call: () => Promise<{ text: string }>): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 200; i++) {
    try {
      return (await call()).text;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw last;
}

describe("adoption: a connection that redials", () => {
  test("dials lazily; while the peer is away calls fail fast with UNAVAILABLE", T, async (t) => {
    const conn = redial(join(tempDir(t), "nobody.sock"), {
      initialBackoffMs: 10,
      maxBackoffMs: 100,
    });
    t.after(() => conn.close());
    const err = await rejection(
      createClient(Svc, conn).hello({ name: "x" }, { timeoutMs: 10_000 }),
    );
    assert.equal(err.code, Code.Unavailable, "fails at once, not at the deadline");
  });

  test("comes back by itself after the server is killed and restarted", T, async (t) => {
    const path = join(tempDir(t), "s.sock");
    let server = await startServer(t, path);
    const states: ConnectionState[] = [];
    const conn = redial(path, {
      initialBackoffMs: 10,
      maxBackoffMs: 200,
      onStateChange: (s) => states.push(s),
    });
    t.after(() => conn.close());
    const client = createClient(Svc, conn);
    const before = await client.hello({ name: "a" });
    await kill(server);
    const down = await rejection(client.hello({ name: "b" }));
    assert.equal(down.code, Code.Unavailable);
    server = await startServer(t, path); // removes the stale socket the killed process left
    const after = await eventually(() => client.hello({ name: "c" }));
    assert.notEqual(
      after.split(" from ")[1],
      before.text.split(" from ")[1],
      "a new server process",
    );
    // Dials that fail while the server is down go connecting → disconnected again: what counts is
    // the sequence without "connecting" and without repeats.
    const seen = states.filter((s) => s !== "connecting").filter((s, i, a) => s !== a[i - 1]);
    assert.deepEqual(seen, ["ready", "disconnected", "ready"]);
    assert.equal(conn.state, "ready");
  });

  test("queues calls while disconnected, up to the bound; the rest fail at once", T, async (t) => {
    const path = join(tempDir(t), "q.sock");
    const conn = redial(path, { initialBackoffMs: 10, maxBackoffMs: 100, queue: 2 });
    t.after(() => conn.close());
    const client = createClient(Svc, conn);
    const queued = [client.hello({ name: "1" }), client.hello({ name: "2" })];
    const third = await rejection(client.hello({ name: "3" }));
    assert.ok([Code.Unavailable, Code.ResourceExhausted].includes(third.code as 14 | 8));
    await startServer(t, path);
    const texts = (await Promise.all(queued)).map((r) => r.text.split(" from ")[0]);
    assert.deepEqual(texts, ["hello, 1", "hello, 2"]);
  });

  test("close() stops redialing for good", T, async (t) => {
    const path = join(tempDir(t), "c.sock");
    const conn = redial(path, { initialBackoffMs: 10, maxBackoffMs: 100 });
    await conn.close();
    assert.equal(conn.state, "closed");
    await startServer(t, path);
    const err = await rejection(createClient(Svc, conn).hello({ name: "x" }));
    assert.equal(err.code, Code.Unavailable);
  });
});
