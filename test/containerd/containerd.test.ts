// containerd from TypeScript, against the real binaries from Debian, for containerd 1.6
// (bookworm) and 1.7 (trixie, unpacked by scripts/containerd-setup.sh):
//
//   - our client drives the real containerd-shim-runc-v2 through a busybox container's life, and
//     our events server receives the events that shim publishes;
//   - our client publishes an event into containerd's ttrpc socket, and `ctr events` sees it;
//   - containerd runs containers through our TypeScript shim: `ctr run --rm --runtime <our shim>`
//     prints the container's output and returns its exit code; `ctr task`, `ctr shim` work too;
//   - our shim, driven by our client, answers the Task API as documented (UNIMPLEMENTED included).
//
// Needs root and `scripts/containerd-setup.sh`. Without them the suite skips (one line), except
// with CI=true, where it fails.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Status, Task } from "@ttrpc/containerd";
import { connect, createClient, TtrpcError } from "ttrpc";
import { driveShim } from "../../examples/containerd/drive-shim.js";
import { startEventsServer } from "../../examples/containerd/events-server.js";
import { cachePaths, createBundle } from "../../examples/containerd/lib/bundle.js";
import type { Containerd } from "../../examples/containerd/lib/containerd.js";
import { startRealShim } from "../../examples/containerd/lib/real-shim.js";
import { isAlive, waitFor } from "../../examples/containerd/lib/util.js";
import { publishOomEvent } from "../../examples/containerd/publish-event.js";
import {
  cleanupEverything,
  ctr,
  type EventWatcher,
  flavours,
  missingPrerequisites,
  namespace,
  OUR_SHIM,
  runcContainersOf,
  shimPidsOf,
  startDaemon,
  stopDaemon,
  tempDir,
  trackPid,
  watchEvents,
} from "./harness.js";

const GO_ZERO_TIME_SECONDS = -62135596800n; // 0001-01-01T00:00:00Z, a 10-byte negative varint
const missing = missingPrerequisites();
const rootfs = cachePaths().rootfs;

