// Test harness for the containerd integration tests: prerequisites, private containerd daemons,
// ctr runs, and clean-up of every process (by pid) and every runc container, even on failure.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cachePaths } from "../../examples/containerd/lib/bundle.js";
import { type Containerd, startContainerd } from "../../examples/containerd/lib/containerd.js";
import { isAlive, killPid, shimSocketPath } from "../../examples/containerd/lib/util.js";

export const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const OUR_SHIM = join(REPO, "examples/containerd/shim/ttrpc-ts-shim");

export interface Flavour {
  name: "1.6" | "1.7";
  binDir: string;
}

export function flavours(): Flavour[] {
  return [
    { name: "1.6", binDir: "/usr/bin" },
    { name: "1.7", binDir: cachePaths().containerd17Bin },
  ];
}

/** What is missing to run the containerd tests; empty when everything is there. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root");
  for (const f of flavours()) {
    for (const bin of ["containerd", "ctr", "containerd-shim-runc-v2"]) {
      if (!existsSync(join(f.binDir, bin)))
        missing.push(`${f.binDir}/${bin} (containerd ${f.name})`);
    }
  }
  if (!existsSync("/usr/bin/runc") && !existsSync("/usr/sbin/runc")) missing.push("runc");
  const rootfs = cachePaths().rootfs;
  if (!existsSync(join(rootfs, "bin/busybox"))) missing.push(`busybox rootfs ${rootfs}`);
  return missing;
}

// ---------------------------------------------------------------- clean-up registry

const pids = new Set<number>();
const namespaces = new Set<string>();
const dirs = new Set<string>();

export function trackPid(pid: number | undefined): void {
  if (pid !== undefined) pids.add(pid);
}
export function untrackPid(pid: number | undefined): void {
  if (pid !== undefined) pids.delete(pid);
}

/** A containerd namespace unique to this run; its shims and runc containers are cleaned up. */
export function namespace(tag: string): string {
  const ns = `ttrpc-ts-${process.pid}-${tag}`;
  namespaces.add(ns);
  return ns;
}

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** A shim's flags (`-name value` or `-name=value`) from its command line. */
function shimFlags(pid: number): Map<string, string> {
  const flags = new Map<string, string>();
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    for (let i = 0; i < args.length; i++) {
      const m = /^-([a-z-]+)(?:=(.*))?$/.exec(args[i] ?? "");
      if (!m?.[1]) continue;
      flags.set(m[1], m[2] ?? args[++i] ?? "");
    }
  } catch {}
  return flags;
}

/** Pids of processes whose command line says `-namespace <ns>` (the shims of that namespace). */
export function shimPidsOf(ns: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (shimFlags(Number(entry)).get("namespace") === ns) found.push(Number(entry));
  }
  return found;
}

/** runc containers left in a namespace's runc root. */
export function runcContainersOf(ns: string): string[] {
  const root = `/run/containerd/runc/${ns}`;
  if (!existsSync(root)) return [];
  try {
    const out = execFileSync("runc", ["--root", root, "list", "-q"], { encoding: "utf8" });
    return out.split("\n").filter((l) => l.trim() !== "");
  } catch {
    return [];
  }
}

/**
 * Removes everything the tests started: runc containers of our namespaces (runc delete -f),
 * their shims, tracked processes (containerd, ctr), mounts under our temp dirs, the temp dirs.
 * Synchronous, so it also works from a process 'exit' handler.
 */
export function cleanupEverything(): void {
  for (const ns of namespaces) {
    const root = `/run/containerd/runc/${ns}`;
    for (const id of runcContainersOf(ns)) {
      try {
        execFileSync("runc", ["--root", root, "delete", "-f", id], { stdio: "ignore" });
      } catch {}
    }
    for (const pid of shimPidsOf(ns)) {
      // A killed shim leaves its socket behind: remove /run/containerd/s/<sha256> too.
      const flags = shimFlags(pid);
      killPid(pid, "SIGKILL");
      const address = flags.get("address");
      const id = flags.get("id");
      if (address && id) rmSync(shimSocketPath(address, ns, id), { force: true });
    }
    rmSync(root, { recursive: true, force: true });
  }
  for (const pid of pids) killPid(pid, "SIGKILL");
  pids.clear();
  const mounts = readFileSync("/proc/self/mounts", "utf8").split("\n");
  for (const dir of dirs) {
    const inside = mounts
      .map((l) => l.split(" ")[1] ?? "")
      .filter((m) => m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of inside) {
      try {
        execFileSync("umount", ["-l", m], { stdio: "ignore" });
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  }
  dirs.clear();
}

process.once("exit", cleanupEverything);

// ---------------------------------------------------------------- daemons and ctr

export async function startDaemon(flavour: Flavour): Promise<Containerd> {
  const dir = await tempDir(`ttrpc-ctd${flavour.name.replace(".", "")}-`);
  const ctd = await startContainerd({ dir, binDir: flavour.binDir });
  trackPid(ctd.pid);
  return ctd;
}

export async function stopDaemon(ctd: Containerd | undefined): Promise<void> {
  if (!ctd) return;
  await ctd.stop();
  untrackPid(ctd.pid);
}

export interface CtrResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs this version's ctr against the daemon. stdin is /dev/null unless `input` is given. A ctr
 * still running after `timeoutMs` is killed (by pid) and the promise rejects.
 */
export function ctr(
  ctd: Containerd,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CtrResult> {
  const { file, args: full, env } = ctd.ctrArgs(...args);
  const child = spawn(file, full, {
    env,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  trackPid(child.pid);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killPid(child.pid as number, "SIGKILL");
      reject(new Error(`ctr ${args.join(" ")} did not finish: ${stdout} ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      untrackPid(child.pid);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `ctr events` subscriber; `lines` grows as events arrive. */
export interface EventWatcher {
  lines: string[];
  stop(): void;
}

export function watchEvents(ctd: Containerd): EventWatcher {
  const { file, args, env } = ctd.ctrArgs("events");
  const child: ChildProcess = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  trackPid(child.pid);
  const lines: string[] = [];
  let partial = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    partial += d;
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  return {
    lines,
    stop() {
      if (child.pid !== undefined && isAlive(child.pid)) killPid(child.pid, "SIGKILL");
      untrackPid(child.pid);
    },
  };
}
