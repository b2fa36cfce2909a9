// Tracing a ttrpc server and client with OpenTelemetry, exported to the console.
//   npx tsx --conditions=ttrpc-source examples/otel/console.ts
// A unary call and a server stream, each with a span of the handler's own nested under the
// server span, which is a child of the client span, itself under "example.root". Then the
// duration histograms (rpc.server.duration, rpc.client.duration).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { otelInterceptor } from "@ttrpc/otel";
import { connect, createClient, createServer, defineService, type MessageCodec } from "ttrpc";

// 1. The SDK, as an application sets it up once (the NodeSDK of @opentelemetry/sdk-node does
//    the same): a context manager so the active span follows awaits, containerd's propagator
//    (W3C trace context + baggage), a tracer provider and a meter provider.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
});
trace.setGlobalTracerProvider(tracerProvider);
const reader = new PeriodicExportingMetricReader({
  exporter: new ConsoleMetricExporter(),
  exportIntervalMillis: 60_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(meterProvider);

// 2. A service (JSON messages, to keep the example short; protobuf-es services work the same).
const json: MessageCodec<unknown> = {
  encode: (m) => Buffer.from(JSON.stringify(m)),
  decode: (b) => JSON.parse(Buffer.from(b).toString("utf8")),
};
const Greeter = defineService({
  typeName: "example.v1.Greeter",
  methods: {
    hello: { name: "Hello", kind: "unary", input: json, output: json },
    count: { name: "Count", kind: "server_streaming", input: json, output: json },
  },
});

// 3. The same interceptor on both sides; first in the list, so its span covers the others.
const tracer = trace.getTracer("example");
const server = createServer({ interceptors: [otelInterceptor()] });
server.register(Greeter, {
  async hello(req) {
    // The handler runs inside the server span: this span is its child.
    return tracer.startActiveSpan("example.lookup", (span) => {
      span.end();
      return { greeting: `hello ${(req as { name: string }).name}` };
    });
  },
  async *count(req) {
    for (let i = 0; i < (req as { n: number }).n; i++) {
      tracer.startSpan("example.step").end(); // each step of the stream too
      yield { i };
    }
  },
});
const dir = mkdtempSync(join(tmpdir(), "ttrpc-otel-example-"));
const path = join(dir, "greeter.sock");
await server.listen(path);
const conn = await connect(path, { interceptors: [otelInterceptor({ messageEvents: true })] });
const client = createClient(Greeter, conn);

await tracer.startActiveSpan("example.root", async (root) => {
  console.log(await client.hello({ name: "otel" }));
  for await (const m of client.count({ n: 2 })) console.log(m);
  root.end();
});

await conn.close();
await server.close();
rmSync(dir, { recursive: true, force: true });
await reader.forceFlush();
await meterProvider.shutdown();
await tracerProvider.shutdown();
