// @ttrpc/otel against containerd/otelttrpc 0.1.0 (the Go peer, test/otel/go): one trace crosses
// Go -> TS -> Go and TS -> Go -> TS with correct parent links and baggage; status codes and
// the server metric line up; and otelttrpc's client quirk is pinned. Set OTEL_INTEROP_DUMP=FILE
// to write every span of the two trace tests there as JSON lines.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { context, propagation, SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { type OtelInterceptorOptions, otelInterceptor } from "@ttrpc/otel";
import { Code, createServer, type Server } from "ttrpc";
import { newSdk, type Sdk, until, w3c } from "../../packages/otel/test/harness.js";
import { type GoSpan, goCall, otelPeerSuite, type Peer, startGoServer } from "./peer.js";
import { Relay, relay, relayImpl, type Seen } from "./relay.js";

const T = { timeout: 30_000 };
const NAME = "ttrpc.otel.v1.Relay/Call";

/** Our spans in the shape the Go peer prints, so the two sides can be compared and dumped. */
function ours(spans: ReadableSpan[]): GoSpan[] {
  const kinds = { [SpanKind.CLIENT]: "client", [SpanKind.SERVER]: "server" } as const;
  return spans.map((s) => ({
    name: s.name,
    kind: (kinds as Record<number, "client" | "server">)[s.kind] ?? "internal",
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? "",
    parentRemote: s.parentSpanContext?.isRemote === true,
    status: {
      code: (["Unset", "Ok", "Error"] as const)[s.status.code] ?? "Unset",
      description: s.status.message ?? "",
    },
    attributes: s.attributes as Record<string, string | number>,
    events: s.events.map((e) => ({
      name: e.name,
      attributes: (e.attributes ?? {}) as Record<string, string | number>,
    })),
    scope: s.instrumentationScope.name,
  }));
}

function dump(title: string, groups: [string, GoSpan[]][]): void {
  const file = process.env.OTEL_INTEROP_DUMP;
  if (!file) return;
  for (const [side, spans] of groups)
    for (const span of spans)
      appendFileSync(file, `${JSON.stringify({ test: title, side, ...span })}\n`);
}

function one(spans: GoSpan[], name: string, kind: GoSpan["kind"]): GoSpan {
  const found = spans.filter((s) => s.name === name && s.kind === kind);
  assert.equal(
    found.length,
    1,
    `one ${kind} span ${name} in ${JSON.stringify(spans.map((s) => s.name))}`,
  );
  return found[0] as GoSpan;
}

