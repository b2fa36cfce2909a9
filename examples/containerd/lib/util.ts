// Small process and file helpers shared by the containerd examples and their tests.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { constants, existsSync, openSync, readFileSync } from "node:fs";
import { Socket } from "node:net";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

/** Runs a program to completion; resolves with its output, rejects (with stdout/stderr) on failure. */
export async function run(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await execFileP(file, args, {
    cwd: options.cwd,
    env: options.env,
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 16 << 20,
    encoding: "utf8",
  });
  return { stdout, stderr };
}

/** mkfifo(1): Node has no mkfifo of its own. */
export async function mkfifo(path: string, mode = "0600"): Promise<void> {
  await run("mkfifo", ["-m", mode, path]);
}

/**
 * Opens a FIFO for reading without blocking and streams what arrives. The FIFO is opened
 * read-write, so the open never waits for a writer and a writer that comes and goes does not end
 * the stream; call `destroy()` on the returned socket when done.
 */
export function readFifo(path: string, onData: (chunk: string) => void): Socket {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const socket = new Socket({ fd, readable: true, writable: false });
  socket.setEncoding("utf8");
  socket.on("data", onData);
  socket.on("error", () => {});
  return socket;
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

/** Resolves once `path` exists. */
export function waitForPath(path: string, timeoutMs?: number): Promise<true> {
  return waitFor(path, () => existsSync(path), { timeoutMs });
}

/** True while a process with this pid exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie still answers kill(0); /proc tells them apart.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Sends a signal, ignoring "no such process". */
export function killPid(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {}
}

/**
 * The socket a runtime v2 shim listens on, as containerd's shim package computes it:
 * /run/containerd/s/<sha256(containerdAddress/namespace/id)>. `ctr shim` dials the same path.
 */
export function shimSocketPath(containerdAddress: string, namespace: string, id: string): string {
  const digest = createHash("sha256")
    .update(`${containerdAddress}/${namespace}/${id}`.replace(/\/+/g, "/"))
    .digest("hex");
  return `/run/containerd/s/${digest}`;
}

/** Strips the unix:// scheme from a ttrpc address. */
export function socketPathOf(address: string): string {
  return address.startsWith("unix://") ? address.slice("unix://".length) : address;
}
