// Child-process plumbing for the orchestrator: line-oriented children, RSS from /proc, cleanup by pid.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const live = new Set<ChildProcess>();

function killAll(): void {
  for (const c of live) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** A child process whose stdout is read as lines. */
export class LineProc {
  readonly child: ChildProcess;
  readonly spawnedAt: number;
  private lines: string[] = [];
  private waiters: ((line: string | null) => void)[] = [];
  private ended = false;
  private stderrTail = "";
  readonly exited: Promise<number | null>;

  constructor(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.spawnedAt = performance.now();
    this.child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code) => {
        live.delete(this.child);
        resolve(code);
      });
      this.child.once("error", (e) => {
        this.stderrTail += String(e);
        live.delete(this.child);
        resolve(null);
      });
    });
    const rl = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    rl.on("line", (line) => {
      const w = this.waiters.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
    rl.on("close", () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
    this.child.stderr?.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    this.child.stdin?.on("error", () => {});
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  /** The next stdout line; rejects on timeout or when the child's stdout ends. */
  nextLine(timeoutMs: number): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended)
      return Promise.reject(new Error(`process exited; stderr: ${this.stderrTail.trim()}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timeout after ${timeoutMs} ms; stderr: ${this.stderrTail.trim()}`));
      }, timeoutMs);
      const waiter = (line: string | null): void => {
        clearTimeout(timer);
        if (line === null) reject(new Error(`process exited; stderr: ${this.stderrTail.trim()}`));
        else resolve(line);
      };
      this.waiters.push(waiter);
    });
  }

  /** The next stdout line that parses as a JSON object (other lines are skipped). */
  async nextJson(timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = await this.nextLine(Math.max(1, deadline - performance.now()));
      try {
        const v = JSON.parse(line) as unknown;
        if (v !== null && typeof v === "object") return v as Record<string, unknown>;
      } catch {
        // not JSON: skip
      }
    }
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(this.pid, "SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, "SIGKILL");
      } catch {
        // gone
      }
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Resident set size of a process in bytes (VmRSS from /proc), or NaN if unreadable. */
export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m?.[1] !== undefined ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Runs a process to completion, collecting stdout. */
export function runToEnd(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8000);
    });
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            if (child.pid !== undefined) {
              try {
                process.kill(child.pid, "SIGKILL");
              } catch {
                // gone
              }
            }
          }, opts.timeoutMs)
        : undefined;
    const done = (code: number | null): void => {
      if (timer) clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    };
    child.once("close", (code) => done(code));
    child.once("error", (e) => {
      stderr += String(e);
      done(null);
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
