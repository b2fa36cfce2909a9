/**
 * The Go NRI harness (test/nri/go, built by scripts/nri-peer.sh) as the tests see it: finding the
 * two binaries (NRI 0.6.1 and 0.8.0), driving `runtime` mode over JSON lines, running `stub` mode,
 * and cleaning up every process and temp dir.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, type TestContext, test } from "node:test";

/** The NRI versions the harness is built against. */
export const NRI_VERSIONS = ["0.6.1", "0.8.0"] as const;
export type NriVersion = (typeof NRI_VERSIONS)[number];

/** Where the harness for `version` is: $NRI_HARNESS_06 / $NRI_HARNESS_08, else the cache folder. */
export function harnessPath(version: NriVersion): string {
  const env = version === "0.6.1" ? process.env.NRI_HARNESS_06 : process.env.NRI_HARNESS_08;
  if (env) return env;
  const cache = process.env.TTRPC_CACHE || join(homedir(), ".cache", "ttrpc-ts");
  return join(cache, "nri-peer", "bin", `nri-harness-${version}`);
}

const HINT = "run scripts/nri-peer.sh";

/**
 * Declares one suite per NRI version that needs the harness. Without the binary: with CI=true the
 * suite is one failing test; otherwise it is skipped with one loud line.
 */
export function nriSuite(name: string, body: (bin: string, version: NriVersion) => void): void {
  for (const version of NRI_VERSIONS) {
    const bin = harnessPath(version);
    const title = `${name} (NRI ${version})`;
    if (existsSync(bin)) {
      describe(title, () => body(bin, version));
    } else if (process.env.CI === "true") {
      test(`${title}: the Go NRI harness is required with CI=true`, () => {
        throw new Error(`NRI harness not found at ${bin}: ${HINT}`);
      });
    } else {
      process.stderr.write(`\n!!! NRI TESTS SKIPPED: ${bin} not found: ${HINT} !!!\n\n`);
      describe(title, { skip: `NRI harness not found at ${bin}: ${HINT}` }, () => {});
    }
  }
}

/**
 * Clean-up in reverse order of registration (node:test runs `t.after` hooks first-in first-out):
 * `defer(fn)` after each resource is made; a failing step does not stop the others.
 */
export function deferrer(t: TestContext): (fn: () => unknown) => void {
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    for (const fn of stack.reverse()) {
      try {
        await fn();
      } catch {
        // keep cleaning up
      }
    }
  });
  return (fn) => {
    stack.push(fn);
  };
}

/** A short temp dir (socket paths stay under 108 bytes); the caller removes it with {@link removeDir}. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "nri-"));
}

/** Removes a temp dir made by {@link tempDir}. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Kills a child process (SIGKILL) if it still runs. */
export function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

type Json = Record<string, unknown>;

/**
 * A process of the harness that prints JSON lines: every line is kept, and tests wait for the
 * first line (after the ones already consumed) that matches.
 */
export class JsonLines {
  readonly child: ChildProcess;
  readonly lines: Json[] = [];
  readonly stderr: string[] = [];
  #waiters: Array<() => void> = [];
  #exited = false;

  constructor(child: ChildProcess) {
    this.child = child;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        this.lines.push(JSON.parse(line) as Json);
      } catch {
        this.lines.push({ event: "unparsed", line });
      }
      this.#wake();
    });
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      this.stderr.push(line);
    });
    child.once("exit", () => {
      this.#exited = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The first line matching `match` (searched from the beginning), waiting up to `timeoutMs`. */
  async waitFor(match: (line: Json) => boolean, what: string, timeoutMs = 15_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (this.#exited) {
        throw new Error(
          `harness exited while waiting for ${what}; stderr:\n${this.stderr.slice(-15).join("\n")}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; stderr:\n${this.stderr.slice(-15).join("\n")}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Every line with `event === name`. */
  events(name: string): Json[] {
    return this.lines.filter((l) => l.event === name);
  }
}

/** The harness in `runtime` mode: containerd's NRI adaptation, driven by commands. */
export class GoRuntime extends JsonLines {
  #nextId = 1;

  /** Starts the runtime listening on `socket`; resolves once it is ready. */
  static async start(
    bin: string,
    socket: string,
    args: string[] = [],
    options: { cwd?: string; readyTimeoutMs?: number } = {},
  ): Promise<GoRuntime> {
    const child = spawn(bin, ["runtime", "-socket", socket, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      cwd: options.cwd,
    });
    const rt = new GoRuntime(child);
    await rt.waitFor(
      (l) => l.event === "ready" || l.event === "start-failed",
      "runtime ready",
      options.readyTimeoutMs,
    );
    const failed = rt.events("start-failed")[0];
    if (failed) throw new Error(`runtime failed to start: ${String(failed.error)}`);
    return rt;
  }

  /** Sends one command; resolves with its result, rejects with the runtime's error. */
  async command(op: string, request?: unknown, timeoutMs = 15_000): Promise<Json> {
    const id = this.#nextId++;
    this.child.stdin?.write(`${JSON.stringify({ id, op, request })}\n`);
    const reply = await this.waitFor((l) => l.id === id, `reply to ${op}`, timeoutMs);
    if (reply.error !== undefined) throw new Error(`${op}: ${String(reply.error)}`);
    return (reply.result ?? {}) as Json;
  }

  /** Waits until at least `count` plugins receive events (they join after synchronizing). */
  async waitPlugins(count = 1, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { count: n } = await this.command("plugins");
      if ((n as number) >= count) return;
      if (Date.now() > deadline) throw new Error(`runtime has ${n} plugins, waited for ${count}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Asks the runtime to stop its NRI adaptation and exit. */
  async exit(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin?.end(`${JSON.stringify({ id: 0, op: "exit" })}\n`);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    kill(this.child);
  }
}

/** Starts the harness in `stub` mode: NRI's Go stub plugin connecting to `socket`. */
export function startStub(bin: string, socket: string, args: string[] = []): JsonLines {
  const child = spawn(bin, ["stub", "-socket", socket, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new JsonLines(child);
}

/** Writes an executable file (a launcher script for a runtime-launched plugin). */
export function writeExecutable(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o755 });
}
