/**
 * The interceptor's options, and the tracer, meter and propagator they resolve to.
 * @module
 */
import {
  type Context,
  type Histogram,
  type MeterProvider,
  metrics,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type Tracer,
  type TracerProvider,
  trace,
  ValueType,
} from "@opentelemetry/api";
import type { Metadata, MethodInfo } from "ttrpc";
import { METRIC_CLIENT_DURATION, METRIC_SERVER_DURATION } from "./semconv.js";
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from "./version.js";

/** Options of {@link otelInterceptor}, as OpenTelemetry JS instrumentations offer them. */
export interface OtelInterceptorOptions {
  /** Where spans go. Default: the global tracer provider, looked up at each call. */
  tracerProvider?: TracerProvider;
  /** Where the duration histograms go. Default: the global meter provider, looked up at each call. */
  meterProvider?: MeterProvider;
  /**
   * Writes the trace context into a request's metadata and reads it back. Default: the global
   * propagator (containerd configures W3C trace context and baggage).
   */
  propagator?: TextMapPropagator;
  /**
   * Which calls to trace: return false to leave a call alone (no span, no metric, no context
   * sent or read). Default: every call.
   */
  filter?: (method: MethodInfo, side: "client" | "server") => boolean;
  /**
   * Adds a `message` event per message (`message.type` SENT/RECEIVED, `message.id` from 1 in
   * each direction), like otelttrpc's WithMessageEvents. `true` turns both on. Default: off.
   */
  messageEvents?: boolean | { sent?: boolean; received?: boolean };
}

/** Reads a propagated field from ttrpc metadata: the first value, as otelttrpc does. */
export const metadataGetter: TextMapGetter<Metadata> = {
  get: (carrier, key) => carrier.get(key),
  keys: (carrier) => Array.from(carrier, ([key]) => key),
};

/** Writes a propagated field into ttrpc metadata, replacing what the caller set under that key. */
export const metadataSetter: TextMapSetter<Metadata> = {
  set: (carrier, key, value) => {
    carrier.set(key, value);
  },
};

/** The global propagator, called through the API so a later `setGlobalPropagator` applies. */
const globalPropagator: Pick<TextMapPropagator, "inject" | "extract"> = {
  inject: (context: Context, carrier: unknown, setter: TextMapSetter) =>
    propagation.inject(context, carrier, setter),
  extract: (context: Context, carrier: unknown, getter: TextMapGetter) =>
    propagation.extract(context, carrier, getter),
};

/**
 * The resolved options. Global providers are looked up at every call and the instruments are
 * remade when one changes: the API's global meter provider has no proxy, so a meter taken
 * before the SDK was registered would stay a no-op.
 */
export class Telemetry {
  /** The given propagator, or the global one (looked up at each call by the API). */
  readonly propagator: Pick<TextMapPropagator, "inject" | "extract">;
  /** Which calls to trace; undefined traces all. */
  readonly filter: OtelInterceptorOptions["filter"];
  /** Whether to add a SENT event per message. */
  readonly sentEvents: boolean;
  /** Whether to add a RECEIVED event per message. */
  readonly receivedEvents: boolean;
  readonly #tracerProvider: TracerProvider | undefined;
  readonly #meterProvider: MeterProvider | undefined;
  #tracerFrom: TracerProvider | undefined;
  #tracer: Tracer | undefined;
  #meterFrom: MeterProvider | undefined;
  #server: Histogram | undefined;
  #client: Histogram | undefined;

  constructor(options: OtelInterceptorOptions) {
    this.#tracerProvider = options.tracerProvider;
    this.#meterProvider = options.meterProvider;
    this.propagator = options.propagator ?? globalPropagator;
    this.filter = options.filter;
    const events = options.messageEvents;
    this.sentEvents = events === true || (typeof events === "object" && events.sent === true);
    this.receivedEvents =
      events === true || (typeof events === "object" && events.received === true);
  }

  /** The tracer of the configured (or current global) provider. */
  tracer(): Tracer {
    const provider = this.#tracerProvider ?? trace.getTracerProvider();
    if (provider !== this.#tracerFrom || this.#tracer === undefined) {
      this.#tracerFrom = provider;
      this.#tracer = provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    }
    return this.#tracer;
  }

  /** The duration histogram of one side, in milliseconds. */
  duration(side: "client" | "server"): Histogram {
    const provider = this.#meterProvider ?? metrics.getMeterProvider();
    if (provider !== this.#meterFrom || this.#server === undefined || this.#client === undefined) {
      this.#meterFrom = provider;
      const meter = provider.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
      // Fractional milliseconds: otelttrpc's Int64Histogram truncates, so sub-ms calls record 0.
      this.#server = meter.createHistogram(METRIC_SERVER_DURATION, {
        unit: "ms",
        description: "Duration of inbound ttrpc calls",
        valueType: ValueType.DOUBLE,
      });
      this.#client = meter.createHistogram(METRIC_CLIENT_DURATION, {
        unit: "ms",
        description: "Duration of outbound ttrpc calls",
        valueType: ValueType.DOUBLE,
      });
    }
    return side === "server" ? this.#server : this.#client;
  }
}
