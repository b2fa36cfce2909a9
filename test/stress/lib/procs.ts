/**
 * The processes of the stress suite: the target server (ours, proc/server.ts, or the Go ttrpc 1.2.4
 * interop peer), our client as a child (proc/client.ts), their RSS read from /proc, and clean-up
 * of everything started (also when the runner dies).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { peerPath } from "../../interop/peer.js";

const root = new URL("../../../", import.meta.url).pathname;
const live = new Set<ChildProcess>();

/** SIGKILLs every process this suite started that is still running (also done at exit). */
export function killAll(): void {
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
}
process.on("exit", killAll);

/** RSS and its high-water mark of a process, in bytes (0 once it is gone). */
export function rssOf(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** Samples a process's RSS every `everyMs` until stopped; `max` is the largest seen. */
export class RssSampler {
  max = 0;
  readonly pid: number;
  readonly #timer: NodeJS.Timeout;
  constructor(pid: number, everyMs = 50) {
    this.pid = pid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
  }
  sample(): number {
    const { rss } = rssOf(this.pid);
    if (rss > this.max) this.max = rss;
    return rss;
  }
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.max;
  }
}

/** A child whose stdout is JSON lines. */
export class JsonProc {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #waiters: {
    pred: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown> | undefined) => void;
  }[] = [];

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    live.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => {
        live.delete(this.child);
        resolve({ code, signal });
      }),
    );
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
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
    this.child.once("close", () => {
      for (const w of this.#waiters) w.resolve(undefined);
      this.#waiters = [];
    });
    this.child.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8000);
    });
    this.child.stdin?.on("error", () => {});
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The next line (from now on, or already read if `seen`) matching pred; undefined once the child is gone. */
  waitFor(
    pred: (l: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown> | undefined> {
    if (!this.alive && this.child.stdout?.readableEnded) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(`no matching line within ${timeoutMs} ms; stderr: ${this.stderr.slice(-1500)}`),
        );
      }, timeoutMs);
      const done = (l: Record<string, unknown> | undefined) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.#waiters.push({ pred, resolve: done });
    });
  }

  /** Sends one JSON command line and waits for the line answering it (same `id`). */
  async command(
    cmd: Record<string, unknown>,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    const id = `${Date.now()}-${Math.random()}`;
    const reply = this.waitFor((l) => l.id === id, timeoutMs);
    this.child.stdin?.write(`${JSON.stringify({ ...cmd, id })}\n`);
    const line = await reply;
    if (line === undefined)
      throw new Error(`process exited during ${JSON.stringify(cmd)}: ${this.stderr.slice(-1500)}`);
    return line;
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** Arguments that run a TypeScript file of this suite with the workspace sources. */
function tsArgs(file: string, args: string[]): string[] {
  return [
    "--expose-gc",
    "--conditions=ttrpc-source",
    "--import",
    "tsx",
    join(root, "test/stress", file),
    ...args,
  ];
}

/** Which server a scenario attacks. */
export type TargetKind = "ts" | "go";

/** A running target server. */
export interface Target {
  kind: TargetKind;
  socket: string;
  proc: JsonProc;
  pid: number;
  /** Memory of the target after a full GC (ts: heap figures and active resources too). */
  stats(gc?: boolean): Promise<Stats>;
  /** SIGKILL. */
  kill(): Promise<void>;
}

/** What proc/server.ts reports on `stats`. */
export interface Stats {
  rss: number;
  heapUsed?: number;
  external?: number;
  arrayBuffers?: number;
  /** process.getActiveResourcesInfo() counted by kind. */
  resources?: Record<string, number>;
  /** Handlers of the Stress service still running. */
  handlers?: number;
}

/** The Go peer binary, or undefined when it is not built. */
export function goPeer(): string | undefined {
  const bin = peerPath();
  return existsSync(bin) ? bin : undefined;
}

/** A temp dir with a short path (socket paths stay under 108 bytes). */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-st-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

let counter = 0;
/**
 * Starts a target serving the interop services on a fresh socket in dir. `options` are passed to
 * our createServer as they are (the engine's limits: see bounds.ts); the Go peer takes none.
 */
export async function startTarget(
  kind: TargetKind,
  dir: string,
  options: Record<string, unknown> = {},
): Promise<Target> {
  counter += 1;
  const socket = join(dir, `${kind}${counter}.sock`);
  let proc: JsonProc;
  if (kind === "go") {
    const bin = goPeer();
    if (bin === undefined) throw new Error("the Go peer is not built: run scripts/interop-peer.sh");
    proc = new JsonProc(bin, ["serve", "--socket", socket, "--events=false"]);
  } else {
    proc = new JsonProc(
      process.execPath,
      tsArgs("proc/server.ts", [socket, JSON.stringify(options)]),
    );
  }
  const ready = await proc.waitFor((l) => l.ready === true, 60_000);
  if (ready === undefined)
    throw new Error(`target ${kind} did not start: ${proc.stderr.slice(-2000)}`);
  return {
    kind,
    socket,
    proc,
    pid: proc.pid,
    async stats(gc = true) {
      if (kind === "go" || !proc.alive) return { rss: rssOf(proc.pid).rss };
      return (await proc.command({ cmd: "stats", gc })) as unknown as Stats;
    },
    kill: () => proc.kill(),
  };
}

/** Starts our client as a child process (proc/client.ts); it takes JSON commands on stdin. */
export async function startClient(options: Record<string, unknown> = {}): Promise<JsonProc> {
  const proc = new JsonProc(process.execPath, tsArgs("proc/client.ts", [JSON.stringify(options)]));
  const ready = await proc.waitFor((l) => l.ready === true, 60_000);
  if (ready === undefined) throw new Error(`client did not start: ${proc.stderr.slice(-2000)}`);
  return proc;
}

/** MiB with one decimal. */
export function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}
