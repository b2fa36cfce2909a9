/**
 * Our plugin SDK against NRI's real runtime side (containerd's `pkg/adaptation`, Go, from Debian's
 * nri 0.6.1 and 0.8.0): registration, Configure, Synchronize, every lifecycle event, the
 * adjustments and updates we return as the runtime merged them, UpdateContainers, messages over
 * 4 KiB both ways, and reconnecting after the runtime restarts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  create,
  fromJson,
  type JsonValue,
  type MessageInitShape,
  toJson,
} from "@bufbuild/protobuf";
import {
  type Container,
  ContainerSchema,
  CreateContainerRequestSchema,
  CreateContainerResponseSchema,
  createPlugin,
  Event,
  type NriPlugin,
  type PodSandbox,
  PodSandboxSchema,
  StateChangeEventSchema,
  StopContainerRequestSchema,
  StopContainerResponseSchema,
  SynchronizeRequestSchema,
  UpdateContainerRequestSchema,
  UpdateContainerResponseSchema,
} from "@ttrpc/nri";
import { deferrer, GoRuntime, nriSuite, removeDir, tempDir } from "./harness.js";
import { BIG_ADJUSTMENT, recorder } from "./recorder.js";

const BIG_FROM_RUNTIME = 6000;
// A loaded 2-core machine: give the runtime's per-request timeout room (its default is 2 s).
const RUNTIME_ARGS = ["-request-timeout", "10s", "-registration-timeout", "10s"];

function pod(id: string, extra: MessageInitShape<typeof PodSandboxSchema> = {}): PodSandbox {
  return create(PodSandboxSchema, {
    id,
    name: `${id}-name`,
    namespace: "default",
    uid: `${id}-uid`,
    ...extra,
  });
}
function ctr(id: string, podId: string, annotations: Record<string, string> = {}): Container {
  return create(ContainerSchema, { id, podSandboxId: podId, name: `${id}-name`, annotations });
}

nriSuite("TS plugin against the Go runtime", (bin, version) => {
  test("registers, synchronizes, gets every event, and its adjustments reach the runtime", {
    timeout: 90_000,
  }, async (t) => {
    const defer = deferrer(t);
    const dir = tempDir();
    defer(() => removeDir(dir));
    const socket = join(dir, "nri.sock");
    const rt = await GoRuntime.start(bin, socket, RUNTIME_ARGS);
    defer(() => rt.exit());

    const p1 = pod("pod1");
    const existing = [ctr("c0", "pod1", { big: "r".repeat(BIG_FROM_RUNTIME) }), ctr("c00", "pod1")];
    await rt.command(
      "state",
      toJson(
        SynchronizeRequestSchema,
        create(SynchronizeRequestSchema, { pods: [p1, pod("pod0")], containers: existing }),
      ),
    );

    const rec = recorder();
    const plugin: NriPlugin = createPlugin({
      name: "ts-test",
      index: "42",
      socketPath: socket,
      ...rec.handlers,
      onStatus: (s) => rec.statuses.push(s),
    });
    defer(() => plugin.stop());
    await plugin.start();
    assert.equal(plugin.connected, true);
    await rt.waitPlugins(1);
    const synced = await rt.waitFor((l) => l.event === "synchronized", "synchronized");
    assert.equal(synced.error, undefined);
    await rec.waitFor("synchronize");
    assert.deepEqual(rec.syncs, [{ pods: 2, containers: 2 }]);
    const registered = rec.statuses.find((s) => s.state === "registered");
    assert.ok(registered && registered.state === "registered");
    assert.equal(registered.runtime, "nri-harness");
    assert.equal(registered.version, version);
    assert.equal(registered.events.length, 11, "every event handler subscribed");

    const c1 = ctr("c1", "pod1", { big: "r".repeat(BIG_FROM_RUNTIME) });
    const event = (e: Event, c?: Container) =>
      rt.command(
        "event",
        toJson(
          StateChangeEventSchema,
          create(StateChangeEventSchema, { event: e, pod: p1, container: c }),
        ),
      );

    await event(Event.RUN_POD_SANDBOX);
    const created = fromJson(
      CreateContainerResponseSchema,
      (await rt.command(
        "create",
        toJson(
          CreateContainerRequestSchema,
          create(CreateContainerRequestSchema, { pod: p1, container: c1 }),
        ),
      )) as JsonValue,
    );
    const adjust = created.adjust;
    assert.ok(adjust, "the runtime merged our adjustment");
    assert.deepEqual(
      adjust.env.map((e) => [e.key, e.value]),
      [["FROM_TS_PLUGIN", "pod1-name/c1-name"]],
    );
    assert.equal(adjust.annotations["ts-plugin/big"]?.length, BIG_ADJUSTMENT);
    assert.equal(adjust.annotations["ts-plugin/seen"], "c1");
    assert.deepEqual(
      adjust.mounts.map((m) => [m.destination, m.source, m.type, m.options]),
      [["/ts", "/tmp", "bind", ["rbind", "ro"]]],
    );
    assert.equal(adjust.linux?.resources?.memory?.limit?.value, 256n << 20n);
    await event(Event.POST_CREATE_CONTAINER, c1);
    await event(Event.START_CONTAINER, c1);
    await event(Event.POST_START_CONTAINER, c1);
    const updated = fromJson(
      UpdateContainerResponseSchema,
      (await rt.command(
        "update",
        toJson(
          UpdateContainerRequestSchema,
          create(UpdateContainerRequestSchema, {
            pod: p1,
            container: c1,
            linuxResources: { cpu: { shares: { value: 100n } } },
          }),
        ),
      )) as JsonValue,
    );
    assert.equal(updated.update[0]?.containerId, "c1");
    assert.equal(updated.update[0]?.linux?.resources?.cpu?.shares?.value, 101n);
    await event(Event.POST_UPDATE_CONTAINER, c1);
    fromJson(
      StopContainerResponseSchema,
      (await rt.command(
        "stop",
        toJson(
          StopContainerRequestSchema,
          create(StopContainerRequestSchema, { pod: p1, container: c1 }),
        ),
      )) as JsonValue,
    );
    await event(Event.REMOVE_CONTAINER, c1);
    await event(Event.STOP_POD_SANDBOX);
    await event(Event.REMOVE_POD_SANDBOX);

    assert.deepEqual(
      rec.received.filter((r) => r.handler !== "synchronize").map((r) => r.handler),
      [
        "runPodSandbox",
        "createContainer",
        "postCreateContainer",
        "startContainer",
        "postStartContainer",
        "updateContainer",
        "postUpdateContainer",
        "stopContainer",
        "removeContainer",
        "stopPodSandbox",
        "removePodSandbox",
      ],
    );
    const createdSeen = rec.received.find((r) => r.handler === "createContainer");
    assert.equal(
      createdSeen?.annotationBytes,
      BIG_FROM_RUNTIME,
      "a > 4 KiB request reached the plugin",
    );

    // Unsolicited updates: one applied, one the runtime reports failed.
    const failed = await plugin.updateContainers([
      { containerId: "c0", linux: { resources: { cpu: { shares: { value: 512n } } } } },
      { containerId: "fail-1", linux: { resources: { memory: { limit: { value: 1n << 30n } } } } },
    ]);
    assert.deepEqual(
      failed.map((u) => u.containerId),
      ["fail-1"],
    );
    const seen = await rt.waitFor((l) => l.event === "update-containers", "update-containers");
    assert.equal((seen.request as unknown[]).length, 2);
    assert.equal(seen.failed, 1);
  });

  test("messages far over 4 KiB cross both ways (head + remainder frames)", {
    timeout: 60_000,
  }, async (t) => {
    const defer = deferrer(t);
    const dir = tempDir();
    defer(() => removeDir(dir));
    const socket = join(dir, "nri.sock");
    const rt = await GoRuntime.start(bin, socket, RUNTIME_ARGS);
    defer(() => rt.exit());
    const rec = recorder(300_000);
    const plugin = createPlugin({
      name: "ts-big",
      index: "43",
      socketPath: socket,
      ...rec.handlers,
    });
    defer(() => plugin.stop());
    await plugin.start();
    await rt.waitPlugins(1);
    for (const size of [4087, 4096, 4097, 10_830, 1 << 20]) {
      const c = ctr(`big-${size}`, "pod1", { big: "r".repeat(size) });
      const reply = fromJson(
        CreateContainerResponseSchema,
        (await rt.command(
          "create",
          toJson(
            CreateContainerRequestSchema,
            create(CreateContainerRequestSchema, { pod: pod("pod1"), container: c }),
          ),
        )) as JsonValue,
      );
      assert.equal(
        reply.adjust?.annotations["ts-plugin/big"]?.length,
        300_000,
        `reply to a ${size}-byte annotation`,
      );
      assert.equal(rec.received.at(-1)?.annotationBytes, size);
    }
    // A large unsolicited update, plugin to runtime.
    const failed = await plugin.updateContainers(
      Array.from({ length: 200 }, (_, i) => ({ containerId: `c-${i}-${"x".repeat(100)}` })),
    );
    assert.deepEqual(failed, []);
    const seen = await rt.waitFor((l) => l.event === "update-containers", "update-containers");
    assert.equal((seen.request as unknown[]).length, 200);
  });

  test("reconnects and re-registers after the runtime restarts", { timeout: 60_000 }, async (t) => {
    const defer = deferrer(t);
    const dir = tempDir();
    defer(() => removeDir(dir));
    const socket = join(dir, "nri.sock");
    let rt = await GoRuntime.start(bin, socket, RUNTIME_ARGS);
    defer(() => rt.exit());
    const rec = recorder();
    const plugin = createPlugin({
      name: "ts-restart",
      index: "44",
      socketPath: socket,
      reconnect: { delayMs: 100, maxDelayMs: 500 },
      ...rec.handlers,
      onStatus: (s) => rec.statuses.push(s),
    });
    defer(() => plugin.stop());
    await plugin.start();
    await rec.waitFor("synchronize", 1);
    rt.child.kill("SIGKILL");
    await new Promise((r) => rt.child.once("exit", r));
    rt = await GoRuntime.start(bin, socket, RUNTIME_ARGS);
    await rec.waitFor("synchronize", 2, 20_000);
    await rt.waitPlugins(1);
    const states = rec.statuses.map((s) => s.state);
    assert.ok(states.includes("disconnected"));
    assert.equal(states.filter((s) => s === "registered").length, 2);
    // The new runtime delivers events to the re-registered plugin.
    const reply = fromJson(
      CreateContainerResponseSchema,
      (await rt.command(
        "create",
        toJson(
          CreateContainerRequestSchema,
          create(CreateContainerRequestSchema, { pod: pod("p"), container: ctr("after", "p") }),
        ),
      )) as JsonValue,
    );
    assert.equal(reply.adjust?.annotations["ts-plugin/seen"], "after");
  });

  if (version === "0.8.0") {
    test("a split Synchronize (state over 4 MiB) is collected and delivered once", {
      timeout: 90_000,
    }, async (t) => {
      const defer = deferrer(t);
      const dir = tempDir();
      defer(() => removeDir(dir));
      const socket = join(dir, "nri.sock");
      const rt = await GoRuntime.start(bin, socket, RUNTIME_ARGS);
      defer(() => rt.exit());
      const pods = Array.from({ length: 60 }, (_, i) =>
        pod(`p${i}`, { annotations: { fill: "a".repeat(100_000) } }),
      );
      const containers = Array.from({ length: 120 }, (_, i) => ctr(`c${i}`, `p${i % 60}`));
      const state = await rt.command(
        "state",
        toJson(SynchronizeRequestSchema, create(SynchronizeRequestSchema, { pods, containers })),
      );
      assert.ok((state.bytes as number) > 4 << 20, "the state is larger than one ttrpc message");
      const rec = recorder();
      const statuses: Array<{ state: string; messages?: number }> = [];
      const plugin = createPlugin({
        name: "ts-split",
        index: "45",
        socketPath: socket,
        ...rec.handlers,
        onStatus: (s) => statuses.push(s),
      });
      defer(() => plugin.stop());
      await plugin.start();
      const synced = await rt.waitFor((l) => l.event === "synchronized", "synchronized");
      assert.equal(synced.error, undefined);
      await rec.waitFor("synchronize");
      assert.deepEqual(rec.syncs, [{ pods: 60, containers: 120 }]);
      const done = statuses.find((s) => s.state === "synchronized");
      assert.ok((done?.messages ?? 0) > 1, `split into ${done?.messages} messages`);
      t.diagnostic(`state of ${state.bytes} bytes synchronized in ${done?.messages} messages`);
    });
  }
});
