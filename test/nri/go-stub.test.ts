/**
 * The other direction: NRI's own Go plugin stub (`pkg/stub`, 0.6.1 and 0.8.0) against our mux
 * playing the runtime side — our ttrpc server serves `Runtime` on mux connection 2, our client
 * calls the stub's `Plugin` service on connection 1. Messages over 4 KiB cross both ways.
 */
import assert from "node:assert/strict";
import { createServer as createNetServer, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  ContainerSchema,
  Event,
  Mux,
  PLUGIN_SERVICE_CONN,
  Plugin,
  PodSandboxSchema,
  RUNTIME_SERVICE_CONN,
  Runtime,
} from "@ttrpc/nri";
import { connect, createClient, createServer } from "ttrpc";
import { deferrer, kill, nriSuite, removeDir, startStub, tempDir } from "./harness.js";

nriSuite("Go stub plugin against our mux (runtime side)", (bin) => {
  test("registers, is configured and synchronized, adjusts, updates", {
    timeout: 60_000,
  }, async (t) => {
    const defer = deferrer(t);
    const dir = tempDir();
    defer(() => removeDir(dir));
    const socket = join(dir, "nri.sock");
    const registered: Array<{ name: string; idx: string }> = [];
    const updates: string[] = [];
    const server = createServer();
    server.register(Runtime, {
      registerPlugin(req) {
        registered.push({ name: req.pluginName, idx: req.pluginIdx });
        return {};
      },
      updateContainers(req) {
        for (const u of req.update) updates.push(u.containerId);
        return { failed: [] };
      },
    });
    defer(() => server.close());
    const accepted = new Promise<Socket>((resolve) => {
      const net = createNetServer((s) => resolve(s));
      net.listen(socket);
      defer(() => net.close());
    });
    const stub = startStub(bin, socket, ["-name", "go-stub", "-idx", "07", "-big", "9000"]);
    defer(() => kill(stub.child));

    const mux = new Mux(await accepted);
    defer(() => mux.close());
    server.handleConnection(mux.open(RUNTIME_SERVICE_CONN));
    const plugin = createClient(Plugin, await connect(mux.open(PLUGIN_SERVICE_CONN)));

    // Registration arrives on connection 2, then the runtime configures on connection 1.
    for (let i = 0; registered.length === 0; i++) {
      assert.ok(i < 300, "the stub registers");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(registered, [{ name: "go-stub", idx: "07" }]);
    const cfg = await plugin.configure({
      runtimeName: "ts-runtime",
      runtimeVersion: "1",
      config: "x",
    });
    assert.ok(cfg.events !== 0, `the stub subscribes to its events (mask ${cfg.events})`);
    const pods = [create(PodSandboxSchema, { id: "p1", annotations: { big: "r".repeat(5000) } })];
    const sync = await plugin.synchronize({ pods, containers: [] });
    assert.equal(sync.more, false);
    assert.equal(
      (await stub.waitFor((l) => l.event === "synchronize", "synchronize")).event,
      "synchronize",
    );

    const container = create(ContainerSchema, {
      id: "c1",
      podSandboxId: "p1",
      annotations: { big: "q".repeat(7000) },
    });
    const reply = await plugin.createContainer({ pod: pods[0], container });
    assert.deepEqual(
      reply.adjust?.env.map((e) => [e.key, e.value]),
      [["GO_STUB", "1"]],
    );
    assert.equal(reply.adjust?.annotations["go-stub/big"]?.length, 9000, "a 9 KB reply from Go");
    const seen = await stub.waitFor((l) => l.event === "CreateContainer", "CreateContainer");
    assert.equal(seen.annotationBytes, 7000, "a 7 KB request reached Go");

    // StartContainer makes the stub send an unsolicited UpdateContainers.
    await plugin.stateChange({ event: Event.START_CONTAINER, pod: pods[0], container });
    const result = await stub.waitFor((l) => l.event === "update-result", "update-result");
    assert.equal(result.error, undefined);
    assert.deepEqual(updates, ["c1"]);
    await plugin.stateChange({ event: Event.REMOVE_CONTAINER, pod: pods[0], container });
    await stub.waitFor((l) => l.event === "RemoveContainer", "RemoveContainer");

    // Closing the trunk ends the stub's connection.
    mux.close();
    await stub.waitFor((l) => l.event === "closed" || l.event === "exit", "stub notices the close");
  });
});
