// ttrpc-ts-shim: a containerd runtime v2 shim written in TypeScript on our ttrpc server.
//
// containerd runs `<shim> -namespace NS -address A -publish-binary B -id ID start` with the bundle
// as cwd and the runtime options on stdin. `start` must leave a server running, print its address
// and exit; containerd then speaks containerd.task.v2.Task over ttrpc to that address, and
// `<shim> … -id ID delete` is its clean-up path when a shim is gone. The Task service itself is in
// task.ts (it delegates to runc).
//
//   ctr run --rm --runtime /abs/path/examples/containerd/shim/ttrpc-ts-shim --rootfs DIR ID CMD…
import { spawn } from "node:child_process";
import { closeSync, constants, openSync, writeFileSync, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { DeleteResponseSchema, Task } from "@ttrpc/containerd";
import { createServer } from "ttrpc";
import { run, shimSocketPath } from "../lib/util.js";
import { Publisher } from "./publisher.js";
import { createTaskService, releasePendingFifoOpens } from "./task.js";

interface ShimArgs {
  namespace: string;
  id: string;
  address: string;
  publishBinary: string;
  bundle: string;
  debug: boolean;
  action: string;
  /** The arguments as given, minus the action (passed on to the server process). */
  flags: string[];
}

function parseArgs(argv: readonly string[]): ShimArgs {
  const out: ShimArgs = {
    namespace: "",
    id: "",
    address: "",
    publishBinary: "",
    bundle: "",
    debug: false,
    action: "",
    flags: [],
  };
  const booleans = new Set(["debug", "v"]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("-")) {
      out.action = arg;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.replace(/^-+/, "").split("=")[0] as string;
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (booleans.has(name)) value = "true";
    else value = argv[++i] ?? "";
    out.flags.push(`-${name}=${value}`);
    if (name === "namespace") out.namespace = value;
    else if (name === "id") out.id = value;
    else if (name === "address") out.address = value;
    else if (name === "publish-binary") out.publishBinary = value;
    else if (name === "bundle") out.bundle = value;
    else if (name === "debug") out.debug = value !== "false";
  }
  return out;
}

/** logrus-style lines: containerd copies the shim's log FIFO into its own log. */
function logger(args: ShimArgs) {
  return (msg: string) =>
    process.stderr.write(
      `time="${new Date().toISOString()}" level=info msg=${JSON.stringify(msg)} namespace=${args.namespace} id=${args.id} runtime=ttrpc-ts-shim\n`,
    );
}

async function readStdin(): Promise<void> {
  // containerd writes the runtime options (a protobuf Any) to stdin; this shim has none to honour.
  if (process.stdin.isTTY) return;
  for await (const _ of process.stdin) {
  }
}

/** `start`: spawn the server process, wait until it listens, print its address, exit. */
async function start(args: ShimArgs): Promise<void> {
  await readStdin();
  const bundle = process.cwd();
  const socket = shimSocketPath(args.address, args.namespace, args.id);
  await mkdir(dirname(socket), { recursive: true });
  // The server's stdout/stderr go to the `log` FIFO containerd reads from, else to a file.
  let logFd: number;
  try {
    logFd = openSync(join(bundle, "log"), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    logFd = openSync(join(bundle, "shim.log"), "a");
  }
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, script, ...args.flags, "serve"], {
    cwd: bundle,
    detached: true, // its own session: containerd's process group and signals do not reach it
    stdio: ["ignore", logFd, logFd, "pipe"],
    env: { ...process.env, TTRPC_TS_SHIM_SOCKET: socket },
  });
  closeSync(logFd);
  const ready = child.stdio[3] as Readable | null;
  if (!ready) throw new Error("no readiness pipe");
  const outcome = await new Promise<string>((resolve) => {
    let text = "";
    ready.setEncoding("utf8");
    ready.on("data", (d: string) => {
      text += d;
      if (text.includes("\n")) resolve(text.trim());
    });
    child.once("exit", (code) => resolve(`exited with ${code}`));
    child.once("error", (err) => resolve(`failed: ${err.message}`));
  });
  if (outcome !== "ready") {
    process.stderr.write(`ttrpc-ts-shim: server did not start: ${outcome}\n`);
    process.exit(1);
  }
  ready.destroy();
  child.unref();
  const address = `unix://${socket}`;
  writeFileSync(join(bundle, "address"), address);
  writeFileSync(join(bundle, "shim.pid"), String(child.pid));
  process.stdout.write(address);
  process.exit(0);
}

/** `serve` (internal): the long-running ttrpc server. */
async function serve(args: ShimArgs): Promise<void> {
  const log = logger(args);
  const socket =
    process.env.TTRPC_TS_SHIM_SOCKET ?? shimSocketPath(args.address, args.namespace, args.id);
  const publisher = new Publisher(process.env.TTRPC_ADDRESS, args.namespace, log);
  const server = createServer({ onError: (err) => log(`ttrpc: ${String(err)}`) });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`shutting down (${why})`);
    // Whatever hangs (a handler, an event nobody takes), the process is gone within 5 s.
    setTimeout(() => process.exit(0), 5000).unref();
    await Promise.race([publisher.close(), new Promise((r) => setTimeout(r, 2000))]);
    // The Shutdown response has left; containerd closes its connection, which ends the drain.
    await Promise.race([server.shutdown(), new Promise((r) => setTimeout(r, 2000))]);
    releasePendingFifoOpens(); // a thread stuck in open(2) would keep the process from exiting
    process.exit(0);
  };
  server.register(
    Task,
    createTaskService({
      namespace: args.namespace,
      publisher,
      log,
      onShutdown: () => void stop("Shutdown"),
    }),
  );
  await server.listen(socket);
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
  log(`serving containerd.task.v2.Task on ${socket}`);
  try {
    writeSync(3, "ready\n");
    closeSync(3);
  } catch {
    // Not started through `start` (run by hand): nobody waits for readiness.
  }
}

/** `delete`: containerd's clean-up when the shim is gone; prints a DeleteResponse. */
async function deleteAction(args: ShimArgs): Promise<void> {
  const bundle = args.bundle || process.cwd();
  await run("runc", [
    "--root",
    `/run/containerd/runc/${args.namespace}`,
    "delete",
    "-f",
    args.id,
  ]).catch(() => {});
  const response = create(DeleteResponseSchema, { exitStatus: 128 + 9, exitedAt: timestampNow() });
  process.stdout.write(toBinary(DeleteResponseSchema, response));
  logger(args)(`delete action for ${args.id} (bundle ${bundle})`);
}

const args = parseArgs(process.argv.slice(2));
switch (args.action) {
  case "start":
    await start(args);
    break;
  case "serve":
    await serve(args);
    break;
  case "delete":
    await deleteAction(args);
    break;
  default:
    process.stderr.write(
      "usage: ttrpc-ts-shim -namespace NS -id ID -address ADDR [-publish-binary BIN] start|delete\n",
    );
    process.exit(1);
}
