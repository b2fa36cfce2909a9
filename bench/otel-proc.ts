// One side of the tracing-overhead benchmark (bench/otel.ts runs it):
//   tsx bench/otel-proc.ts server|client <mode> <socket>
// Modes: off (no interceptor), pass (an interceptor that only calls next: the core's interceptor
// path alone), noop (@ttrpc/otel with the API's no-op providers, W3C propagator set),
// sdk (@ttrpc/otel with the SDK: AsyncLocalStorage context, always-on sampling, a batch span
// processor whose exporter drops the spans, both histograms recording).
// The server prints {"ready":true}; the client is a bench/lib/driver.ts driver.
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  ExportResultCode,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { otelInterceptor } from "@ttrpc/otel";
import { connect, createClient, createServer, type Interceptor } from "ttrpc";
import { type BenchClient, driverMain } from "./lib/driver.js";
import { PlainBench } from "./systems/ttrpc.js";

const [role, mode, socket] = process.argv.slice(2);
if ((role !== "server" && role !== "client") || mode === undefined || socket === undefined) {
  console.error("usage: otel-proc.ts server|client off|pass|noop|sdk <socket>");
  process.exit(2);
}
process.on("SIGTERM", () => process.exit(0));

let exported = 0;
/** Counts and drops: the cost measured is the SDK's, not an exporter's I/O. */
const dropExporter: SpanExporter = {
  export(spans: ReadableSpan[], done) {
    exported += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: async () => {},
};

class Reader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function interceptors(): Interceptor[] {
  switch (mode) {
    case "off":
      return [];
    case "pass":
      return [(next) => next];
    case "noop":
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      return [otelInterceptor()];
    case "sdk": {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(
        new CompositePropagator({
          propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
        }),
      );
      trace.setGlobalTracerProvider(
        new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropExporter)] }),
      );
      metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new Reader()] }));
      return [otelInterceptor()];
    }
    default:
      console.error(`unknown mode ${mode}`);
      process.exit(2);
  }
}

const payloads = new Map<number, Uint8Array>();
const payloadOf = (size: number): Uint8Array => {
  let p = payloads.get(size);
  if (p === undefined) {
    p = Buffer.alloc(size, 0x61);
    payloads.set(size, p);
  }
  return p;
};

if (role === "server") {
  const server = createServer({ interceptors: interceptors() });
  // The same handlers as bench/systems/ttrpc.ts (the fastest way the API allows).
  server.register(PlainBench, {
    unary: (req) => ({ payload: req.payload }),
    *serverStream(req) {
      const p = payloadOf(req.size);
      for (let i = 0; i < req.count; i++) yield { payload: p };
    },
  });
  await server.listen(socket);
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
  process.on("exit", () => process.stderr.write(`server exported ${exported} spans\n`));
} else {
  const conn = await connect(socket, { interceptors: interceptors() });
  const client = createClient(PlainBench, conn);
  const bench: BenchClient = {
    async unary(payload) {
      return (await client.unary({ payload })).payload;
    },
    async serverStream(count, size) {
      let n = 0;
      for await (const _ of client.serverStream({ count, size })) n++;
      return n;
    },
    clientStream: () => Promise.reject(new Error("not measured here")),
    bidi: () => Promise.reject(new Error("not measured here")),
    async close() {
      await conn.close();
    },
  };
  await driverMain(bench);
}
