// The duration histograms (rpc.server.duration as otelttrpc, rpc.client.duration), the global
// meter provider looked up late, and "zero cost when not used": the core never loads this package.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { metrics } from "@opentelemetry/api";
import { Code } from "ttrpc";
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from "../src/index.js";
import { newSdk, tracedPair } from "./harness.js";

const T = { timeout: 10_000 };
const base = {
  "rpc.system": "ttrpc",
  "rpc.service": "ttrpc.otel.test.v1.Traced",
};

test(
  "rpc.server.duration and rpc.client.duration: a data point per method and status code",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client } = await tracedPair(sdk, t);
    for (let i = 0; i < 3; i++) await client.echo({});
    await assert.rejects(client.echo({ code: Code.NotFound }));
    await client.echo({ delayMs: 30 });
    for await (const _ of client.count({ n: 2 })) {
      // drain
    }
    await sdk.collect();
    for (const name of ["rpc.server.duration", "rpc.client.duration"]) {
      const points = sdk.histogram(name);
      const find = (method: string, code: number) =>
        points.find(
          (p) =>
            p.attributes["rpc.method"] === method && p.attributes["rpc.ttrpc.status_code"] === code,
        );
      const ok = find("Echo", 0);
      assert.ok(ok, `${name}: Echo OK`);
      assert.deepEqual(ok.attributes, {
        ...base,
        "rpc.method": "Echo",
        "rpc.ttrpc.status_code": 0,
      });
      assert.equal(ok.value.count, 4);
      // The 30 ms call alone makes the sum at least 30 ms; fractional milliseconds are kept.
      assert.ok((ok.value.sum ?? 0) >= 29, `${name} sum ${ok.value.sum}`);
      assert.ok(
        (ok.value.min ?? 0) > 0 && !Number.isInteger(ok.value.min),
        `${name} min ${ok.value.min}`,
      );
      assert.equal(find("Echo", Code.NotFound)?.value.count, 1);
      assert.equal(find("Count", 0)?.value.count, 1);
      assert.equal(points.length, 3);
    }
    const scope = sdk.scopes().find((s) => s.scope.name === INSTRUMENTATION_NAME);
    assert.equal(scope?.scope.version, INSTRUMENTATION_VERSION);
    const server = scope?.metrics.find((m) => m.descriptor.name === "rpc.server.duration");
    assert.equal(server?.descriptor.unit, "ms");
  },
);

test(
  "the global meter provider is looked up at call time (set after the interceptor was made)",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client } = await tracedPair(sdk, t, { otel: { meterProvider: undefined } });
    await client.echo({});
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    t.after(() => metrics.disable());
    await client.echo({});
    await sdk.collect();
    assert.equal(sdk.histogram("rpc.server.duration")[0]?.value.count, 1);
    assert.equal(sdk.histogram("rpc.client.duration")[0]?.value.count, 1);
  },
);

test("zero cost when not used: the core neither imports nor depends on OpenTelemetry", T, () => {
  const core = new URL("../../ttrpc/", import.meta.url);
  const pkg = JSON.parse(readFileSync(new URL("package.json", core), "utf8"));
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"])
    for (const dep of Object.keys(pkg[field] ?? {})) assert.doesNotMatch(dep, /opentelemetry/);
  for (const file of readdirSync(new URL("src/", core))) {
    const source = readFileSync(new URL(`src/${file}`, core), "utf8");
    assert.doesNotMatch(source, /opentelemetry|@ttrpc\/otel/, file);
  }
  const own = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.equal(own.version, INSTRUMENTATION_VERSION);
  assert.ok(own.peerDependencies["@opentelemetry/api"]);
  assert.equal(own.dependencies, undefined, "no runtime dependencies of its own");
});
