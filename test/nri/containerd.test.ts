/**
 * Our plugin against real containerd 1.7.24 (trixie, nri 0.6.1) and 2.1.9 (sid, nri 0.8.0) with
 * NRI enabled: it registers, is
 * configured and synchronized, sends an unsolicited update, and re-registers after containerd
 * restarts. (Container lifecycle events through CRI: containerd-cri.test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createPlugin, type PluginStatus } from "@ttrpc/nri";
import { flavours, missing, startDaemon, writeConfig } from "./containerd.js";
import { deferrer, removeDir, tempDir } from "./harness.js";
import { recorder } from "./recorder.js";

for (const flavour of flavours()) {
  const lacking = missing(flavour);
  const skip =
    lacking.length > 0 && process.env.CI !== "true" ? `needs ${lacking.join(", ")}` : false;
  if (skip)
    process.stderr.write(
      `\n!!! NRI CONTAINERD TESTS SKIPPED (containerd ${flavour.name}): ${skip} !!!\n\n`,
    );

  describe(`TS plugin against containerd ${flavour.name} with NRI`, { skip }, () => {
    test("registers, is configured and synchronized, survives a containerd restart", {
      timeout: 120_000,
    }, async (t) => {
      const defer = deferrer(t);
      assert.deepEqual(lacking, [], "prerequisites");
      const dir = tempDir();
      defer(() => removeDir(dir));
      const config = writeConfig(dir, flavour);
      let daemon = await startDaemon(dir, config, flavour);
      defer(() => daemon.stop());

      const rec = recorder();
      const statuses: PluginStatus[] = [];
      const plugin = createPlugin({
        name: "ts-containerd",
        index: "55",
        socketPath: join(dir, "nri.sock"),
        reconnect: { delayMs: 100, maxDelayMs: 1000 },
        ...rec.handlers,
        onStatus: (s) => statuses.push(s),
      });
      defer(() => plugin.stop());
      await plugin.start();
      await rec.waitFor("synchronize", 1, 30_000);
      const registered = statuses.find((s) => s.state === "registered");
      assert.ok(registered?.state === "registered");
      assert.equal(registered.runtime, "containerd");
      assert.ok(registered.version.startsWith(`${flavour.name}.`), registered.version);
      assert.deepEqual(rec.syncs, [{ pods: 0, containers: 0 }]);
      // logrus escapes the quotes: msg="plugin \"external:55-ts-containerd[pid]\" registered as ..."
      const registeredLine =
        /plugin \\"external:55-ts-containerd\[\d+\]\\" registered as \\"55-ts-containerd\\"/;
      assert.ok(registeredLine.test(daemon.log()), "containerd logged the registration");

      // An unsolicited update reaches containerd, which skips containers it does not know (
      // domainTable.updateContainers): nothing failed.
      const failed = await plugin.updateContainers([
        { containerId: "no-such-container", ignoreFailure: true },
      ]);
      assert.deepEqual(failed, []);

      // Restart containerd: the plugin notices, reconnects, registers and synchronizes again.
      await daemon.stop();
      daemon = await startDaemon(dir, config, flavour);
      await rec.waitFor("synchronize", 2, 60_000);
      assert.equal(statuses.filter((s) => s.state === "registered").length, 2);
      assert.ok(statuses.some((s) => s.state === "disconnected"));
      assert.equal(plugin.connected, true);
      assert.ok(
        registeredLine.test(daemon.log()),
        "the restarted containerd logged the registration",
      );
    });
  });
}
