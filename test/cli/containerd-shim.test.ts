// `ttrpc` against Debian's real containerd-shim-runc-v2 (1.6 and 1.7), with the built-in schemas
// only: `ttrpc call` takes a busybox container through Connect, Create, Start, State, Kill, Wait,
// Delete and Shutdown; the 1.7 run goes through `ttrpc tap`, which shows the decoded Task calls.
// Then containerd 1.7 itself talks to a real shim through a tap (a runtime wrapper prints the
// tap's address instead of the shim's) while `ctr run --rm` completes. Needs root and
// scripts/containerd-setup.sh (as test/containerd does). The file name says "containerd", so
// scripts/test-node-versions.sh leaves it out on other Node versions, as it does test/containerd.
import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cachePaths, createBundle } from "../../examples/containerd/lib/bundle.js";
import { startRealShim } from "../../examples/containerd/lib/real-shim.js";
import { killPid, waitFor } from "../../examples/containerd/lib/util.js";
import {
  cleanupEverything,
  ctr,
  flavours,
  missingPrerequisites,
  namespace,
  startDaemon,
  stopDaemon,
  tempDir,
  trackPid,
} from "../containerd/harness.js";
import { NODE_ARGS, type Running, spawnCli, start, ttrpc } from "./helpers.js";

const T = { timeout: 180_000 };
const missing = missingPrerequisites();
const TASK = "containerd.task.v2.Task";