otelPeerSuite("tracing interop with containerd/otelttrpc 0.1.0 (Go peer)", (bin) => {
  let dir: string;
  let sdk: Sdk;
  let goServer: Peer;
  let goSocket: string;
  let tsSocket: string;
  let server: Server;
  let otel: OtelInterceptorOptions;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "ttrpc-otel-go-"));
    goSocket = join(dir, "go.sock");
    tsSocket = join(dir, "ts.sock");
    sdk = newSdk();
    otel = {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      propagator: w3c,
      messageEvents: true,
    };
    goServer = await startGoServer(bin, goSocket);
    server = createServer({ interceptors: [otelInterceptor(otel)] });
    server.register(Relay, relayImpl(otel, sdk.tracerProvider));
    await server.listen(tsSocket);
  });
  after(async () => {
    goServer?.kill();
    await server?.close();
    await sdk?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    "a trace started in Go crosses our server, then our client into a Go server: one trace",
    T,
    async () => {
      sdk.exporter.reset();
      const before = goServer.spans().length;
      const call = await goCall(bin, tsSocket, [`unix:${goSocket}`]);
      const result = (await call.waitFor((l) => "result" in l, "result")).result as {
        code: number;
        chain: Seen[];
      };
      assert.equal(result.code, 0, call.stderr);
      const goClient = call.spans();
      const goServed = () => goServer.spans().slice(before);
      await until(() => goServed().some((s) => s.kind === "server"), "the Go server span");
      const ts = ours(sdk.spans());
      dump("go->ts->go", [
        ["go call", goClient],
        ["ts", ts],
        ["go serve", goServed()],
      ]);

      const root = one(goClient, "go.root", "internal");
      const goRelay = one(goClient, "go.relay", "internal");
      const goC = one(goClient, NAME, "client");
      const tsS = one(ts, NAME, "server");
      const tsRelay = one(ts, "ts.relay", "internal");
      const tsC = one(ts, NAME, "client");
      const goS = one(goServed(), NAME, "server");
      for (const s of [goRelay, goC, tsS, tsRelay, tsC, goS])
        assert.equal(s.traceId, root.traceId, s.name);
      assert.equal(goRelay.parentSpanId, root.spanId);
      assert.equal(goC.parentSpanId, goRelay.spanId);
      assert.equal(tsS.parentSpanId, goC.spanId);
      assert.equal(tsS.parentRemote, true);
      assert.equal(tsRelay.parentSpanId, tsS.spanId);
      assert.equal(tsC.parentSpanId, tsRelay.spanId);
      assert.equal(goS.parentSpanId, tsC.spanId);
      assert.equal(goS.parentRemote, true);
      // The same names, attributes and events on both sides of each hop.
      for (const s of [goC, tsS, tsC, goS]) {
        assert.deepEqual(
          s.attributes,
          {
            "rpc.system": "ttrpc",
            "rpc.service": "ttrpc.otel.v1.Relay",
            "rpc.method": "Call",
            "rpc.ttrpc.status_code": 0,
          },
          `${s.kind} ${s.scope}`,
        );
        assert.deepEqual(
          s.events.map((e) => e.attributes),
          s.kind === "client"
            ? [
                { "message.type": "SENT", "message.id": 1 },
                { "message.type": "RECEIVED", "message.id": 1 },
              ]
            : [
                { "message.type": "RECEIVED", "message.id": 1 },
                { "message.type": "SENT", "message.id": 1 },
              ],
        );
        assert.equal(s.status.code, "Unset");
      }
      // Go's baggage went through our server's context into our client's metadata.
      assert.deepEqual(
        result.chain.map((s) => [s.by, s.baggage]),
        [
          ["ts", "origin=go"],
          ["go", "origin=go"],
        ],
      );
      assert.equal(result.chain[1]?.traceparent.split("-")[2], tsC.spanId);
    },
  );

  test(
    "a trace started here crosses a Go server and comes back to our server: one trace",
    T,
    async () => {
      sdk.exporter.reset();
      const before = goServer.spans().length;
      const tracer = sdk.tracerProvider.getTracer("ttrpc-otel-test");
      const bag = propagation.createBaggage({ origin: { value: "ts" } });
      const chain = await context.with(propagation.setBaggage(context.active(), bag), () =>
        tracer.startActiveSpan("ts.root", async (span) => {
          try {
            return await relay([`unix:${goSocket}`, `unix:${tsSocket}`], otel, sdk.tracerProvider);
          } finally {
            span.end();
          }
        }),
      );
      const goServed = () => goServer.spans().slice(before);
      await until(() => goServed().some((s) => s.kind === "server"), "the Go server span");
      const ts = ours(sdk.spans());
      dump("ts->go->ts", [
        ["ts", ts],
        ["go serve", goServed()],
      ]);
      const root = one(ts, "ts.root", "internal");
      const tsRelay = ts.filter((s) => s.name === "ts.relay");
      const outer = tsRelay.find((s) => s.parentSpanId === root.spanId) as GoSpan;
      const tsC = one(ts, NAME, "client");
      const goS = one(goServed(), NAME, "server");
      const goRelay = one(goServed(), "go.relay", "internal");
      const goC = one(goServed(), NAME, "client");
      const tsS = one(ts, NAME, "server");
      for (const s of [outer, tsC, goS, goRelay, goC, tsS])
        assert.equal(s.traceId, root.traceId, s.name);
      assert.equal(tsC.parentSpanId, outer.spanId);
      assert.equal(goS.parentSpanId, tsC.spanId);
      assert.equal(goRelay.parentSpanId, goS.spanId);
      assert.equal(goC.parentSpanId, goRelay.spanId);
      assert.equal(tsS.parentSpanId, goC.spanId);
      assert.deepEqual(
        chain.map((s) => [s.by, s.baggage]),
        [
          ["go", "origin=ts"],
          ["ts", "origin=ts"],
        ],
      );
    },
  );

  test(
    "status codes: our client span sees the Go server's code; the Go server span follows otelttrpc's list",
    T,
    async () => {
      for (const [code, goError] of [
        [Code.NotFound, false],
        [Code.Internal, true],
      ] as const) {
        sdk.exporter.reset();
        const before = goServer.spans().length;
        await assert.rejects(
          relay([`unix:${goSocket}`, `code:${code}`], otel, sdk.tracerProvider),
          { code },
        );
        const tsC = one(ours(sdk.spans()), NAME, "client");
        assert.equal(tsC.attributes["rpc.ttrpc.status_code"], code);
        assert.equal(tsC.status.code, "Error");
        await until(() => goServer.spans().length > before, "the Go server span");
        const goS = one(goServer.spans().slice(before), NAME, "server");
        assert.equal(goS.attributes["rpc.ttrpc.status_code"], code);
        assert.equal(goS.status.code, goError ? "Error" : "Unset");
      }
    },
  );

  test(
    "status codes: Go's client span stays OK on a server error (otelttrpc 0.1.0); ours marks it",
    T,
    async () => {
      for (const [code, tsError] of [
        [Code.NotFound, false],
        [Code.Internal, true],
      ] as const) {
        sdk.exporter.reset();
        const call = await goCall(bin, tsSocket, [`code:${code}`]);
        const result = (await call.waitFor((l) => "result" in l, "result")).result as {
          code: number;
        };
        assert.equal(result.code, code);
        const goC = one(call.spans(), NAME, "client");
        // ttrpc's client turns the response status into an error after the interceptors returned.
        assert.equal(goC.attributes["rpc.ttrpc.status_code"], 0);
        assert.equal(goC.status.code, "Unset");
        const tsS = one(ours(sdk.spans()), NAME, "server");
        assert.equal(tsS.attributes["rpc.ttrpc.status_code"], code);
        assert.equal(tsS.status.code, tsError ? "Error" : "Unset");
        assert.equal(tsS.parentSpanId, goC.spanId);
      }
    },
  );

  test(
    "rpc.server.duration: the same name, unit and attribute keys as otelttrpc's",
    T,
    async () => {
      await sdk.collect();
      const tsPoints = sdk.histogram("rpc.server.duration");
      assert.ok(tsPoints.length > 0);
      goServer.kill("SIGTERM");
      await goServer.waitFor((l) => "stopped" in l, "stopped line");
      const goPoints = goServer.metrics().filter((m) => m.name === "rpc.server.duration");
      assert.ok(goPoints.length > 0);
      for (const p of goPoints) {
        assert.equal(p.unit, "ms");
        assert.deepEqual(
          Object.keys(p.attributes).sort(),
          Object.keys(tsPoints[0]?.attributes ?? {}).sort(),
        );
      }
      // The Go server answered NotFound and Internal above, yet otelttrpc 0.1.0 files every call
      // under status code 0 (a shadowed variable); ours keeps the code.
      assert.deepEqual(
        goPoints.map((p) => p.attributes["rpc.ttrpc.status_code"]),
        goPoints.map(() => 0),
      );
      assert.ok(goPoints.reduce((n, p) => n + p.count, 0) >= 4);
      const tsCodes = tsPoints.map((p) => p.attributes["rpc.ttrpc.status_code"]);
      assert.ok(tsCodes.includes(Code.Internal) && tsCodes.includes(Code.NotFound), `${tsCodes}`);
    },
  );
});
