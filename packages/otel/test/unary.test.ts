// Unary calls: otelttrpc's names, attributes, events and status rules, context propagation both
// ways, user spans nested in the handler, deadlines, the filter, and the global fallbacks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { Code } from "ttrpc";
import {
  ERROR,
  events,
  inRoot,
  newSdk,
  only,
  parentOf,
  tracedPair,
  UNSET,
  until,
} from "./harness.js";

const NAME = "ttrpc.otel.test.v1.Traced/Echo";
const T = { timeout: 10_000 };

test(
  "unary success: otelttrpc's span names, kinds, attributes and events; one trace",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client, seen } = await tracedPair(sdk, t);
    const reply = await inRoot(sdk, () => client.echo({}));
    assert.deepEqual(reply, { ok: true });
    const spans = sdk.spans();
    const root = only(spans, "test.root");
    const clientSpan = spans.find((s) => s.name === NAME && s.kind === SpanKind.CLIENT);
    const serverSpan = spans.find((s) => s.name === NAME && s.kind === SpanKind.SERVER);
    assert.ok(clientSpan && serverSpan);
    assert.equal(serverSpan.kind, SpanKind.SERVER);
    assert.equal(clientSpan.kind, SpanKind.CLIENT);
    const attributes = {
      "rpc.system": "ttrpc",
      "rpc.service": "ttrpc.otel.test.v1.Traced",
      "rpc.method": "Echo",
      "rpc.ttrpc.status_code": 0,
    };
    assert.deepEqual(clientSpan.attributes, attributes);
    assert.deepEqual(serverSpan.attributes, attributes);
    assert.equal(clientSpan.status.code, UNSET);
    assert.equal(serverSpan.status.code, UNSET);
    assert.deepEqual(events(clientSpan), ["SENT 1", "RECEIVED 1"]);
    assert.deepEqual(events(serverSpan), ["RECEIVED 1", "SENT 1"]);
    assert.equal(clientSpan.instrumentationScope.name, "@ttrpc/otel");
    // One trace: root -> client -> server -> the handler's own span.
    const traceId = root.spanContext().traceId;
    for (const s of spans) assert.equal(s.spanContext().traceId, traceId, s.name);
    assert.equal(parentOf(clientSpan), root.spanContext().spanId);
    assert.equal(parentOf(serverSpan), clientSpan.spanContext().spanId);
    assert.equal(serverSpan.parentSpanContext?.isRemote, true);
    assert.equal(parentOf(only(spans, "user.echo")), serverSpan.spanContext().spanId);
    // W3C trace context in the metadata, naming the client span.
    const tp = seen.metadata[0]?.traceparent ?? "";
    assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(tp.split("-")[2], clientSpan.spanContext().spanId);
  },
);

test(
  "unary errors: the client span is an Error for any code, the server span for otelttrpc's list",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client } = await tracedPair(sdk, t);
    const cases: [ask: object, code: number, serverError: boolean][] = [
      [{ code: Code.NotFound }, Code.NotFound, false],
      [{ code: Code.InvalidArgument }, Code.InvalidArgument, false],
      [{ code: Code.Internal }, Code.Internal, true],
      [{ code: Code.Unavailable }, Code.Unavailable, true],
      [{ code: Code.DataLoss }, Code.DataLoss, true],
      [{ plain: true }, Code.Unknown, true],
      // A TtrpcError with code 0 goes out as UNKNOWN: the spans say what the client got.
      [{ code: 0 }, Code.Unknown, true],
    ];
    for (const [ask, code, serverError] of cases) {
      sdk.exporter.reset();
      await assert.rejects(client.echo(ask), (e: { code: number }) => e.code === code);
      const spans = sdk.spans().filter((s) => s.name === NAME);
      const c = spans.find((s) => s.kind === SpanKind.CLIENT);
      const s = spans.find((s) => s.kind === SpanKind.SERVER);
      assert.ok(c && s, `spans for code ${code}`);
      assert.equal(c.attributes["rpc.ttrpc.status_code"], code);
      assert.equal(s.attributes["rpc.ttrpc.status_code"], code);
      assert.equal(c.status.code, ERROR, `client status for code ${code}`);
      assert.equal(s.status.code, serverError ? ERROR : UNSET, `server status for code ${code}`);
      if (serverError) assert.match(s.status.message ?? "", /asked for code|plain failure/);
      // As otelttrpc, a failed unary call still has both message events on both sides.
      assert.deepEqual(events(c), ["SENT 1", "RECEIVED 1"]);
      assert.deepEqual(events(s), ["RECEIVED 1", "SENT 1"]);
    }
  },
);

