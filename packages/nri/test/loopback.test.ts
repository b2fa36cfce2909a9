/**
 * createPlugin against a runtime side written here on the same Mux: what the Go runtimes do not
 * exercise — a configure handler narrowing the mask, the split-Synchronize protocol step by step,
 * its byte bound, and the UNIMPLEMENTED answer newer runtimes fall back from.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, connect, createClient, createServer, defineService, TtrpcError } from "ttrpc";
import {
  ContainerSchema,
  createPlugin,
  Event,
  eventBit,
  Mux,
  PLUGIN_SERVICE_CONN,
  Plugin,
  PodSandboxSchema,
  RUNTIME_SERVICE_CONN,
  Runtime,
} from "../src/index.js";

const raw = { encode: (b: Uint8Array) => b, decode: (b: Uint8Array) => b };
/** A method of a newer NRI API this package's proto does not have. */
const NewerPlugin = defineService({
  typeName: "nri.pkg.api.v1alpha1.Plugin",
  methods: { runPodSandbox: { name: "RunPodSandbox", kind: "unary", input: raw, output: raw } },
});

test("configure narrows the mask; split Synchronize; sync bound; UNIMPLEMENTED for unknown calls", {
  timeout: 20_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "nri-loop-"));
  const path = join(dir, "nri.sock");
  const accepted = new Promise<Socket>((resolve) => {
    const net = createNetServer(resolve);
    net.listen(path);
    t.after(() => net.close());
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const synced: number[] = [];
  const plugin = createPlugin({
    name: "loop",
    index: "01",
    socketPath: path,
    reconnect: false,
    maxSyncBytes: 10_000,
    configure: () => eventBit(Event.CREATE_CONTAINER),
    synchronize(pods, containers) {
      synced.push(pods.length, containers.length);
      return [{ containerId: "c1", ignoreFailure: true }];
    },
    createContainer: (_pod, c) => ({ adjust: { annotations: { seen: c.id } } }),
    removeContainer: () => {},
  });
  const running = plugin.run();

  // The runtime side: serve Runtime on connection 2, call Plugin on connection 1.
  const mux = new Mux(await accepted);
  t.after(() => mux.close());
  const registered = new Promise<string>((resolve) => {
    const server = createServer();
    server.register(Runtime, {
      registerPlugin: (req) => {
        resolve(`${req.pluginIdx}-${req.pluginName}`);
        return {};
      },
      updateContainers: () => ({ failed: [] }),
    });
    server.handleConnection(mux.open(RUNTIME_SERVICE_CONN));
    t.after(() => server.close());
  });
  const conn = await connect(mux.open(PLUGIN_SERVICE_CONN));
  const client = createClient(Plugin, conn);
  assert.equal(await registered, "01-loop");
  const cfg = await client.configure({ runtimeName: "loop", runtimeVersion: "0" });
  assert.equal(cfg.events, eventBit(Event.CREATE_CONTAINER), "only what configure asked for");

  const p1 = create(PodSandboxSchema, { id: "p1" });
  const p2 = create(PodSandboxSchema, { id: "p2" });
  const part1 = await client.synchronize({ pods: [p1], more: true });
  assert.deepEqual([part1.more, part1.update.length], [true, 0], "a part: more, no updates");
  const last = await client.synchronize({
    pods: [p2],
    containers: [create(ContainerSchema, { id: "c1" })],
  });
  assert.deepEqual([last.more, last.update.map((u) => u.containerId)], [false, ["c1"]]);
  assert.deepEqual(synced, [2, 1], "delivered once, with every part");

  const big = create(PodSandboxSchema, { id: "big", annotations: { a: "x".repeat(20_000) } });
  await assert.rejects(
    client.synchronize({ pods: [big], more: true }),
    (e: unknown) => e instanceof TtrpcError && e.code === Code.ResourceExhausted,
  );

  const reply = await client.createContainer({
    pod: p1,
    container: create(ContainerSchema, { id: "c9" }),
  });
  assert.equal(reply.adjust?.annotations.seen, "c9");

  // A newer runtime's per-event call: UNIMPLEMENTED, from which it falls back to StateChange.
  const newer = createClient(NewerPlugin, conn);
  await assert.rejects(
    newer.runPodSandbox(new Uint8Array(0)),
    (e: unknown) => e instanceof TtrpcError && e.code === Code.Unimplemented,
  );

  mux.close();
  await running;
  assert.equal(plugin.connected, false);
});
