// Starts a containerd daemon with a private configuration: root, state, both sockets and the log
// all live under one directory, so several daemons (1.6 and 1.7) can run side by side.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isAlive, killPid, waitFor } from "./util.js";

export interface Containerd {
  /** The directory everything lives in. */
  dir: string;
  /** The gRPC socket (`ctr -a`). */
  address: string;
  /** The ttrpc socket (containerd.services.events.ttrpc.v1.Events). */
  ttrpcAddress: string;
  /** Where containerd, ctr and containerd-shim-runc-v2 of this version are. */
  binDir: string;
  /** The state directory; runtime v2 bundles are under `<state>/io.containerd.runtime.v2.task/<ns>/<id>`. */
  state: string;
  pid: number;
  version: string;
  /** The environment to run this version's `ctr` (and shims) with: its bin dir first on PATH. */
  env: NodeJS.ProcessEnv;
  /** The daemon's log so far. */
  log(): Promise<string>;
  /** Runs `ctr -a <address> <args>` with this version's ctr. */
  ctrArgs(...args: string[]): { file: string; args: string[]; env: NodeJS.ProcessEnv };
  /** SIGTERM, then SIGKILL if it lingers. */
  stop(): Promise<void>;
}

export async function startContainerd(options: {
  dir: string;
  binDir: string;
  extraEnv?: NodeJS.ProcessEnv;
}): Promise<Containerd> {
  const { dir, binDir } = options;
  const root = join(dir, "root");
  const state = join(dir, "state");
  const address = join(dir, "containerd.sock");
  const ttrpcAddress = join(dir, "containerd.sock.ttrpc");
  await mkdir(dir, { recursive: true });
  const config = [
    "version = 2",
    `root = ${JSON.stringify(root)}`,
    `state = ${JSON.stringify(state)}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "[grpc]",
    `  address = ${JSON.stringify(address)}`,
    "[ttrpc]",
    `  address = ${JSON.stringify(ttrpcAddress)}`,
    "",
  ].join("\n");
  const configPath = join(dir, "config.toml");
  await writeFile(configPath, config);
  const logPath = join(dir, "containerd.log");
  const logStream = createWriteStream(logPath);
  await new Promise((resolve) => logStream.once("open", resolve));
  // containerd finds its shims on PATH: this version's bin dir comes first.
  const env = { ...process.env, ...options.extraEnv, PATH: `${binDir}:${process.env.PATH ?? ""}` };
  const child: ChildProcess = spawn(join(binDir, "containerd"), ["--config", configPath], {
    env,
    stdio: ["ignore", logStream, logStream],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("containerd did not start");
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const log = () => readFile(logPath, "utf8");
  try {
    await waitFor(
      "containerd to serve",
      async () => {
        if (exited) throw new Error(`containerd exited early:\n${await log()}`);
        return (await log()).includes("containerd successfully booted");
      },
      { timeoutMs: 30_000 },
    );
  } catch (err) {
    killPid(pid);
    throw err;
  }
  const version = (await log()).match(/version="?([^"\s]+)/)?.[1] ?? "unknown";
  return {
    dir,
    address,
    ttrpcAddress,
    binDir,
    state,
    pid,
    version,
    env,
    log,
    ctrArgs: (...args) => ({ file: join(binDir, "ctr"), args: ["-a", address, ...args], env }),
    async stop() {
      if (!exited) killPid(pid, "SIGTERM");
      try {
        await waitFor("containerd to exit", () => exited || !isAlive(pid), { timeoutMs: 10_000 });
      } catch {
        killPid(pid, "SIGKILL");
      }
      logStream.end();
    },
  };
}