test(
  "unary deadline: both spans DEADLINE_EXCEEDED, the server's from its own deadline",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client } = await tracedPair(sdk, t);
    await assert.rejects(client.echo({ delayMs: 300 }, { timeoutMs: 50 }), {
      code: Code.DeadlineExceeded,
    });
    const c = only(sdk.spans(), NAME);
    assert.equal(c.kind, SpanKind.CLIENT);
    assert.equal(c.attributes["rpc.ttrpc.status_code"], Code.DeadlineExceeded);
    assert.equal(c.status.code, ERROR);
    // The server answered DEADLINE_EXCEEDED at the deadline; its handler finished later, in vain.
    await until(() => sdk.spans().some((s) => s.kind === SpanKind.SERVER), "the server span");
    const s = sdk.spans().find((x) => x.kind === SpanKind.SERVER);
    assert.equal(s?.attributes["rpc.ttrpc.status_code"], Code.DeadlineExceeded);
    assert.equal(s?.status.code, ERROR);
  },
);

test("no active span: the client span is a root, the server span its child", T, async (t) => {
  const sdk = newSdk();
  const { client } = await tracedPair(sdk, t);
  await client.echo({});
  const c = sdk.spans().find((s) => s.kind === SpanKind.CLIENT);
  const s = sdk.spans().find((s) => s.kind === SpanKind.SERVER);
  assert.equal(c?.parentSpanContext, undefined);
  assert.equal(parentOf(s as never), c?.spanContext().spanId);
});

test(
  "a call without trace context makes a root server span, whatever context the server runs in",
  T,
  async (t) => {
    const sdk = newSdk();
    // The client is not traced: no traceparent goes out.
    const { client, seen } = await tracedPair(sdk, t, { clientOtel: { filter: () => false } });
    await inRoot(sdk, () => client.echo({}));
    assert.equal(seen.metadata[0]?.traceparent, undefined);
    const s = only(sdk.spans(), NAME);
    assert.equal(s.kind, SpanKind.SERVER);
    assert.equal(s.parentSpanContext, undefined);
    assert.notEqual(s.spanContext().traceId, only(sdk.spans(), "test.root").spanContext().traceId);
  },
);

test("the filter leaves a method alone; message events can be turned off", T, async (t) => {
  const sdk = newSdk();
  const { client, seen } = await tracedPair(sdk, t, {
    otel: { filter: (m) => m.name !== "Echo", messageEvents: false },
  });
  await client.echo({});
  assert.equal(seen.metadata[0]?.traceparent, undefined);
  assert.deepEqual(
    sdk.spans().map((s) => s.name),
    ["user.echo"],
  );
  const sum = await client.sum([{ n: 2 }]);
  assert.deepEqual(sum, { total: 2 });
  const traced = sdk.spans().filter((s) => s.name.endsWith("/Sum"));
  assert.equal(traced.length, 2);
  for (const s of traced) assert.deepEqual(events(s), []);
});

test("the given propagator carries baggage; caller metadata is kept", T, async (t) => {
  const sdk = newSdk();
  const { client, seen } = await tracedPair(sdk, t);
  const bag = propagation.createBaggage({ tenant: { value: "blue" } });
  await context.with(propagation.setBaggage(context.active(), bag), () =>
    client.echo({}, { metadata: { "x-custom": "kept", traceparent: "00-bogus" } }),
  );
  assert.equal(seen.metadata[0]?.baggage, "tenant=blue");
  assert.equal(seen.metadata[0]?.custom, "kept");
  // The caller's stale traceparent is replaced, as otelttrpc does.
  assert.notEqual(seen.metadata[0]?.traceparent, "00-bogus");
});

test(
  "defaults: the global tracer provider and propagator, looked up at call time",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client, seen } = await tracedPair(sdk, t, {
      otel: { tracerProvider: undefined, meterProvider: undefined },
    });
    // Registered after the interceptors were made.
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    t.after(() => {
      trace.disable();
      propagation.disable();
    });
    await client.echo({});
    assert.match(seen.metadata[0]?.traceparent ?? "", /^00-/);
    assert.equal(sdk.spans().filter((s) => s.name === NAME).length, 2);
  },
);

test("no SDK at all: calls work, nothing is sent", T, async (t) => {
  const sdk = newSdk();
  const { client, seen } = await tracedPair(sdk, t, {
    otel: { tracerProvider: undefined, meterProvider: undefined, propagator: undefined },
  });
  assert.deepEqual(await client.echo({}), { ok: true });
  await assert.rejects(client.echo({ code: Code.NotFound }), { code: Code.NotFound });
  assert.equal(seen.metadata[0]?.traceparent, undefined);
  assert.deepEqual(
    sdk.spans().map((s) => s.name),
    ["user.echo", "user.echo"],
  );
});
