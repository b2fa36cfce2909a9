/**
 * Why the mux splits writes the way Go's bufio.Writer does: the same plugin, written by hand on
 * our Mux, once with the Go-compatible split and once sending each message as one mux frame. The
 * Go runtime accepts the first and drops the second as soon as a frame exceeds 4096 bytes.
 */
import assert from "node:assert/strict";
import { createConnection } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  ContainerSchema,
  CreateContainerRequestSchema,
  CreateContainerResponseSchema,
  Mux,
  PLUGIN_SERVICE_CONN,
  Plugin,
  PodSandboxSchema,
  RUNTIME_SERVICE_CONN,
  Runtime,
} from "@ttrpc/nri";
import { connect, createClient, createServer } from "ttrpc";
import { deferrer, GoRuntime, nriSuite, removeDir, tempDir } from "./harness.js";

/** Registers a hand-made plugin whose CreateContainer answers with an annotation of `size` bytes. */
async function handMadePlugin(socket: string, headBytes: number | undefined, size: number) {
  const trunk = createConnection(socket);
  await new Promise((resolve, reject) => trunk.once("connect", resolve).once("error", reject));
  const mux = new Mux(trunk, headBytes === undefined ? {} : { headBytes });
  const server = createServer();
  server.register(Plugin, {
    configure: () => ({ events: 1 << 3 }), // CreateContainer only
    synchronize: () => ({}),
    createContainer: () => ({ adjust: { annotations: { big: "z".repeat(size) } } }),
  });
  server.handleConnection(mux.open(PLUGIN_SERVICE_CONN));
  const runtime = createClient(Runtime, await connect(mux.open(RUNTIME_SERVICE_CONN)));
  await runtime.registerPlugin({ pluginName: "hand-made", pluginIdx: "50" });
  return { mux, server };
}

async function createOnce(rt: GoRuntime) {
  const req = create(CreateContainerRequestSchema, {
    pod: create(PodSandboxSchema, { id: "p" }),
    container: create(ContainerSchema, { id: "c" }),
  });
  return fromJson(
    CreateContainerResponseSchema,
    (await rt.command("create", toJson(CreateContainerRequestSchema, req))) as JsonValue,
  );
}

nriSuite("mux write split against the Go runtime", (bin) => {
  for (const [label, headBytes, survives] of [
    ["Go-compatible split (4096-byte head + remainder)", undefined, true],
    ["one mux frame per message (no split)", 1 << 20, false],
  ] as const) {
    test(`${label}: a 6 KB reply ${survives ? "is accepted" : "gets the plugin dropped"}`, {
      timeout: 30_000,
    }, async (t) => {
      const defer = deferrer(t);
      const dir = tempDir();
      defer(() => removeDir(dir));
      const socket = join(dir, "nri.sock");
      const rt = await GoRuntime.start(bin, socket, ["-request-timeout", "10s"]);
      defer(() => rt.exit());
      const { mux, server } = await handMadePlugin(socket, headBytes, 6000);
      defer(() => {
        mux.close();
        return server.close();
      });
      await rt.waitPlugins(1);
      const reply = await createOnce(rt);
      if (survives) {
        assert.equal(reply.adjust?.annotations.big?.length, 6000);
        assert.equal((await rt.command("plugins")).count, 1);
      } else {
        assert.equal(reply.adjust?.annotations.big, undefined, "the runtime got no adjustment");
        assert.equal((await rt.command("plugins")).count, 0, "the runtime dropped the plugin");
      }
    });
  }
});
