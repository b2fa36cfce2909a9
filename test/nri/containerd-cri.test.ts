/**
 * Real container events: containerd 1.7.24 with NRI, driven through its CRI plugin (a grpc-js
 * client; a pod on the host network, so no CNI; a local busybox image as both sandbox and
 * container image). The env-injecting example (examples/nri/inject-env.ts, a separate process)
 * and a recording plugin are both registered; the container prints its environment, and the
 * variable the example injected is in it.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createPlugin } from "@ttrpc/nri";
import { cleanupDir, flavours, missing, startDaemon, writeConfig } from "./containerd.js";
import { buildImage, criClient, criMissing, IMAGE } from "./cri.js";
import { deferrer, JsonLines, kill, removeDir, tempDir } from "./harness.js";
import { recorder } from "./recorder.js";

const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const flavour of flavours()) {
  const lacking = [...missing(flavour), ...criMissing()];
  const skip =
    lacking.length > 0 && process.env.CI !== "true" ? `needs ${lacking.join(", ")}` : false;
  if (skip)
    process.stderr.write(
      `\n!!! NRI CRI TESTS SKIPPED (containerd ${flavour.name}): ${skip} !!!\n\n`,
    );

  describe(`NRI plugins in a real CRI container lifecycle (containerd ${flavour.name})`, {
    skip,
  }, () => {
    test("the injected variable is inside the container; the events arrive", {
      timeout: 180_000,
    }, async (t) => {
      const defer = deferrer(t);
      assert.deepEqual(lacking, [], "prerequisites");
      const dir = tempDir();
      defer(() => {
        cleanupDir(dir);
        removeDir(dir);
      });
      const config = writeConfig(dir, flavour, IMAGE);
      const daemon = await startDaemon(dir, config, flavour);
      defer(() => daemon.stop());
      const ctr = (...args: string[]) =>
        execFileSync(
          join(flavour.bin, "ctr"),
          ["-a", join(dir, "containerd.sock"), "-n", "k8s.io", ...args],
          {
            encoding: "utf8",
          },
        );
      ctr("images", "import", buildImage(dir));
      assert.match(ctr("images", "ls", "-q"), /ttrpc-ts\/busybox:nri/);

      // The example, as its own process, and a recording plugin in this one.
      const example = spawn(
        process.execPath,
        [
          "--conditions=ttrpc-source",
          "--import",
          "tsx",
          "examples/nri/inject-env.ts",
          "--socket",
          join(dir, "nri.sock"),
          "--env",
          "TEAM=blue",
        ],
        { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
      );
      defer(() => kill(example));
      const exampleLog = new JsonLines(example);
      const rec = recorder(100);
      const plugin = createPlugin({
        name: "ts-recorder",
        index: "55",
        socketPath: join(dir, "nri.sock"),
        ...rec.handlers,
      });
      defer(() => plugin.stop());
      await plugin.start();
      await until("the example to register", async () =>
        exampleLog.stderr.some((l) => l.includes('"what":"registered"')) ? true : undefined,
      );

      const cri = criClient(join(dir, "containerd.sock"));
      defer(() => cri.close());
      const logs = join(dir, "logs");
      mkdirSync(logs);
      const podConfig = {
        metadata: { name: "nri-pod", uid: "nri-pod-uid", namespace: "default", attempt: 0 },
        logDirectory: logs,
        linux: { securityContext: { namespaceOptions: { network: "NODE" } } },
      };
      const { podSandboxId } = (await cri.call("RunPodSandbox", { config: podConfig })) as {
        podSandboxId: string;
      };
      defer(async () => {
        await cri.call("StopPodSandbox", { podSandboxId }).catch(() => {});
        await cri.call("RemovePodSandbox", { podSandboxId }).catch(() => {});
      });
      const { containerId } = (await cri.call("CreateContainer", {
        podSandboxId,
        config: {
          metadata: { name: "probe", attempt: 0 },
          image: { image: IMAGE },
          command: ["/bin/sh", "-c", "env; ls -d /ts && echo mount-ok"],
          logPath: "probe.log",
        },
        sandboxConfig: podConfig,
      })) as { containerId: string };
      await cri.call("StartContainer", { containerId });
      await until("the container to exit", async () => {
        const s = (await cri.call("ContainerStatus", { containerId })) as {
          status: { state: string };
        };
        return s.status.state === "CONTAINER_EXITED" ? true : undefined;
      });
      const logPath = join(logs, "probe.log");
      await until("the container log", async () => (existsSync(logPath) ? true : undefined));
      const output = readFileSync(logPath, "utf8");
      assert.match(output, / stdout F TEAM=blue$/m, "the example's variable is in the container");
      assert.match(
        output,
        / stdout F FROM_TS_PLUGIN=nri-pod\/probe$/m,
        "the recorder's variable too",
      );
      assert.match(output, / stdout F mount-ok$/m, "the recorder's bind mount exists");
      await cri.call("RemoveContainer", { containerId });
      await cri.call("StopPodSandbox", { podSandboxId });
      await cri.call("RemovePodSandbox", { podSandboxId });

      const events = rec.received.map((r) => r.handler).filter((h) => h !== "synchronize");
      t.diagnostic(`events delivered by containerd: ${events.join(", ")}`);
      for (const e of [
        "runPodSandbox",
        "createContainer",
        "postCreateContainer",
        "startContainer",
        "postStartContainer",
        "removeContainer",
        "stopPodSandbox",
        "removePodSandbox",
      ]) {
        assert.ok(events.includes(e), `${e} delivered (got ${events.join(", ")})`);
      }
      assert.equal(
        rec.received.find((r) => r.handler === "createContainer")?.container !== undefined,
        true,
      );
    });
  });
}
