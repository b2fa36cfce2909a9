// The containerd.task.v2.Task service of our TypeScript shim, delegating to runc.
//
// Design (honest about what Node can and cannot do):
// - A Go shim runs `runc create` + `runc start` and becomes the container's parent by being a
//   child subreaper (prctl PR_SET_CHILD_SUBREAPER), so it can wait(2) for the container's init.
//   Node cannot call prctl, so this shim starts the container with `runc run` in the foreground
//   at Start: runc stays the container's parent and exits with its exit status (128+n for a
//   signal), which is exactly what Wait must report.
// - Create therefore only validates the bundle, mounts the rootfs mounts and opens the IO; runc
//   does not know the container before Start, and Create answers pid 0 (State says CREATED).
// - The container's stdio are the FIFOs (or file:// URIs) containerd passed in CreateTaskRequest,
//   handed to runc as file descriptors: the container writes straight into ctr's FIFOs.
// - One container (the init process) per shim; no exec processes, no terminal, no checkpoints.
import { type ChildProcess, spawn } from "node:child_process";
import { constants, existsSync, readFileSync } from "node:fs";
import { type FileHandle, mkdir, open, readFile, rm } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Timestamp, timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, TtrpcError } from "../../../src/index.js";
import {
  type Mount,
  type ProcessInfoSchema,
  Status,
  TaskCreateSchema,
  TaskDeleteSchema,
  TaskExitSchema,
  TaskPausedSchema,
  TaskResumedSchema,
  TaskStartSchema,
} from "../api.js";
import { run, waitFor } from "../lib/util.js";
import type { Publisher } from "./publisher.js";

interface Container {
  id: string;
  bundle: string;
  stdin: string;
  stdout: string;
  stderr: string;
  status: Status;
  pid: number;
  exitStatus: number;
  exitedAt: Timestamp | undefined;
  /** The IO the container gets: index 0, 1, 2 = stdin, stdout, stderr (undefined = /dev/null). */
  io: (FileHandle | undefined)[];
  /** Mount points we mounted under the bundle (unmounted on Delete, innermost first). */
  mounted: string[];
  runc: ChildProcess | undefined;
  exited: Promise<void>;
  markExited: (status: number) => void;
}

export interface TaskServiceOptions {
  namespace: string;
  publisher: Publisher;
  log: (line: string) => void;
  /** Called after a Shutdown that found no containers: stop serving and exit. */
  onShutdown: () => void;
  runc?: string;
}

function notFound(what: string): TtrpcError {
  return new TtrpcError(`${what}: not found`, Code.NotFound);
}

/** Opens one IO endpoint: `file://` appends to a file; anything else is a FIFO path (Go's rule). */
async function openIo(uri: string, forReading: boolean): Promise<FileHandle | undefined> {
  if (uri === "") return undefined;
  if (uri.startsWith("file://")) {
    const path = uri.slice("file://".length);
    return open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  }
  if (/^[a-z]+:\/\//.test(uri)) {
    throw new TtrpcError(`IO scheme of ${uri} is not supported by this shim`, Code.Unimplemented);
  }
  // A FIFO: ctr already holds the other end open, so this open returns at once.
  return open(uri, forReading ? constants.O_RDONLY : constants.O_WRONLY);
}

