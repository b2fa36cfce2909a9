// Starts Debian's containerd-shim-runc-v2 the way containerd does, without containerd:
//
//   cwd = the bundle (its `start` reads config.json), a `log` FIFO in the bundle with a reader
//   (without one the re-executed server dies at once), stdin at EOF (it reads runtime options
//   from stdin), and TTRPC_ADDRESS = where it publishes events (Events/Forward).
//
// `start` re-executes the binary as the real server, prints `unix:///run/containerd/s/<sha256>`
// and exits; the server keeps running until Shutdown.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mkfifo, readFifo, socketPathOf } from "./util.js";

export interface RealShimOptions {
  /** Path of containerd-shim-runc-v2. */
  binary: string;
  /** The bundle directory; must contain config.json. */
  bundle: string;
  namespace: string;
  id: string;
  /** containerd's gRPC address: the shim hashes it into its socket path; it need not exist. */
  containerdAddress: string;
  /** Where the shim publishes its events (TTRPC_ADDRESS): containerd's ttrpc socket, or ours. */
  ttrpcAddress: string;
  /** Receives what the shim writes to its `log` FIFO. */
  onLog?: (text: string) => void;
}

export interface RealShim {
  /** `unix:///run/containerd/s/<sha256>` as printed by `start`. */
  address: string;
  /** The socket path to connect to. */
  socketPath: string;
  /** The pid of the shim's server process (from `<bundle>/shim.pid`), or undefined. */
  pid(): number | undefined;
  /** Stops reading the log FIFO. */
  closeLog(): void;
}

export async function startRealShim(options: RealShimOptions): Promise<RealShim> {
  const logFifo = join(options.bundle, "log");
  await mkfifo(logFifo);
  const logReader = readFifo(logFifo, options.onLog ?? (() => {}));
  try {
    const args = [
      "-namespace",
      options.namespace,
      "-id",
      options.id,
      "-address",
      options.containerdAddress,
      "-publish-binary",
      "/usr/bin/containerd",
      "start",
    ];
    const child = spawn(options.binary, args, {
      cwd: options.bundle,
      env: { ...process.env, TTRPC_ADDRESS: options.ttrpcAddress },
      stdio: ["ignore", "pipe", "pipe"], // "ignore" is /dev/null: stdin at EOF at once
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", resolve);
    });
    const address = stdout.trim();
    if (code !== 0 || !address.startsWith("unix://")) {
      throw new Error(`${options.binary} start failed (exit ${code}): ${stderr.trim() || stdout}`);
    }
    return {
      address,
      socketPath: socketPathOf(address),
      pid() {
        try {
          const pid = Number(readFileSync(join(options.bundle, "shim.pid"), "utf8").trim());
          return Number.isInteger(pid) && pid > 0 ? pid : undefined;
        } catch {
          return undefined;
        }
      },
      closeLog: () => logReader.destroy(),
    };
  } catch (err) {
    logReader.destroy();
    throw err;
  }
}
