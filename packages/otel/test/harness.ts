// Shared test harness: an SDK with in-memory exporters, a test service for the four call kinds,
// and a traced server + client pair on a temporary unix socket.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { context, SpanStatusCode, type TracerProvider } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import {
  type HistogramMetricData,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  type ConnectOptions,
  connect,
  createClient,
  createServer,
  defineService,
  type HandlerContext,
  type MessageCodec,
  type ServerOptions,
  TtrpcError,
} from "ttrpc";
import { type OtelInterceptorOptions, otelInterceptor } from "../src/index.js";

// AsyncLocalStorage carries the active context across awaits, as in a real Node setup.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** An SDK of its own per test: spans in memory, metrics on demand. */
export interface Sdk {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  exporter: InMemorySpanExporter;
  spans(): ReadableSpan[];
  /** Reads the metrics now (then look at them with `histogram`). */
  collect(): Promise<void>;
  /** The histogram data points of `name` at the last `collect`. */
  histogram(name: string): HistogramMetricData["dataPoints"];
  scopes(): ResourceMetrics["scopeMetrics"];
  shutdown(): Promise<void>;
}

export function newSdk(): Sdk {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  let lastMetrics: ResourceMetrics | undefined;
  return {
    tracerProvider,
    meterProvider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    async collect() {
      lastMetrics = (await reader.collect()).resourceMetrics;
    },
    histogram(name) {
      const rm = lastMetrics;
      const points: HistogramMetricData["dataPoints"] = [];
      for (const sm of rm?.scopeMetrics ?? [])
        for (const m of sm.metrics)
          if (m.descriptor.name === name) points.push(...(m as HistogramMetricData).dataPoints);
      return points;
    },
    scopes: () => lastMetrics?.scopeMetrics ?? [],
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** JSON messages (an empty payload decodes to null). */
const json: MessageCodec<unknown> = {
  encode: (m) => Buffer.from(JSON.stringify(m ?? null)),
  decode: (b) => (b.length === 0 ? null : JSON.parse(Buffer.from(b).toString("utf8"))),
};

/** What a test request asks the handler to do. */
export interface Ask {
  /** Throw a TtrpcError with this code (streams: after `failAfter` messages). */
  code?: number;
  /** Throw a plain Error (UNKNOWN). */
  plain?: boolean;
  /** Messages a server stream sends. */
  n?: number;
  failAfter?: number;
  /** Sleep before answering (each message, for streams). */
  delayMs?: number;
}

const ask = json as MessageCodec<Ask>;

export const Traced = defineService({
  typeName: "ttrpc.otel.test.v1.Traced",
  methods: {
    echo: { name: "Echo", kind: "unary", input: ask, output: json },
    count: { name: "Count", kind: "server_streaming", input: ask, output: json },
    sum: { name: "Sum", kind: "client_streaming", input: ask, output: json },
    chat: { name: "Chat", kind: "bidi_streaming", input: ask, output: json },
  },
});

/** What the handlers saw, for assertions. */
export interface Seen {
  metadata: Record<string, string | undefined>[];
  baggage: (string | undefined)[];
}

function fail(ask: Ask): never {
  if (ask.plain) throw new Error("plain failure");
  throw new TtrpcError(`asked for code ${ask.code}`, ask.code ?? 2);
}

/** The handlers: each starts a user span ("user.*") through `userTracer` to prove nesting. */
function handlers(userTracer: TracerProvider, seen: Seen) {
  const tracer = () => userTracer.getTracer("test-user");
  const record = (ctx: HandlerContext) => {
    seen.metadata.push({
      traceparent: ctx.metadata.get("traceparent"),
      baggage: ctx.metadata.get("baggage"),
      custom: ctx.metadata.get("x-custom"),
    });
  };
  return {
    async echo(ask: Ask, ctx: HandlerContext) {
      record(ctx);
      await tracer().startActiveSpan("user.echo", async (span) => {
        if (ask.delayMs) await sleep(ask.delayMs);
        span.end();
      });
      if (ask.code !== undefined || ask.plain) fail(ask);
      return { ok: true };
    },
    async *count(ask: Ask, ctx: HandlerContext) {
      record(ctx);
      for (let i = 0; i < (ask.n ?? 3); i++) {
        if (ask.failAfter === i) fail(ask);
        // A span per step: each step must run inside the server span's context.
        const span = tracer().startSpan("user.step");
        span.end();
        if (ask.delayMs) await sleep(ask.delayMs);
        yield { i };
      }
      if (ask.failAfter === (ask.n ?? 3)) fail(ask);
    },
    async sum(asks: AsyncIterable<Ask>, ctx: HandlerContext) {
      record(ctx);
      let total = 0;
      for await (const ask of asks) {
        if (ask.code !== undefined) fail(ask);
        total += ask.n ?? 0;
      }
      tracer().startSpan("user.sum").end();
      return { total };
    },
    async *chat(asks: AsyncIterable<Ask>, ctx: HandlerContext) {
      record(ctx);
      for await (const ask of asks) {
        if (ask.code !== undefined) fail(ask);
        tracer().startSpan("user.chat").end();
        yield { n: ask.n };
      }
    },
  };
}

/** What containerd configures: W3C trace context and baggage. */
export const w3c = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/** A traced server and a traced client on a fresh socket; closed by `t.after`. */
export async function tracedPair(
  sdk: Sdk,
  t: { after(fn: () => Promise<void> | void): void },
  options: {
    otel?: OtelInterceptorOptions;
    clientOtel?: OtelInterceptorOptions;
    server?: ServerOptions;
    client?: ConnectOptions;
  } = {},
) {
  const base: OtelInterceptorOptions = {
    tracerProvider: sdk.tracerProvider,
    meterProvider: sdk.meterProvider,
    propagator: w3c,
    messageEvents: true,
    ...options.otel,
  };
  const seen: Seen = { metadata: [], baggage: [] };
  const server = createServer({ interceptors: [otelInterceptor(base)], ...options.server });
  server.register(Traced, handlers(sdk.tracerProvider, seen));
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-otel-"));
  const path = join(dir, "s.sock");
  await server.listen(path);
  const conn = await connect(path, {
    interceptors: [otelInterceptor({ ...base, ...options.clientOtel })],
    ...options.client,
  });
  t.after(async () => {
    await conn.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    await sdk.shutdown();
  });
  return { server, conn, client: createClient(Traced, conn), seen, path };
}

/** The one finished span called `name` (fails if there are none or several). */
export function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1)
    throw new Error(`${found.length} spans named ${name}: ${spans.map((s) => s.name).join(", ")}`);
  return found[0] as ReadableSpan;
}

/** Span status codes, short. */
export const ERROR = SpanStatusCode.ERROR;
export const UNSET = SpanStatusCode.UNSET;

/** The span id of a span's parent, or undefined for a root. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** The message events of a span as "SENT 1", "RECEIVED 2"... */
export function events(span: ReadableSpan): string[] {
  return span.events
    .filter((e) => e.name === "message")
    .map((e) => `${e.attributes?.["message.type"]} ${e.attributes?.["message.id"]}`);
}

/** Waits until `cond()` holds (spans end asynchronously after a stream's last frame). */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Starts a root span through `sdk` and runs `fn` inside it. */
export async function inRoot<T>(sdk: Sdk, fn: () => Promise<T>): Promise<T> {
  return sdk.tracerProvider
    .getTracer("test")
    .startActiveSpan("test.root", { root: true }, context.active(), async (span) => {
      try {
        return await fn();
      } finally {
        span.end();
      }
    });
}
