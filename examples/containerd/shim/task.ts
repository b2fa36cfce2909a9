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
// - The container's stdout and stderr are the FIFOs (or file:// URIs) containerd passed in
//   CreateTaskRequest, handed to runc as file descriptors: the container writes straight into
//   ctr's FIFOs. stdin goes through a pipe that this shim feeds from the stdin FIFO.
// - A shim can hold several containers (each is its init process); there are no exec processes,
//   no terminals and no checkpoints.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, constants, existsSync, openSync, type ReadStream, readFileSync } from "node:fs";
import { type FileHandle, mkdir, open, readFile, rm } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Timestamp, timestampNow } from "@bufbuild/protobuf/wkt";
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
} from "@ttrpc/containerd";
import { Code, TtrpcError } from "ttrpc";
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
  /** stdout and stderr as opened at Create (undefined = /dev/null); handed to runc at Start. */
  io: (FileHandle | undefined)[];
  /** Copies the stdin FIFO into the container's stdin pipe, from Start until EOF or CloseIO. */
  stdinPump: StdinPump | undefined;
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

/**
 * FIFO opens block (in libuv's thread pool) until the other end shows up, and a process cannot
 * exit while a pool thread is stuck in one: every FIFO open is tracked so that it can be released
 * by briefly opening the other end ourselves.
 */
const pendingFifoOpens = new Map<symbol, { path: string; reading: boolean }>();

async function openFifo(path: string, reading: boolean): Promise<FileHandle> {
  const key = Symbol(path);
  pendingFifoOpens.set(key, { path, reading });
  try {
    return await open(path, reading ? constants.O_RDONLY : constants.O_WRONLY);
  } finally {
    pendingFifoOpens.delete(key);
  }
}

/** Releases a FIFO open that is waiting for its other end (the other end opens and closes). */
function releaseFifo(path: string, reading: boolean): void {
  try {
    // A blocked reader is released by a writer, a blocked writer by a reader; neither blocks here.
    closeSync(
      openSync(path, (reading ? constants.O_WRONLY : constants.O_RDONLY) | constants.O_NONBLOCK),
    );
  } catch {}
}

/** Releases every FIFO open still waiting; call before exiting. */
export function releasePendingFifoOpens(): void {
  for (const { path, reading } of pendingFifoOpens.values()) releaseFifo(path, reading);
}

/** Opens stdout or stderr: `file://` appends to a file; anything else is a FIFO path (Go's rule). */
async function openOutput(uri: string): Promise<FileHandle | undefined> {
  if (uri === "") return undefined;
  if (uri.startsWith("file://")) {
    const path = uri.slice("file://".length);
    return open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  }
  if (/^[a-z]+:\/\//.test(uri)) {
    throw new TtrpcError(`IO scheme of ${uri} is not supported by this shim`, Code.Unimplemented);
  }
  // A FIFO whose reader (ctr) is already waiting: this open returns at once.
  return openFifo(uri, false);
}

/**
 * The stdin FIFO cannot be handed to the container as it is: ctr may have opened and closed its
 * end already (its stdin was at EOF), and an open(O_RDONLY) would then wait forever. As Go shims
 * do, the container gets a pipe, and the FIFO is opened in the background and copied into it.
 */
class StdinPump {
  readonly #path: string;
  readonly #dest: Writable;
  #source: ReadStream | undefined;
  #done = false;

  constructor(path: string, dest: Writable, log: (line: string) => void) {
    this.#path = path;
    this.#dest = dest;
    dest.on("error", () => {}); // EPIPE once the container is gone
    openFifo(path, true).then(
      (handle) => {
        if (this.#done) {
          void handle.close();
          return;
        }
        const source = handle.createReadStream();
        this.#source = source;
        source.on("error", (err) => log(`stdin ${path}: ${err.message}`));
        source.pipe(dest); // ends dest at the FIFO's EOF (every writer gone)
      },
      (err: unknown) => {
        log(`stdin ${path}: ${String(err)}`);
        dest.end();
      },
    );
  }

  /**
   * CloseIO: the client has written all it will. What is in the FIFO still reaches the container
   * (EOF follows once the client's end is closed); an open still waiting for a writer is released
   * by briefly being that writer, so the container sees EOF.
   */
  closeInput(): void {
    if (!this.#source) releaseFifo(this.#path, true);
  }

  /** The container is gone: stop copying now. */
  destroy(): void {
    if (this.#done) return;
    this.#done = true;
    this.closeInput();
    this.#source?.destroy();
    this.#dest.end();
  }
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

  const closeOutputs = async (c: Container) => {
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
        io.push(await openOutput(req.stdout));
        io.push(await openOutput(req.stderr));
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
        stdinPump: undefined,
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
        {
          cwd: c.bundle,
          stdio: [c.stdin ? "pipe" : "ignore", c.io[0]?.fd ?? "ignore", c.io[1]?.fd ?? "ignore"],
        },
      );
      c.runc = child;
      if (child.stdin) c.stdinPump = new StdinPump(c.stdin, child.stdin, log);
      // runc's exit is the container's exit: its status, or 128+n when killed by signal n.
      let runcStatus: number | undefined;
      const runcExited = new Promise<number>((resolve) => {
        child.once("exit", (code, signal) => {
          c.stdinPump?.destroy();
          resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
        });
        child.once("error", (err) => {
          log(`runc failed to start: ${err.message}`);
          resolve(255);
        });
      }).then((status) => {
        runcStatus = status;
        return status;
      });
      // The container (and runc) hold stdout/stderr now; our copies would keep ctr from seeing EOF.
      await closeOutputs(c);
      await waitFor("runc's pid file", () => existsSync(pidFile) || runcStatus !== undefined, {
        timeoutMs: 30_000,
      });
      if (!existsSync(pidFile)) {
        c.markExited(runcStatus ?? 255);
        const detail = await readFile(runcLog, "utf8").catch(() => "");
        const last = detail.trim().split("\n").pop() ?? "";
        let msg = last;
        try {
          msg = (JSON.parse(last) as { msg?: string }).msg ?? last;
        } catch {}
        throw new TtrpcError(`runc run failed: ${msg || "no pid"}`, Code.Unknown);
      }
      c.pid = Number(readFileSync(pidFile, "utf8").trim());
      c.status = Status.RUNNING;
      // The exit is reported after the start, even for a container that was over in no time.
      void runcExited.then((status) => c.markExited(status));
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
          await closeOutputs(c);
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
      c.stdinPump?.destroy();
      await closeOutputs(c);
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
      if (req.stdin) c.stdinPump?.closeInput();
      return {};
    },

    async shutdown() {
      // Go's rule: a shim that still has containers keeps running.
      if (containers.size === 0) setImmediate(options.onShutdown);
      return {};
    },
  };
}