/** Expects a TtrpcError with this code. */
async function rejectsWithCode(promise: Promise<unknown>, code: number, what: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TtrpcError, `${what}: expected a TtrpcError, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return true;
  });
}

/** The first event line that mentions this topic and container. */
function eventLine(watcher: EventWatcher, topic: string, id: string): string | undefined {
  return watcher.lines.find(
    (l) => l.includes(` ${topic} `) && l.includes(`"container_id":"${id}"`),
  );
}

if (missing.length > 0) {
  if (process.env.CI === "true") {
    test("containerd prerequisites", { timeout: 120_000 }, () => {
      assert.fail(`missing: ${missing.join(", ")}; run scripts/containerd-setup.sh (as root)`);
    });
  } else {
    console.error(
      `!!! containerd integration tests SKIPPED: missing ${missing.join(", ")}: run scripts/containerd-setup.sh (as root)`,
    );
    // The reason is listed again at the end of the run (scripts/run-tests.mjs, SKIPPED-SUITE).
    test("containerd integration", {
      skip: `missing ${missing.join(", ")}: run scripts/containerd-setup.sh (as root)`,
    }, () => {});
  }
} else {
  after(cleanupEverything);

  for (const flavour of flavours()) {
    describe(`containerd ${flavour.name}`, () => {
      test("our client drives the real containerd-shim-runc-v2; our server receives its events", {
        timeout: 120_000,
      }, async () => {
        const ns = namespace(`drive${flavour.name.replace(".", "")}`);
        const id = "drive1";
        const r = await driveShim({
          shim: join(flavour.binDir, "containerd-shim-runc-v2"),
          rootfs,
          namespace: ns,
          id,
        });
        trackPid(r.shimPid);
        assert.ok(r.shimPid > 0);
        assert.ok(r.createPid > 0, "Create returns the init pid");
        assert.equal(r.startPid, r.createPid);
        assert.equal(r.runningStatus, Status.RUNNING);
        // The Go shim reports exited_at = Go's zero time while running: a negative int64.
        assert.equal(r.runningExitedAt?.seconds, GO_ZERO_TIME_SECONDS);
        assert.ok(r.pids.includes(r.startPid), `Pids ${r.pids} lists ${r.startPid}`);
        assert.equal(r.waitBlocked, true, "Wait was still pending before Kill");
        assert.equal(r.waitExitStatus, 137, "SIGKILL: 128 + 9");
        assert.equal(r.deleteExitStatus, 137);
        assert.equal(r.deletePid, r.startPid);
        assert.equal(r.stdout, "hello from a busybox container driven over ttrpc\n");

        const topics = r.events.map((e) => e.topic);
        assert.deepEqual(topics, ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]);
        for (const e of r.events) {
          assert.equal(e.metadataNamespace, ns, `${e.topic}: containerd-namespace-ttrpc metadata`);
          assert.equal(e.namespace, ns);
          assert.match(e.typeUrl, /^containerd\.events\.Task(Create|Start|Exit|Delete)$/);
          assert.equal((e.json as { containerId?: string }).containerId, id);
        }
        const exit = r.events[2]?.json as { exitStatus?: number; pid?: number };
        assert.equal(exit.exitStatus, 137);
        assert.equal(exit.pid, r.startPid);
        assert.equal(runcContainersOf(ns).length, 0, "no runc container left");
      });

      describe("with a private containerd daemon", () => {
        let ctd: Containerd | undefined;
        let watcher: EventWatcher | undefined;
        const ns = namespace(`ctd${flavour.name.replace(".", "")}`);
        const daemon = () => ctd as Containerd;
        const events = () => watcher as EventWatcher;

        before(async () => {
          ctd = await startDaemon(flavour);
          assert.match(ctd.version, flavour.name === "1.6" ? /^1\.6\./ : /^1\.7\./);
          watcher = watchEvents(ctd);
        });
        after(async () => {
          watcher?.stop();
          await stopDaemon(ctd);
        });

        test("our client publishes into containerd's ttrpc socket; ctr events sees it", {
          timeout: 120_000,
        }, async () => {
          // `ctr events` gives no sign of having subscribed: publish probes until one shows up.
          let seen: string | undefined;
          for (let i = 0; seen === undefined; i++) {
            assert.ok(i < 60, `ctr events never printed a probe: ${events().lines.join("\n")}`);
            await publishOomEvent(daemon().ttrpcAddress, ns, `probe-${i}`);
            seen = await waitFor(
              "the probe",
              () => eventLine(events(), "/tasks/oom", `probe-${i}`),
              {
                timeoutMs: 500,
              },
            ).catch(() => undefined);
          }
          assert.match(seen, new RegExp(` ${ns} /tasks/oom \\{"container_id":"probe-\\d+"\\}$`));
          // containerd's own validation answers with a real status: empty namespace → InvalidArgument.
          await rejectsWithCode(
            publishOomEvent(daemon().ttrpcAddress, "", "x"),
            3,
            "empty namespace",
          );
        });

        test("ctr run --rm --runtime <our shim> prints the output and returns the exit code", {
          timeout: 120_000,
        }, async () => {
          const id = "run1";
          const r = await ctr(daemon(), [
            "-n",
            ns,
            "run",
            "--rm",
            "--runtime",
            OUR_SHIM,
            "--rootfs",
            rootfs,
            id,
            "/bin/sh",
            "-c",
            "echo hello from a container run by ttrpc-ts-shim; echo to-stderr >&2; exit 7",
          ]);
          assert.equal(r.stdout, "hello from a container run by ttrpc-ts-shim\n");
          assert.match(r.stderr, /to-stderr/);
          assert.equal(r.code, 7, `exit code (stderr: ${r.stderr})`);
          // Our shim published its events to containerd (TTRPC_ADDRESS), which fans them out.
          for (const topic of ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]) {
            await waitFor(`${topic} for ${id}`, () => eventLine(events(), topic, id));
          }
          assert.match(eventLine(events(), "/tasks/exit", id) ?? "", /"exit_status":7/);
          // Shutdown ended our shim; --rm left no task and no runc container behind.
          await waitFor("our shim to exit", () =>
            shimPidsOf(ns).every((pid) => !readCmdline(pid).includes(`-id=${id}`)),
          );
          assert.ok(!runcContainersOf(ns).includes(id));
        });

        test("stdin reaches a container run by our shim", { timeout: 120_000 }, async () => {
          const r = await ctr(
            daemon(),
            [
              "-n",
              ns,
              "run",
              "--rm",
              "--runtime",
              OUR_SHIM,
              "--rootfs",
              rootfs,
              "stdin1",
              "/bin/wc",
              "-l",
            ],
            { input: "one\ntwo\nthree\n" },
          );
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.trim(), "3");
        });

        test("a detached task: ctr task ls/pause/resume/kill/delete and ctr shim state", {
          timeout: 120_000,
        }, async () => {
          const id = "detached1";
          const c = (...args: string[]) => ctr(daemon(), ["-n", ns, ...args]);
          const run = await c(
            "run",
            "-d",
            "--runtime",
            OUR_SHIM,
            "--rootfs",
            rootfs,
            id,
            "/bin/sh",
            "-c",
            "exec sleep 600",
          );
          assert.equal(run.code, 0, run.stderr);
          const taskLine = async () =>
            (await c("task", "ls")).stdout.split("\n").find((l) => l.startsWith(`${id} `)) ?? "";
          assert.match(await taskLine(), /^detached1\s+\d+\s+RUNNING$/);
          const pid = Number((await taskLine()).split(/\s+/)[1]);
          assert.ok(pid > 0 && isAlive(pid), "the task's pid is a live process");

          // `ctr shim` is a Go ttrpc client that dials our shim's socket directly.
          const state = await c("shim", "--id", id, "state");
          assert.equal(state.code, 0, state.stderr);
          assert.match(state.stdout, new RegExp(`"pid":\\s*${pid}`));
          assert.match(state.stdout, /"status":\s*(2|"RUNNING")/);

          assert.equal((await c("task", "pause", id)).code, 0);
          assert.match(await taskLine(), /\sPAUSED$/);
          assert.equal((await c("task", "resume", id)).code, 0);
          assert.match(await taskLine(), /\sRUNNING$/);
          assert.equal((await c("task", "kill", "-s", "SIGKILL", id)).code, 0);
          await waitFor("the task to stop", async () => / STOPPED$/.test(await taskLine()));
          await c("task", "delete", id);
          assert.equal(await taskLine(), "", "the task is gone");
          assert.equal((await c("container", "rm", id)).code, 0);
          assert.ok(!isAlive(pid));
          for (const topic of ["/tasks/paused", "/tasks/resumed"]) {
            await waitFor(`${topic} for ${id}`, () => eventLine(events(), topic, id));
          }
          assert.match(eventLine(events(), "/tasks/exit", id) ?? "", /"exit_status":137/);
        });
      });
    });
  }

  test("our shim, driven by our client, answers the Task API (and UNIMPLEMENTED for the rest)", {
    timeout: 120_000,
  }, async () => {
    const ns = namespace("direct");
    const work = await tempDir("ttrpc-ts-direct-");
    const bundle = join(work, "bundle");
    await createBundle({
      dir: bundle,
      rootfs,
      args: ["/bin/sh", "-c", "echo hi from the ts shim; exec sleep 600"],
      cgroupsPath: `/${ns}/a`,
    });
    const received = await startEventsServer(join(work, "events.sock"));
    const shim = await startRealShim({
      binary: OUR_SHIM,
      bundle,
      namespace: ns,
      id: "a",
      containerdAddress: join(work, "containerd.sock"),
      ttrpcAddress: join(work, "events.sock"),
    });
    const conn = await connect(shim.socketPath);
    try {
      const task = createClient(Task, conn);
      const hello = await task.connect({ id: "a" });
      trackPid(hello.shimPid);
      assert.equal(hello.version, "ttrpc-ts-shim");
      assert.equal(hello.shimPid, shim.pid(), "Connect reports the pid start wrote to shim.pid");

      await rejectsWithCode(task.state({ id: "nope" }), 5, "State of an unknown task");
      const stdout = join(work, "a.out");
      const created = await task.create({ id: "a", bundle, stdout: `file://${stdout}` });
      assert.equal(created.pid, 0, "runc does not know the container before Start");
      assert.equal((await task.state({ id: "a" })).status, Status.CREATED);
      await rejectsWithCode(task.create({ id: "a", bundle }), 6, "Create twice");
      const started = await task.start({ id: "a" });
      assert.ok(started.pid > 0 && isAlive(started.pid));
      const state = await task.state({ id: "a" });
      assert.equal(state.status, Status.RUNNING);
      assert.equal(state.pid, started.pid);
      assert.deepEqual(
        (await task.pids({ id: "a" })).processes.map((p) => p.pid),
        [started.pid],
      );

      // What this shim does not implement answers UNIMPLEMENTED (12).
      await rejectsWithCode(task.exec({ id: "a", execId: "e1" }), 12, "Exec");
      await rejectsWithCode(task.stats({ id: "a" }), 12, "Stats");
      await rejectsWithCode(task.update({ id: "a" }), 12, "Update");
      await rejectsWithCode(task.checkpoint({ id: "a", path: "/tmp/x" }), 12, "Checkpoint");
      await rejectsWithCode(task.resizePty({ id: "a", width: 80, height: 24 }), 12, "ResizePty");
      await rejectsWithCode(task.state({ id: "a", execId: "e1" }), 5, "State of an exec id");
      await rejectsWithCode(task.create({ id: "t", bundle, terminal: true }), 12, "a terminal");

      await task.pause({ id: "a" });
      assert.equal((await task.state({ id: "a" })).status, Status.PAUSED);
      await task.resume({ id: "a" });
      await rejectsWithCode(task.delete({ id: "a" }), 9, "Delete while running");

      // A second container in the same shim, its rootfs given as a mount (a bind mount here).
      const bundleB = join(work, "bundle-b");
      await createBundle({ dir: bundleB, rootfs: "rootfs", args: ["/bin/cat", "/etc/passwd"] });
      const outB = join(work, "b.out");
      await task.create({
        id: "b",
        bundle: bundleB,
        rootfs: [{ type: "bind", source: rootfs, options: ["rbind", "ro"] }],
        stdout: `file://${outB}`,
        stderr: `file://${outB}`,
      });
      await task.start({ id: "b" });
      assert.equal((await task.wait({ id: "b" })).exitStatus, 0);
      assert.equal(
        await readFile(outB, "utf8"),
        await readFile(join(rootfs, "etc/passwd"), "utf8"),
      );
      await task.delete({ id: "b" });
      const mounts = await readFile("/proc/self/mounts", "utf8");
      assert.ok(!mounts.includes(`${bundleB}/rootfs`), "Delete unmounted the rootfs");

      let waited = false;
      const waiting = task.wait({ id: "a" }).finally(() => {
        waited = true;
      });
      assert.equal((await task.state({ id: "a" })).status, Status.RUNNING);
      assert.equal(waited, false);
      await task.kill({ id: "a", signal: 9 });
      const exit = await waiting;
      assert.equal(exit.exitStatus, 137);
      assert.ok(exit.exitedAt && exit.exitedAt.seconds > 0n);
      await rejectsWithCode(task.kill({ id: "a", signal: 9 }), 5, "Kill after exit");
      const deleted = await task.delete({ id: "a" });
      assert.equal(deleted.exitStatus, 137);
      assert.equal(deleted.pid, started.pid);
      assert.equal(await readFile(stdout, "utf8"), "hi from the ts shim\n");

      await task.shutdown({ id: "a" });
      await waitFor("our shim to exit after Shutdown", () => !isAlive(hello.shimPid));

      // Its events went to TTRPC_ADDRESS with the namespace metadata, as a Go shim sends them.
      const aTopics = received.events
        .filter((e) => (e.json as { containerId?: string }).containerId === "a")
        .map((e) => e.topic);
      assert.deepEqual(aTopics, [
        "/tasks/create",
        "/tasks/start",
        "/tasks/paused",
        "/tasks/resumed",
        "/tasks/exit",
        "/tasks/delete",
      ]);
      assert.ok(received.events.every((e) => e.metadataNamespace === ns && e.namespace === ns));
    } finally {
      await conn.close();
      shim.closeLog();
      await received.close();
    }
  });
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}
