// `ttrpc tap --nri` between NRI's real Go runtime side (containerd's pkg/adaptation, from Debian's
// nri 0.6.1 and 0.8.0: scripts/nri-peer.sh) and NRI's Go stub plugin: the tap splits NRI's
// connection mux and prints both ttrpc connections decoded with the built-in NRI schema —
// RegisterPlugin on mux id 2 (the plugin calls the runtime), Configure and Synchronize on mux id 1
// (the runtime calls the plugin) — while the plugin registers as it would without the tap.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { GoRuntime, kill, nriSuite, removeDir, startStub, tempDir } from "../nri/harness.js";
import { start } from "./helpers.js";

const T = { timeout: 90_000 };

nriSuite("ttrpc tap --nri", (bin) => {
  test(
    "the runtime and the Go stub plugin register and synchronize through the tap",
    T,
    async (t) => {
      const dir = tempDir();
      t.after(() => removeDir(dir));
      const runtimeSocket = join(dir, "nri.sock");
      const runtime = await GoRuntime.start(bin, runtimeSocket, [
        "-request-timeout",
        "10s",
        "-registration-timeout",
        "10s",
      ]);
      t.after(() => runtime.exit());
      const listen = join(dir, "tap.sock");
      const tap = start(["tap", "--nri", "--listen", listen, "--target", runtimeSocket, "--json"]);
      t.after(() => tap.stop());
      await tap.waitFor((l) => l.startsWith("ttrpc tap: listening on"));
      const stub = startStub(bin, listen, ["-name", "tapped", "-idx", "42"]);
      t.after(() => kill(stub.child));
      await runtime.waitPlugins(1, 30_000);

      await tap.waitFor(
        (l) => l.includes('"method":"Synchronize"') && l.includes('"type":"request"'),
      );
      await tap.waitFor((l) => l.includes('"rpc":"nri.pkg.api.v1alpha1.Plugin/Synchronize"'));
      const events = tap.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const reg = events.find((e) => e.type === "request" && e.method === "RegisterPlugin");
      assert.equal(reg.mux, 2);
      assert.equal(reg.dir, "client->server", "the plugin, which connected, calls the runtime");
      assert.equal(reg.service, "nri.pkg.api.v1alpha1.Runtime");
      assert.deepEqual(reg.payload, { pluginName: "tapped", pluginIdx: "42" });
      const cfg = events.find((e) => e.type === "request" && e.method === "Configure");
      assert.equal(cfg.mux, 1);
      assert.equal(cfg.dir, "server->client", "the runtime calls the plugin on mux id 1");
      assert.equal(cfg.service, "nri.pkg.api.v1alpha1.Plugin");
      assert.equal(typeof cfg.payload.runtimeName, "string");
      const cfgReply = events.find(
        (e) => e.type === "response" && e.rpc === "nri.pkg.api.v1alpha1.Plugin/Configure",
      );
      assert.equal(cfgReply.mux, 1);
      assert.equal(cfgReply.dir, "client->server");
      assert.equal(cfgReply.status.name, "OK");
      assert.ok(
        Number(cfgReply.payload?.events ?? 0) !== 0,
        `the stub subscribes: ${JSON.stringify(cfgReply.payload)}`,
      );
      const sync = events.find(
        (e) => e.type === "response" && e.rpc === "nri.pkg.api.v1alpha1.Plugin/Synchronize",
      );
      assert.equal(sync.status.name, "OK");
      assert.ok(!events.some((e) => e.malformed), "no frame is malformed");
    },
  );
});
