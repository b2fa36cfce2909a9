/**
 * createPlugin without a runtime: option checks, the event mask, the registration timeout and
 * stopping while reconnecting. (Everything with a runtime is in test/nri, against Go's.)
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPlugin, Event, eventBit, eventMask, eventNames, NriError } from "../src/index.js";

const isNri = (code: string) => (e: unknown) => e instanceof NriError && e.code === code;

test("the event mask is derived from the handlers present", () => {
  assert.equal(eventMask({}), 0);
  assert.equal(eventMask({ createContainer: () => {} }), eventBit(Event.CREATE_CONTAINER));
  assert.equal(eventBit(Event.CREATE_CONTAINER), 8);
  const mask = eventMask({
    runPodSandbox: () => {},
    removeContainer: () => {},
    synchronize: () => {},
  });
  assert.deepEqual(eventNames(mask), ["runPodSandbox", "removeContainer"]);
  assert.equal(mask, 1 | (1 << 10));
});

test("names and indexes are checked; launched plugins take them from the environment", () => {
  assert.throws(() => createPlugin({ name: "bad name", index: "10" }), isNri("INVALID_NAME"));
  assert.throws(() => createPlugin({ name: "ok", index: "1" }), isNri("INVALID_INDEX"));
  assert.throws(() => createPlugin({ name: "ok" }), isNri("INVALID_INDEX"));
  assert.throws(
    () => createPlugin({ name: "ok", index: "10", registrationTimeoutMs: 0 }),
    isNri("INVALID_OPTIONS"),
  );
  const launched = createPlugin({
    name: "ignored",
    env: { NRI_PLUGIN_SOCKET: "3", NRI_PLUGIN_NAME: "from-env", NRI_PLUGIN_IDX: "07" },
  });
  assert.equal(launched.name, "from-env");
  assert.equal(launched.index, "07");
  assert.throws(
    () => createPlugin({ name: "x", index: "10", env: { NRI_PLUGIN_SOCKET: "three" } }),
    isNri("INVALID_OPTIONS"),
  );
});

test("updateContainers before registration is NOT_CONNECTED", async () => {
  const plugin = createPlugin({ name: "x", index: "10", socketPath: "/nonexistent/nri.sock" });
  await assert.rejects(plugin.updateContainers([]), isNri("NOT_CONNECTED"));
});

test("a runtime that never answers RegisterPlugin: REGISTRATION_TIMEOUT", {
  timeout: 10_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "nri-plugin-"));
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen(join(dir, "nri.sock"), resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const plugin = createPlugin({
    name: "x",
    index: "10",
    socketPath: join(dir, "nri.sock"),
    registrationTimeoutMs: 200,
    reconnect: false,
  });
  await assert.rejects(plugin.start(), isNri("REGISTRATION_TIMEOUT"));
  await plugin.stop();
});

test("stop() ends a plugin that is still trying to reach its runtime", {
  timeout: 10_000,
}, async () => {
  const errors: unknown[] = [];
  const plugin = createPlugin({
    name: "x",
    index: "10",
    socketPath: "/nonexistent/nri.sock",
    reconnect: { delayMs: 20, maxDelayMs: 40 },
    onError: (e) => errors.push(e),
  });
  const started = plugin.start();
  while (errors.length < 3) await new Promise((r) => setTimeout(r, 10));
  await plugin.stop();
  await assert.rejects(started, isNri("STOPPED"));
  assert.equal(plugin.connected, false);
});
