// Drives Debian's real containerd-shim-runc-v2 with our ttrpc client, the way containerd does,
// through a busybox container's whole life:
//
//   Connect → Create → Start → State (RUNNING) → Pids → Wait (blocks) ‖ Kill → Delete → Shutdown
//
// No containerd daemon is involved: the shim's event publisher (TTRPC_ADDRESS) points at our own
// events server (events-server.ts), which prints /tasks/create, /tasks/start, /tasks/exit and
// /tasks/delete as they arrive.
//
//   sudo scripts/containerd-setup.sh
//   sudo node_modules/.bin/tsx examples/containerd/drive-shim.ts                       # containerd 1.6's shim
//   sudo node_modules/.bin/tsx examples/containerd/drive-shim.ts \
//        --shim ~/.cache/ttrpc-ts/containerd17/usr/bin/containerd-shim-runc-v2        # 1.7's shim
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Status, Task } from "@ttrpc/containerd";
import { connect, createClient } from "ttrpc";
import { type ForwardedEvent, formatEvent, startEventsServer } from "./events-server.js";
import { cachePaths, createBundle } from "./lib/bundle.js";
import { startRealShim } from "./lib/real-shim.js";
import { isAlive, killPid, run, waitFor } from "./lib/util.js";

export interface DriveOptions {
  /** containerd-shim-runc-v2 to drive. */
  shim: string;
  rootfs: string;
  namespace: string;
  id: string;
  /** Step-by-step output; silent when absent. */
  log?: (line: string) => void;
}

export interface DriveResult {
  shimPid: number;
  createPid: number;
  startPid: number;
  /** The status State reported while the container ran (Status.RUNNING = 2). */
  runningStatus: Status;
  /** exited_at of that State: Go's zero time (seconds = -62135596800, a 10-byte negative varint). */
  runningExitedAt: Timestamp | undefined;
  pids: number[];
  /** True if Wait was still pending when State and Pids had answered. */
  waitBlocked: boolean;
  waitExitStatus: number;
  deleteExitStatus: number;
  deletePid: number;
  /** What the container wrote to its stdout (a file:// IO URI). */
  stdout: string;
  /** The events the shim published to our server. */
  events: ForwardedEvent[];
}

const statusName = (s: number) => Object.entries(Status).find(([, v]) => v === s)?.[0] ?? String(s);
const fmtTs = (t: Timestamp | undefined) =>
  t ? `{seconds: ${t.seconds}, nanos: ${t.nanos}}` : "unset";

export async function driveShim(options: DriveOptions): Promise<DriveResult> {
  const log = options.log ?? (() => {});
  const { namespace, id } = options;
  const work = await mkdtemp(join(tmpdir(), "ttrpc-ts-drive-"));
  const bundle = join(work, "bundle");
  const runcRoot = `/run/containerd/runc/${namespace}`;
  let shimPid: number | undefined;
  let shim: Awaited<ReturnType<typeof startRealShim>> | undefined;
  const events = await startEventsServer(join(work, "events.sock"), (e) =>
    log(`  event: ${formatEvent(e)}`),
  );
  try {
    await createBundle({
      dir: bundle,
      rootfs: options.rootfs,
      args: [
        "/bin/sh",
        "-c",
        "echo hello from a busybox container driven over ttrpc; exec sleep 600",
      ],
      cgroupsPath: `/${namespace}/${id}`,
    });
    shim = await startRealShim({
      binary: options.shim,
      bundle,
      namespace,
      id,
      containerdAddress: join(work, "no-containerd.sock"),
      ttrpcAddress: join(work, "events.sock"),
    });
    log(`shim started: ${shim.address}`);
    const conn = await connect(shim.socketPath);
    const task = createClient(Task, conn);
    try {
      const connected = await task.connect({ id });
      shimPid = connected.shimPid;
      log(`Connect  → shim_pid=${connected.shimPid} task_pid=${connected.taskPid}`);

      const stdoutPath = join(work, "stdout.txt");
      const created = await task.create({
        id,
        bundle,
        stdout: `file://${stdoutPath}`,
        stderr: `file://${join(work, "stderr.txt")}`, // both or neither: the 1.6 shim panics on one
      });
      log(`Create   → pid=${created.pid}`);
      const started = await task.start({ id });
      log(`Start    → pid=${started.pid}`);
      const state = await task.state({ id });
      log(
        `State    → status=${statusName(state.status)} pid=${state.pid} exited_at=${fmtTs(state.exitedAt)}`,
      );
      const pids = await task.pids({ id });
      log(`Pids     → [${pids.processes.map((p) => p.pid).join(", ")}]`);

      // The container prints its line before it sleeps; kill it only once the line is out (a
      // SIGKILL that lands before `echo` ran would leave stdout empty on a loaded machine).
      await waitFor(
        "the container's first line",
        async () => (await readFile(stdoutPath, "utf8").catch(() => "")).includes("\n"),
        { timeoutMs: 10_000 },
      ).catch(() => {});
      // Wait blocks until the container exits; Kill goes out on the same connection meanwhile.
      let waitSettled = false;
      const waiting = task.wait({ id }).finally(() => {
        waitSettled = true;
      });
      log("Wait     … (pending)");
      const stillRunning = await task.state({ id });
      const waitBlocked = !waitSettled && stillRunning.status === Status.RUNNING;
      await task.kill({ id, signal: 9 });
      log("Kill     → signal 9 sent");
      const waited = await waiting;
      log(`Wait     → exit_status=${waited.exitStatus} exited_at=${fmtTs(waited.exitedAt)}`);
      const deleted = await task.delete({ id });
      log(`Delete   → pid=${deleted.pid} exit_status=${deleted.exitStatus}`);
      await task.shutdown({ id });
      log("Shutdown → ok");
      const stdout = await readFile(stdoutPath, "utf8").catch(() => "");
      log(`container stdout: ${JSON.stringify(stdout)}`);
      // The shim publishes asynchronously; /tasks/delete is the last of the four.
      await waitFor("the /tasks/delete event", () =>
        events.events.some((e) => e.topic === "/tasks/delete"),
      ).catch(() => {});
      return {
        shimPid: connected.shimPid,
        createPid: created.pid,
        startPid: started.pid,
        runningStatus: state.status,
        runningExitedAt: state.exitedAt,
        pids: pids.processes.map((p) => p.pid),
        waitBlocked,
        waitExitStatus: waited.exitStatus,
        deleteExitStatus: deleted.exitStatus,
        deletePid: deleted.pid,
        stdout,
        events: [...events.events],
      };
    } finally {
      await conn.close();
    }
  } finally {
    // Whatever happened: no container, no shim, no socket, no files left behind.
    await run("runc", ["--root", runcRoot, "delete", "-f", id]).catch(() => {});
    if (shimPid !== undefined && isAlive(shimPid)) killPid(shimPid);
    shim?.closeLog();
    await events.close();
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      shim: { type: "string", default: "/usr/bin/containerd-shim-runc-v2" },
      rootfs: { type: "string", default: cachePaths().rootfs },
      namespace: { type: "string", default: "ttrpc-ts-demo" },
      id: { type: "string", default: `drive-${process.pid}` },
    },
  });
  const result = await driveShim({
    shim: values.shim,
    rootfs: values.rootfs,
    namespace: values.namespace,
    id: values.id,
    log: (line) => console.log(line),
  });
  console.log(
    `done: the container exited with ${result.waitExitStatus}; ${result.events.length} events received`,
  );
}
