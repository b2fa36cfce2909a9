/**
 * The examples in examples/nri against the Go runtime: the env injector launched by the runtime
 * itself (socket on fd 3, name and index from NRI_PLUGIN_*, settings from the drop-in config),
 * and the lifecycle logger as an external plugin printing JSON lines.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  ContainerSchema,
  CreateContainerRequestSchema,
  CreateContainerResponseSchema,
  Event,
  PodSandboxSchema,
  StateChangeEventSchema,
} from "@ttrpc/nri";
import {
  deferrer,
  GoRuntime,
  JsonLines,
  kill,
  nriSuite,
  removeDir,
  tempDir,
  writeExecutable,
} from "./harness.js";

const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const NODE = [process.execPath, "--conditions=ttrpc-source", "--import", "tsx"];

const pod = create(PodSandboxSchema, { id: "pod-1", name: "web", namespace: "shop", uid: "u1" });
const container = create(ContainerSchema, { id: "ctr-1", podSandboxId: "pod-1", name: "nginx" });
const createReq = toJson(
  CreateContainerRequestSchema,
  create(CreateContainerRequestSchema, { pod, container }),
);

nriSuite("examples/nri", (bin) => {
  test("inject-env, launched by the runtime (fd 3), configured from its drop-in file", {
    timeout: 90_000,
  }, async (t) => {
    const defer = deferrer(t);
    const dir = tempDir();
    defer(() => removeDir(dir));
    const plugins = join(dir, "plugins");
    const conf = join(dir, "conf.d");
    mkdirSync(plugins);
    mkdirSync(conf);
    // The runtime launches plugins with an empty environment: everything is spelled out here.
    writeExecutable(
      join(plugins, "10-inject-env"),
      `#!/bin/sh\ncd '${REPO}' && exec ${NODE.map((a) => `'${a}'`).join(" ")} examples/nri/inject-env.ts\n`,
    );
    writeFileSync(
      join(conf, "10-inject-env.conf"),
      JSON.stringify({ env: { LAUNCHED: "yes" }, annotations: { a: "b" } }),
    );
    const rt = await GoRuntime.start(
      bin,
      join(dir, "nri.sock"),
      [
        "-plugin-path",
        plugins,
        "-config-path",
        conf,
        "-registration-timeout",
        "60s",
        "-request-timeout",
        "10s",
      ],
      { cwd: REPO, readyTimeoutMs: 70_000 },
    );
    defer(() => rt.exit());
    await rt.waitPlugins(1, 30_000);
    const reply = fromJson(
      CreateContainerResponseSchema,
      (await rt.command("create", createReq)) as JsonValue,
    );
    assert.deepEqual(
      reply.adjust?.env.map((e) => [e.key, e.value]),
      [["LAUNCHED", "yes"]],
    );
    assert.equal(reply.adjust?.annotations.a, "b");
  });

  test("lifecycle-logger prints each event as a JSON line", { timeout: 90_000 }, async (t) => {
    const defer = deferrer(t);
    const dir = tempDir();
    defer(() => removeDir(dir));
    const socket = join(dir, "nri.sock");
    const rt = await GoRuntime.start(bin, socket, ["-request-timeout", "10s"]);
    defer(() => rt.exit());
    const child = spawn(
      NODE[0] as string,
      [...NODE.slice(1), "examples/nri/lifecycle-logger.ts", "--socket", socket],
      {
        cwd: REPO,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    defer(() => kill(child));
    const out = new JsonLines(child);
    await out.waitFor((l) => l.event === "Configure", "Configure line", 60_000);
    await rt.waitPlugins(1, 30_000);
    const event = (e: Event) =>
      rt.command(
        "event",
        toJson(
          StateChangeEventSchema,
          create(StateChangeEventSchema, { event: e, pod, container }),
        ),
      );
    await event(Event.RUN_POD_SANDBOX);
    await rt.command("create", createReq);
    await event(Event.START_CONTAINER);
    await event(Event.REMOVE_CONTAINER);
    await out.waitFor((l) => l.event === "RemoveContainer", "RemoveContainer line");
    assert.deepEqual(
      out.lines.map((l) => l.event),
      ["Configure", "RunPodSandbox", "CreateContainer", "StartContainer", "RemoveContainer"],
    );
    const created = out.lines.find((l) => l.event === "CreateContainer") as {
      pod: { namespace: string; name: string };
      container: { name: string };
    };
    assert.deepEqual(
      [created.pod.namespace, created.pod.name, created.container.name],
      ["shop", "web", "nginx"],
    );
  });
});
