/**
 * The Go ttrpc peer (test/interop/go, built by scripts/interop-peer.sh) as seen from the tests:
 * finding the binary, starting `serve`, running `client --case`, and cleaning up every process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, test } from "node:test";

/** Where the peer is: $TTRPC_GO_PEER, else the cache folder scripts/interop-peer.sh builds into. */
export function peerPath(): string {
  const fromEnv = process.env.TTRPC_GO_PEER;
  if (fromEnv) return fromEnv;
  const cache = process.env.TTRPC_CACHE || join(homedir(), ".cache", "ttrpc-ts");
  return join(cache, "go-peer", "bin", "ttrpc-interop-peer");
}

const BUILD_HINT = "run scripts/interop-peer.sh (or set TTRPC_GO_PEER)";

/**
 * Declares a suite that needs the Go peer. Without the binary: with CI=true the suite is one
 * failing test; otherwise it is skipped, and the first file of the run prints one loud line.
 */
export function interopSuite(name: string, body: (bin: string) => void): void {
  const bin = peerPath();
  if (existsSync(bin)) {
    describe(name, () => body(bin));
    return;
  }
  if (process.env.CI === "true") {
    test(`${name}: the Go ttrpc peer is required with CI=true`, () => {
      throw new Error(`Go ttrpc peer not found at ${bin}: ${BUILD_HINT}`);
    });
    return;
  }
  // One line per test run: the files of a run share the parent (the test runner) process.
  const marker = join(tmpdir(), `ttrpc-interop-skip-${process.ppid}`);
  try {
    writeFileSync(marker, "", { flag: "wx" });
    process.stderr.write(
      `\n!!! INTEROP TESTS SKIPPED: Go ttrpc peer not found at ${bin}: ${BUILD_HINT} !!!\n\n`,
    );
  } catch {
    // another file of this run already said it
  }
  // The reason is listed again at the end of the run (scripts/run-tests.mjs, SKIPPED-SUITE).
  describe(name, { skip: `Go ttrpc peer not found at ${bin}: ${BUILD_HINT}` }, () => {});
}

// ---------------------------------------------------------------- processes and temp dirs

const children = new Set<ChildProcess>();

function killChild(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Kills (SIGKILL) every peer process this file started that is still running. */
export function killAll(): void {
  for (const child of children) killChild(child);
}

process.on("exit", killAll);

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/**
 * A fresh temp dir (short, so socket paths stay under 108 bytes), removed after the suite.
 * Call it in a describe body (node:test runs an after() registered in a hook right after that hook).
 */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-interop-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let socketCounter = 0;
/** A new socket path in dir. */
export function socketPath(dir: string, name = "s"): string {
  socketCounter += 1;
  return join(dir, `${name}${socketCounter}.sock`);
}

/** JSON lines read from a child's stdout, with a way to wait for a particular one. */
export class LineReader {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  #waiters: {
    pred: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  #ended = false;
  #endWaiters: ((e: Error) => void)[] = [];
  stderr = "";
  readonly child: ChildProcess;

  constructor(child: ChildProcess) {
    this.child = child;
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on("line", (text) => {
      this.raw.push(text);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(line)) return true;
        w.resolve(line);
        return false;
      });
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.stderr += chunk;
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
    });
    child.once("exit", () => {
      this.#ended = true;
      const err = new Error(
        `process exited before the expected line; stderr: ${this.stderr.slice(-2000)}`,
      );
      for (const w of this.#endWaiters) w(err);
      this.#endWaiters = [];
    });
  }

  /** The first line (already read or still to come) that matches pred. */
  waitFor(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    if (this.#ended)
      return Promise.reject(new Error(`process exited; stderr: ${this.stderr.slice(-2000)}`));
    return new Promise((resolve, reject) => {
      this.#waiters.push({ pred, resolve });
      this.#endWaiters.push(reject);
    });
  }
}

/** A running `serve`. */
export interface GoServer {
  socket: string;
  pid: number;
  child: ChildProcess;
  out: LineReader;
  /** SIGTERM (graceful shutdown in the peer), wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL, wait for exit. */
  kill(): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  // "close" comes after stdout ended, so every line has been read by then.
  return new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
}

/**
 * Starts `serve --socket` and resolves once it printed its ready line. The caller stops it
 * (stop/kill); whatever is left is killed when the test process exits.
 */
export async function startGoServer(bin: string, socket: string): Promise<GoServer> {
  const child = track(
    spawn(bin, ["serve", "--socket", socket], { stdio: ["ignore", "pipe", "pipe"] }),
  );
  const out = new LineReader(child);
  const exited = exitOf(child);
  const server: GoServer = {
    socket,
    pid: child.pid as number,
    child,
    out,
    exited,
    async stop() {
      killChild(child, "SIGTERM");
      await exited;
    },
    async kill() {
      killChild(child, "SIGKILL");
      await exited;
    },
  };
  await out.waitFor((l) => l.ready === true);
  return server;
}

/** A running `client --case`. */
export interface GoClient {
  child: ChildProcess;
  pid: number;
  out: LineReader;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  write(line: string): void;
  kill(): Promise<void>;
}

/** Starts `client --socket S --case NAME ...args`; killed when the test process exits if still running. */
export function startGoClient(
  bin: string,
  socket: string,
  name: string,
  args: string[] = [],
): GoClient {
  const child = track(
    spawn(bin, ["client", "--socket", socket, "--case", name, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
  const out = new LineReader(child);
  const exited = exitOf(child);
  return {
    child,
    pid: child.pid as number,
    out,
    exited,
    write(line) {
      child.stdin?.write(`${line}\n`);
    },
    async kill() {
      killChild(child, "SIGKILL");
      await exited;
    },
  };
}

/** The JSON lines a `client --case` printed, keyed by nothing: in order. */
export type Line = Record<string, unknown>;

/** Runs `client --case` to the end; fails unless it exits 0 and printed its done line. */
export async function runGoClient(
  bin: string,
  socket: string,
  name: string,
  args: string[] = [],
): Promise<Line[]> {
  const c = startGoClient(bin, socket, name, args);
  c.child.stdin?.end();
  const { code, signal } = await c.exited;
  if (code !== 0 || !c.out.lines.some((l) => l.done === true)) {
    throw new Error(
      `Go client --case ${name} exited with ${code ?? signal}; stdout:\n${c.out.raw.join("\n")}\nstderr:\n${c.out.stderr}`,
    );
  }
  return c.out.lines.filter((l) => l.done !== true);
}

/** The lines with step === name. */
export function steps(lines: Line[], name: string): Line[] {
  return lines.filter((l) => l.step === name);
}

/** The one line with step === name. */
export function stepOf(lines: Line[], name: string): Line {
  const found = steps(lines, name);
  if (found.length !== 1)
    throw new Error(`expected one "${name}" line, got ${found.length}: ${JSON.stringify(lines)}`);
  return found[0] as Line;
}
