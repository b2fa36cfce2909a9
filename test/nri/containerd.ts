/**
 * A private containerd 1.7 (trixie's, unpacked by scripts/containerd-setup.sh) with its CRI plugin
 * and NRI enabled: NRI starts only with the CRI plugin in 1.7, and is off by default. Everything
 * (root, state, sockets, NRI socket, log) lives in one directory.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where containerd 1.7's binaries are. */
export function containerd17Bin(): string {
  const cache = process.env.TTRPC_CACHE || join(homedir(), ".cache", "ttrpc-ts");
  return process.env.TTRPC_CONTAINERD17_BIN || join(cache, "containerd17", "usr", "bin");
}

/** What is missing to run containerd with NRI here; empty when nothing is. */
export function missing(): string[] {
  const out: string[] = [];
  if (process.getuid?.() !== 0) out.push("root");
  if (!existsSync(join(containerd17Bin(), "containerd"))) {
    out.push(`${join(containerd17Bin(), "containerd")} (run scripts/containerd-setup.sh)`);
  }
  return out;
}

/**
 * The configuration: CRI on (no TCP, no CNI config), NRI on, its socket in `dir`.
 * @param sandboxImage CRI's sandbox ("pause") image, for tests that run pods
 */
export function writeConfig(dir: string, sandboxImage?: string): string {
  const path = join(dir, "config.toml");
  writeFileSync(
    path,
    `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${dir}/containerd.sock"
[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"
[plugins."io.containerd.nri.v1.nri"]
  disable = false
  socket_path = "${dir}/nri.sock"
  plugin_path = "${dir}/plugins"
  plugin_config_path = "${dir}/conf.d"
  plugin_request_timeout = "10s"
[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  # This machine's root lacks CAP_SYS_RESOURCE, so runc cannot lower a sandbox's oom_score_adj
  # (-998): keep it at containerd's own.
  restrict_oom_score_adj = true
${sandboxImage ? `  sandbox_image = "${sandboxImage}"\n` : ""}  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${dir}/cni/bin"
    conf_dir = "${dir}/cni/conf"
`,
  );
  return path;
}

/**
 * Best-effort clean-up after a failed CRI run: deletes the runc containers whose bundle is under
 * `dir`, kills the processes (shims) whose command line mentions it, by pid, and unmounts what is
 * still mounted under it.
 */
export function cleanupDir(dir: string): void {
  // runc containers (CRI's namespace k8s.io) whose bundle is under dir.
  const runcRoot = "/run/containerd/runc/k8s.io";
  const listed = spawnSync("runc", ["--root", runcRoot, "list", "-f", "json"], {
    encoding: "utf8",
  });
  try {
    for (const c of (JSON.parse(listed.stdout || "null") ?? []) as Array<{
      id: string;
      bundle: string;
    }>) {
      if (c.bundle.startsWith(dir)) spawnSync("runc", ["--root", runcRoot, "delete", "-f", c.id]);
    }
  } catch {
    // no runc, or nothing listed
  }
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir))
        process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already
    }
  }
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync("umount", ["-l", m]);
}

/** A running containerd. */
export interface Daemon {
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Starts containerd with `config`, appending its output to `dir`/containerd.log; resolves once booted. */
export async function startDaemon(dir: string, config: string): Promise<Daemon> {
  const logPath = join(dir, "containerd.log");
  const before = existsSync(logPath) ? readFileSync(logPath, "utf8").length : 0;
  const stream = createWriteStream(logPath, { flags: "a" });
  await new Promise((resolve) => stream.once("open", resolve));
  const bin = containerd17Bin();
  const child = spawn(join(bin, "containerd"), ["--config", config], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
    stdio: ["ignore", stream, stream],
  });
  const log = () => readFileSync(logPath, "utf8").slice(before);
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const gone = new Promise((r) => child.once("exit", r));
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    }
    stream.end();
  };
  for (let i = 0; !log().includes("containerd successfully booted"); i++) {
    if (exited || i > 600) {
      await stop();
      throw new Error(`containerd did not boot:\n${log().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, log, stop };
}
