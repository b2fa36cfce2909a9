// Bun and Deno (issue 10): the public API of the BUILT package (packages/ttrpc/dist) works on each
// runtime — every call kind, metadata, deadlines, cancellation, errors, limits, shutdown — and
// across runtimes (a server in one, a client in another, both ways). The checks are plain
// JavaScript (checks.mjs), run unchanged by node, bun and deno. Bun and Deno come from npm through
// scripts/runtimes-setup.sh; without them this suite skips (fails with CI=true).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const dist = fileURLToPath(new URL("../../packages/ttrpc/dist/index.js", import.meta.url));
const cache = process.env.TTRPC_CACHE || join(homedir(), ".cache", "ttrpc-ts");
const SETUP = "run scripts/runtimes-setup.sh";

interface Runtime {
  name: string;
  /** The command line that runs a module file. */
  argv: string[];
}

function find(name: "bun" | "deno"): Runtime | string {
  const bin =
    process.env[`TTRPC_${name.toUpperCase()}`] || join(cache, "runtimes", name, "bin", name);
  if (!existsSync(bin)) return `${name} not found at ${bin}: ${SETUP}`;
  // Deno's permissions: the socket files and their folder, and the environment (node:os, npm).
  return { name, argv: name === "deno" ? [bin, "run", "--allow-all"] : [bin] };
}

const node: Runtime = { name: "node", argv: [process.execPath] };
const found = [find("bun"), find("deno")];
const runtimes = found.filter((r): r is Runtime => typeof r !== "string");
const missing = found.filter((r): r is string => typeof r === "string");

/** Starts `script` on a runtime; kills it when the test ends. */
function start(t: TestContext, rt: Runtime, script: string, socket: string): ChildProcess {
  const [cmd, ...args] = rt.argv as [string, ...string[]];
  // A clean environment for the child: no tsx loader or export condition from this runner.
  const env = { ...process.env, NODE_OPTIONS: "", NO_COLOR: "1" };
  const child = spawn(cmd, [...args, join(here, script), socket], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return child;
}

/** Reads a child's JSON lines until one satisfies `until` (or the child exits). */
async function readLines(
  child: ChildProcess,
  until: (line: Record<string, unknown>) => boolean,
): Promise<{ lines: Record<string, unknown>[]; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const lines: Record<string, unknown>[] = [];
  for await (const text of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    if (!text.startsWith("{")) continue;
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    if (until(line)) break;
  }
  return { lines, stderr };
}

/** Asserts that every check ran and passed, listing each failure with its stack. */
function assertAllPassed(lines: Record<string, unknown>[], stderr: string): void {
  const failures = lines.filter((l) => l.check && !l.ok).map((l) => `${l.check}: ${l.error}`);
  assert.deepEqual(failures, [], `${failures.join("\n")}\n${stderr}`);
  const plan = lines.find((l) => Array.isArray(l.plan))?.plan as string[] | undefined;
  assert.ok(plan && plan.length >= 10, `the checks were announced\n${stderr}`);
  assert.deepEqual(
    lines.filter((l) => l.check).map((l) => l.check),
    plan,
    `every check ran\n${stderr}`,
  );
  assert.ok(
    lines.some((l) => l.done),
    `the run finished\n${stderr}`,
  );
}

function tempSocket(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-rt-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "s.sock");
}

if (missing.length > 0 && process.env.CI === "true") {
  test("Bun and Deno are installed (required with CI=true)", () => {
    assert.fail(missing.join("; "));
  });
}
for (const why of missing) {
  // Listed again at the end of the run (scripts/run-tests.mjs, SKIPPED-SUITE).
  if (process.env.CI !== "true")
    test(`runtime smoke: ${why.split(" ")[0]}`, { skip: why }, () => {});
}

describe("runtimes: the built package on Node, Bun and Deno", () => {
  test("the built package exists", () => {
    assert.ok(existsSync(dist), `${dist} is missing: run npm run build`);
  });

  for (const rt of [node, ...runtimes]) {
    test(`${rt.name}: smoke suite, server and client in one process`, {
      timeout: 60_000,
    }, async (t) => {
      const child = start(t, rt, "smoke.mjs", tempSocket(t));
      const { lines, stderr } = await readLines(child, (l) => l.done === true);
      assertAllPassed(lines, stderr);
    });
  }

  const pairs: [Runtime, Runtime][] = [];
  for (const rt of runtimes) pairs.push([node, rt], [rt, node]);
  if (runtimes.length === 2) pairs.push([runtimes[0] as Runtime, runtimes[1] as Runtime]);
  if (runtimes.length === 2) pairs.push([runtimes[1] as Runtime, runtimes[0] as Runtime]);
  for (const [server, client] of pairs) {
    test(`${server.name} server × ${client.name} client`, { timeout: 60_000 }, async (t) => {
      const socket = tempSocket(t);
      const srv = start(t, server, "server.mjs", socket);
      const ready = await readLines(srv, (l) => l.listening === true);
      assert.ok(
        ready.lines.some((l) => l.listening),
        `server did not start\n${ready.stderr}`,
      );
      const cli = start(t, client, "client.mjs", socket);
      const { lines, stderr } = await readLines(cli, (l) => l.done === true);
      assertAllPassed(lines, stderr);
      // The last check asked the server for a graceful shutdown: it exits by itself.
      const code = srv.exitCode ?? (await new Promise((r) => srv.once("exit", r)));
      assert.equal(code, 0, `server exit\n${ready.stderr}`);
    });
  }
});