export function createTaskService(options: TaskServiceOptions) {
  const { namespace, publisher, log } = options;
  const runcBin = options.runc ?? "runc";
  const runcRoot = `/run/containerd/runc/${namespace}`;
  const runc = (...args: string[]) =>
    run(runcBin, ["--root", runcRoot, ...args], { timeoutMs: 30_000 });
  const containers = new Map<string, Container>();

  const get = (id: string, execId = ""): Container => {
    if (execId !== "") throw notFound(`process ${execId}`); // no exec processes in this shim
    const c = containers.get(id);
    if (!c) throw notFound(`container ${id}`);
    return c;
  };

  const closeIo = async (c: Container) => {
    const handles = c.io.splice(0, c.io.length);
    await Promise.all(handles.map((h) => h?.close().catch(() => {})));
  };

  const exitInfo = (c: Container) => ({ exitStatus: c.exitStatus, exitedAt: c.exitedAt });

  return {
    async connect(req: { id: string }) {
      const c = containers.get(req.id);
      return { shimPid: process.pid, taskPid: c?.pid ?? 0, version: "ttrpc-ts-shim" };
    },

    async create(req: {
      id: string;
      bundle: string;
      rootfs: Mount[];
      terminal: boolean;
      stdin: string;
      stdout: string;
      stderr: string;
      checkpoint: string;
    }) {
      if (req.id === "") throw new TtrpcError("id must not be empty", Code.InvalidArgument);
      if (containers.has(req.id)) {
        throw new TtrpcError(`container ${req.id}: already exists`, Code.AlreadyExists);
      }
      if (req.terminal)
        throw new TtrpcError("terminal is not supported by this shim", Code.Unimplemented);
      if (req.checkpoint !== "") {
        throw new TtrpcError(
          "checkpoint/restore is not supported by this shim",
          Code.Unimplemented,
        );
      }
      if (!existsSync(join(req.bundle, "config.json"))) {
        throw new TtrpcError(`${req.bundle}/config.json: not found`, Code.NotFound);
      }
      const mounted: string[] = [];
      const io: (FileHandle | undefined)[] = [];
      try {
        // rootfs mounts (a snapshot) go onto <bundle>/rootfs, as config.json's root.path expects.
        for (const m of req.rootfs) {
          const target = join(req.bundle, "rootfs");
          await mkdir(target, { recursive: true });
          const args = ["-t", m.type || "none"];
          if (m.options.length > 0) args.push("-o", m.options.join(","));
          await run("mount", [...args, m.source, target]);
          mounted.push(target);
        }
        io.push(await openIo(req.stdin, true));
        io.push(await openIo(req.stdout, false));
        io.push(await openIo(req.stderr, false));
      } catch (err) {
        await Promise.all(io.map((h) => h?.close().catch(() => {})));
        for (const target of mounted.reverse()) await run("umount", [target]).catch(() => {});
        throw err;
      }
      let markExited!: (status: number) => void;
      const c: Container = {
        id: req.id,
        bundle: req.bundle,
        stdin: req.stdin,
        stdout: req.stdout,
        stderr: req.stderr,
        status: Status.CREATED,
        pid: 0,
        exitStatus: 0,
        exitedAt: undefined,
        io,
        mounted,
        runc: undefined,
        exited: new Promise<void>((resolve) => {
          markExited = (status) => {
            if (c.status === Status.STOPPED) return;
            c.status = Status.STOPPED;
            c.exitStatus = status;
            c.exitedAt = timestampNow();
            log(`container ${c.id} exited with ${status}`);
            publisher.publish("/tasks/exit", TaskExitSchema, {
              containerId: c.id,
              id: c.id,
              pid: c.pid,
              exitStatus: status,
              exitedAt: c.exitedAt,
            });
            resolve();
          };
        }),
        markExited: (status) => markExited(status),
      };
      containers.set(req.id, c);
      log(`created ${req.id} (bundle ${req.bundle})`);
      publisher.publish("/tasks/create", TaskCreateSchema, {
        containerId: req.id,
        bundle: req.bundle,
        rootfs: req.rootfs,
        io: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
        pid: 0,
      });
      return { pid: 0 };
    },

    async start(req: { id: string; execId: string }) {
      const c = get(req.id, req.execId);
      if (c.status !== Status.CREATED) {
        throw new TtrpcError(
          `container ${c.id} is not in the created state`,
          Code.FailedPrecondition,
        );
      }
      const pidFile = join(c.bundle, "init.pid");
      const runcLog = join(c.bundle, "runc.log");
      await rm(pidFile, { force: true });
      const child = spawn(
        runcBin,
        [
          "--root",
          runcRoot,
          "--log",
          runcLog,
          "--log-format",
          "json",
          "run",
          "--bundle",
          c.bundle,
          "--pid-file",
          pidFile,
          c.id,
        ],
        { cwd: c.bundle, stdio: c.io.map((h) => h?.fd ?? "ignore") },
      );
      c.runc = child;
      let exitedEarly = false;
      child.once("exit", (code, signal) => {
        exitedEarly = true;
        const status = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
        c.markExited(status);
      });
      child.once("error", (err) => {
        log(`runc failed to start: ${err.message}`);
        exitedEarly = true;
        c.markExited(255);
      });
      // The container (and runc) hold the IO now; our copies would keep ctr from seeing EOF.
      await closeIo(c);
      await waitFor("runc's pid file", () => existsSync(pidFile) || exitedEarly, {
        timeoutMs: 30_000,
      });
      if (!existsSync(pidFile)) {
        const detail = await readFile(runcLog, "utf8").catch(() => "");
        const last = detail.trim().split("\n").pop() ?? "";
        let msg = last;
        try {
          msg = (JSON.parse(last) as { msg?: string }).msg ?? last;
        } catch {}
        throw new TtrpcError(`runc run failed: ${msg || "no pid"}`, Code.Unknown);
      }
      c.pid = Number(readFileSync(pidFile, "utf8").trim());
      if (c.status === Status.CREATED) c.status = Status.RUNNING;
      log(`started ${c.id}: pid ${c.pid}`);
      publisher.publish("/tasks/start", TaskStartSchema, { containerId: c.id, pid: c.pid });
      return { pid: c.pid };
    },

    async state(req: { id: string; execId: string }) {
      const c = get(req.id, req.execId);
      return {
        id: c.id,
        bundle: c.bundle,
        pid: c.pid,
        status: c.status,
        stdin: c.stdin,
        stdout: c.stdout,
        stderr: c.stderr,
        terminal: false,
        ...exitInfo(c),
      };
    },

    async pids(req: { id: string }) {
      const c = get(req.id);
      let pids: number[] = c.pid > 0 && c.status !== Status.STOPPED ? [c.pid] : [];
      if (c.status === Status.RUNNING || c.status === Status.PAUSED) {
        try {
          pids = JSON.parse((await runc("ps", "--format", "json", c.id)).stdout) as number[];
        } catch {}
      }
      const processes: MessageInitShape<typeof ProcessInfoSchema>[] = pids.map((pid) => ({ pid }));
      return { processes };
    },

    async kill(req: { id: string; execId: string; signal: number; all: boolean }) {
      const c = get(req.id, req.execId);
      if (c.status === Status.STOPPED) throw notFound("process already finished");
      if (c.status === Status.CREATED) {
        // Nothing runs before Start: the process "dies" of the signal right away.
        if (req.signal !== 0) {
          await closeIo(c);
          c.markExited(128 + req.signal);
        }
        return {};
      }
      const args = ["kill"];
      if (req.all) args.push("--all");
      args.push(c.id, String(req.signal));
      try {
        await runc(...args);
      } catch (err) {
        if (c.status === Status.STOPPED) throw notFound("process already finished");
        throw new TtrpcError(`runc kill: ${String(err)}`, Code.Unknown);
      }
      return {};
    },

    async wait(req: { id: string; execId: string }) {
      const c = get(req.id, req.execId);
      await c.exited;
      return exitInfo(c);
    },

    async delete(req: { id: string; execId: string }) {
      const c = get(req.id, req.execId);
      if (c.status === Status.RUNNING || c.status === Status.PAUSED) {
        throw new TtrpcError("cannot delete a running process", Code.FailedPrecondition);
      }
      if (c.status === Status.CREATED) c.markExited(0);
      // `runc run` removes the container when it exits; -f covers a runc that was killed itself.
      await runc("delete", "-f", c.id).catch(() => {});
      await closeIo(c);
      for (const target of c.mounted.reverse()) await run("umount", [target]).catch(() => {});
      containers.delete(c.id);
      log(`deleted ${c.id}`);
      publisher.publish("/tasks/delete", TaskDeleteSchema, {
        containerId: c.id,
        id: c.id,
        pid: c.pid,
        ...exitInfo(c),
      });
      return { pid: c.pid, ...exitInfo(c) };
    },

    async pause(req: { id: string }) {
      const c = get(req.id);
      if (c.status !== Status.RUNNING) {
        throw new TtrpcError(`container ${c.id} is not running`, Code.FailedPrecondition);
      }
      await runc("pause", c.id);
      c.status = Status.PAUSED;
      publisher.publish("/tasks/paused", TaskPausedSchema, { containerId: c.id });
      return {};
    },

    async resume(req: { id: string }) {
      const c = get(req.id);
      if (c.status !== Status.PAUSED) {
        throw new TtrpcError(`container ${c.id} is not paused`, Code.FailedPrecondition);
      }
      await runc("resume", c.id);
      c.status = Status.RUNNING;
      publisher.publish("/tasks/resumed", TaskResumedSchema, { containerId: c.id });
      return {};
    },

    async closeIO(req: { id: string; execId: string; stdin: boolean }) {
      const c = get(req.id, req.execId);
      if (req.stdin) {
        const stdin = c.io[0];
        c.io[0] = undefined;
        await stdin?.close().catch(() => {});
      }
      return {};
    },

    async shutdown() {
      // Go's rule: a shim that still has containers keeps running.
      if (containers.size === 0) setImmediate(options.onShutdown);
      return {};
    },
  };
}
