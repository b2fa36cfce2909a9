/**
 * Private containerd daemons with their CRI plugin and NRI enabled: trixie's 1.7.24 (built on nri
 * 0.6.1; unpacked by scripts/containerd-setup.sh; NRI is off by default and starts only with CRI)
 * and sid's 2.1.9 (built on nri 0.8.0; unpacked by scripts/nri-peer.sh). Everything (root, state,
 * sockets, NRI socket, log) lives in one directory.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** One containerd version under test. */
export interface Flavour {
  name: "1.7" | "2.1";
  /** Where its containerd, ctr and shim are. */
  bin: string;
  /** The script that provides it. */
  setup: string;
}

/** The containerd versions the NRI tests run against. */
export function flavours(): Flavour[] {
  const cache = process.env.TTRPC_CACHE || join(homedir(), ".cache", "ttrpc-ts");
  return [
    {
      name: "1.7",
      bin: process.env.TTRPC_CONTAINERD17_BIN || join(cache, "containerd17", "usr", "bin"),
      setup: "scripts/containerd-setup.sh",
    },
    {
      name: "2.1",
      bin: process.env.TTRPC_CONTAINERD21_BIN || join(cache, "containerd21", "usr", "bin"),
      setup: "scripts/nri-peer.sh",
    },
  ];
}

/** What is missing to run `flavour` with NRI here; empty when nothing is. */
export function missing(flavour: Flavour): string[] {
  const out: string[] = [];
  if (process.getuid?.() !== 0) out.push("root");
  if (!existsSync(join(flavour.bin, "containerd"))) {
    out.push(`${join(flavour.bin, "containerd")} (run ${flavour.setup})`);
  }
  if (!existsSync("/usr/bin/runc") && !existsSync("/usr/sbin/runc")) out.push("runc");
  return out;
}

/**
 * The configuration: CRI on (no TCP, no CNI config), NRI on, its socket in `dir`. This machine's
 * root lacks CAP_SYS_RESOURCE, so runc cannot lower a sandbox's oom_score_adj (-998):
 * restrict_oom_score_adj keeps it at containerd's own.
 * @param sandboxImage CRI's sandbox ("pause") image, for tests that run pods
 */
export function writeConfig(dir: string, flavour: Flavour, sandboxImage?: string): string {
  const path = join(dir, "config.toml");
  const common = `root = "${dir}/root"
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
`;
  const cri =
    flavour.name === "1.7"
      ? `[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  restrict_oom_score_adj = true
${sandboxImage ? `  sandbox_image = "${sandboxImage}"\n` : ""}  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${dir}/cni/bin"
    conf_dir = "${dir}/cni/conf"
`
      : `[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["${dir}/cni/bin"]
    conf_dir = "${dir}/cni/conf"
${sandboxImage ? `[plugins."io.containerd.cri.v1.images".pinned_images]\n  sandbox = "${sandboxImage}"\n` : ""}`;
  writeFileSync(path, `version = ${flavour.name === "1.7" ? 2 : 3}\n${common}${cri}`);
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
export async function startDaemon(dir: string, config: string, flavour: Flavour): Promise<Daemon> {
  const logPath = join(dir, "containerd.log");
  const before = existsSync(logPath) ? readFileSync(logPath, "utf8").length : 0;
  const stream = createWriteStream(logPath, { flags: "a" });
  await new Promise((resolve) => stream.once("open", resolve));
  const bin = flavour.bin;
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