if (missing.length > 0) {
  if (process.env.CI === "true") {
    test("ttrpc CLI against a real shim: prerequisites", () => {
      assert.fail(`missing: ${missing.join(", ")}; run scripts/containerd-setup.sh (as root)`);
    });
  } else {
    process.stderr.write(
      `\n!!! CLI SHIM TESTS SKIPPED: missing ${missing.join(", ")}: run scripts/containerd-setup.sh (as root) !!!\n\n`,
    );
    test("ttrpc CLI against a real shim", { skip: `missing ${missing.join(", ")}` }, () => {});
  }
} else {
  after(cleanupEverything);
  describe("ttrpc against the real containerd-shim-runc-v2", () => {
    for (const flavour of flavours()) {
      const viaTap = flavour.name === "1.7";
      test(
        `containerd ${flavour.name} shim: a container's life with ttrpc call${viaTap ? ", through ttrpc tap" : ""}`,
        T,
        async (t) => {
          const ns = namespace(`cli${flavour.name.replace(".", "")}`);
          const id = "cli1";
          const dir = await tempDir("ttrpc-cli-shim-");
          const bundle = join(dir, "bundle");
          await createBundle({
            dir: bundle,
            rootfs: cachePaths().rootfs,
            args: ["/bin/sh", "-c", "echo hello from ttrpc call; exec sleep 600"],
            cgroupsPath: `/${ns}/${id}`,
          });
          const shim = await startRealShim({
            binary: join(flavour.binDir, "containerd-shim-runc-v2"),
            bundle,
            namespace: ns,
            id,
            containerdAddress: join(dir, "containerd.sock"),
            ttrpcAddress: join(dir, "no-events.sock"),
          });
          t.after(() => shim.closeLog());
          let addr = shim.address; // unix:///run/containerd/s/<sha256>, as the shim printed it
          let tap: Running | undefined;
          if (viaTap) {
            const listen = join(dir, "tap.sock");
            tap = start(["tap", "--listen", listen, "--target", shim.address, "--json"]);
            t.after(() => tap?.stop());
            await tap.waitFor((l) => l.startsWith("ttrpc tap: listening on"));
            addr = listen;
          }
          const call = async (method: string, data: unknown) => {
            const r = await ttrpc([
              "call",
              addr,
              `${TASK}/${method}`,
              "-d",
              JSON.stringify(data),
              "--compact",
            ]);
            assert.equal(r.code, 0, `${method}: ${r.stderr}`);
            return JSON.parse(r.stdout);
          };
          const connect = await call("Connect", { id });
          assert.ok(connect.shimPid > 0, JSON.stringify(connect));
          trackPid(connect.shimPid);
          const stdout = join(dir, "stdout.txt");
          const created = await call("Create", {
            id,
            bundle,
            stdout: `file://${stdout}`,
            stderr: `file://${join(dir, "stderr.txt")}`,
          });
          assert.ok(created.pid > 0);
          trackPid(created.pid);
          assert.deepEqual(await call("Start", { id }), { pid: created.pid });
          const state = await call("State", { id });
          assert.equal(state.status, "RUNNING");
          assert.equal(state.pid, created.pid);
          assert.equal(
            state.exitedAt,
            "0001-01-01T00:00:00Z",
            "Go's zero time (a negative varint)",
          );
          // Wait blocks until the container exits: it runs while Kill is sent by another process.
          const waiter = spawnCli([
            "call",
            addr,
            `${TASK}/Wait`,
            "-d",
            JSON.stringify({ id }),
            "--compact",
          ]);
          t.after(() => waiter.kill("SIGKILL"));
          let waited = "";
          waiter.stdout?.setEncoding("utf8").on("data", (d: string) => {
            waited += d;
          });
          const waitCode = new Promise((resolve) => waiter.once("close", resolve));
          // Through the tap we see Wait's request reach the shim before Kill is sent; directly, a
          // pause gives it time (Wait returns the same status if it comes after the exit).
          if (tap) await tap.waitFor((l) => l.includes('"method":"Wait"'));
          else await new Promise((r) => setTimeout(r, 1500));
          assert.equal(waiter.exitCode, null, "Wait still blocks while the container runs");
          assert.deepEqual(await call("Kill", { id, signal: 9 }), {});
          assert.equal(await waitCode, 0);
          assert.equal(JSON.parse(waited).exitStatus, 137);
          const deleted = await call("Delete", { id });
          assert.equal(deleted.exitStatus, 137);
          assert.equal(deleted.pid, created.pid);
          assert.equal(readFileSync(stdout, "utf8"), "hello from ttrpc call\n");
          // NotFound after Delete, as a JSON status and exit 5.
          const gone = await ttrpc(["call", addr, `${TASK}/State`, "-d", JSON.stringify({ id })]);
          assert.equal(gone.code, 5, gone.stderr);
          assert.match(gone.stderr, /"name":"NOT_FOUND"/);
          await call("Shutdown", {});
          const pid = shim.pid();
          if (pid !== undefined)
            await waitFor("the shim to exit", () => !isAliveSafe(pid), { timeoutMs: 20_000 });
          if (tap) {
            const events = tap.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
            const reqs = events.filter((e) => e.type === "request").map((e) => e.method);
            assert.deepEqual(reqs, [
              "Connect",
              "Create",
              "Start",
              "State",
              "Wait",
              "Kill",
              "Delete",
              "State",
              "Shutdown",
            ]);
            const create = events.find((e) => e.type === "request" && e.method === "Create");
            assert.equal(create.payload.bundle, bundle);
            const running = events.find((e) => e.type === "response" && e.rpc === `${TASK}/State`);
            assert.equal(running.payload.status, "RUNNING");
            const wait = events.find((e) => e.type === "response" && e.rpc === `${TASK}/Wait`);
            assert.equal(wait.payload.exitStatus, 137);
            const notFound = events.filter(
              (e) => e.type === "response" && e.rpc === `${TASK}/State`,
            )[1];
            assert.equal(notFound.status.name, "NOT_FOUND");
          }
        },
      );
    }

    test(
      "containerd 1.7 talks to a real shim through ttrpc tap while ctr run --rm completes",
      T,
      async (t) => {
        const flavour = flavours().find((f) => f.name === "1.7");
        assert.ok(flavour);
        const daemon = await startDaemon(flavour);
        t.after(() => stopDaemon(daemon));
        const ns = namespace("clitap");
        const dir = await tempDir("ttrpc-cli-tap-");
        const log = join(dir, "tap.ndjson");
        const pids = join(dir, "tap.pids");
        // The runtime containerd runs: the real shim, except that `start` also starts a tap in front
        // of the shim's socket and prints the tap's address, so containerd dials the tap.
        const wrapper = join(dir, "tap-shim");
        writeFileSync(
          wrapper,
          `#!/bin/bash
set -euo pipefail
real=${join(flavour.binDir, "containerd-shim-runc-v2")}
if [ "\${@: -1}" != start ]; then exec "$real" "$@"; fi
# A second tap in front of containerd's ttrpc socket, where the shim publishes its events.
events=$(mktemp -u ${dir}/ev-XXXXXX).sock
setsid ${process.execPath} ${NODE_ARGS.join(" ")} tap --listen "$events" --target "$TTRPC_ADDRESS" --json >>${log} 2>&1 </dev/null &
echo $! >>${pids}
for _ in $(seq 200); do [ -S "$events" ] && break; sleep 0.05; done
addr=$(TTRPC_ADDRESS=$events "$real" "$@")
sock=\${addr#unix://}
setsid ${process.execPath} ${NODE_ARGS.join(" ")} tap --listen "$sock.tap" --target "$addr" --json >>${log} 2>&1 </dev/null &
echo $! >>${pids}
for _ in $(seq 200); do [ -S "$sock.tap" ] && break; sleep 0.05; done
echo "unix://$sock.tap"
`,
        );
        chmodSync(wrapper, 0o755);
        t.after(() => {
          for (const p of readIfExists(pids).split("\n").filter(Boolean))
            killPid(Number(p), "SIGTERM");
        });
        const id = "tapped1";
        const r = await ctr(
          daemon,
          [
            "-n",
            ns,
            "run",
            "--rm",
            "--runtime",
            wrapper,
            "--rootfs",
            cachePaths().rootfs,
            id,
            "/bin/sh",
            "-c",
            "echo hello through the tap; exit 3",
          ],
          { timeoutMs: 90_000 },
        );
        assert.equal(r.stdout, "hello through the tap\n", r.stderr);
        assert.equal(r.code, 3, r.stderr);
        const events = readIfExists(log)
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l));
        const calls = events
          .filter((e) => e.type === "request")
          .map((e) => `${e.service}/${e.method}`);
        for (const m of ["Create", "Start", "Wait", "Delete", "Shutdown"])
          assert.ok(calls.includes(`${TASK}/${m}`), `${m} in ${calls.join(", ")}`);
        const create = events.find((e) => e.type === "request" && e.method === "Create");
        assert.equal(create.payload.id, id);
        assert.match(create.payload.bundle, new RegExp(`/${ns}/${id}$`));
        // The shim's events went through the other tap, their envelopes decoded.
        const topics = events
          .filter((e) => e.type === "request" && e.method === "Forward")
          .map((e) => `${e.payload.envelope.topic} ${e.payload.envelope.event["@type"]}`);
        for (const topic of ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]) {
          assert.ok(
            topics.some((x) => x.startsWith(`${topic} containerd.events.Task`)),
            `${topic} in ${topics.join(", ")}`,
          );
        }
        const exit = events.find(
          (e) => e.method === "Forward" && e.payload.envelope.topic === "/tasks/exit",
        );
        assert.equal(exit.payload.envelope.event.exitStatus, 3);
        const wait = events.find((e) => e.type === "response" && e.rpc === `${TASK}/Wait`);
        assert.equal(wait.payload.exitStatus, 3);
      },
    );
  });
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function isAliveSafe(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
  } catch {
    return false;
  }
}
