/**
 * Our side of the relay service the Go peer implements (test/otel/go/relay.go):
 * ttrpc.otel.v1.Relay/Call takes a google.protobuf.StringValue of space-separated hops
 * (`unix:PATH` calls the next server, `code:N` fails with code N) and answers a StringValue
 * holding a JSON array of what each server saw.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import type { TracerProvider } from "@opentelemetry/api";
import { type OtelInterceptorOptions, otelInterceptor } from "@ttrpc/otel";
import {
  connect,
  createClient,
  defineService,
  type HandlerContext,
  type MessageCodec,
  TtrpcError,
} from "ttrpc";

const stringValue: MessageCodec<string> = {
  encode: (value) => toBinary(StringValueSchema, create(StringValueSchema, { value })),
  decode: (bytes) => fromBinary(StringValueSchema, bytes).value,
};

export const Relay = defineService({
  typeName: "ttrpc.otel.v1.Relay",
  methods: { call: { name: "Call", kind: "unary", input: stringValue, output: stringValue } },
});

/** What one server saw. */
export interface Seen {
  by: "go" | "ts";
  traceparent: string;
  baggage: string;
}

/** Runs the hops, the downstream call inside a span of its own ("ts.relay"). */
export async function relay(
  hops: string[],
  otel: OtelInterceptorOptions,
  tracerProvider: TracerProvider,
): Promise<Seen[]> {
  const [hop, ...rest] = hops;
  if (hop === undefined) return [];
  if (hop.startsWith("code:")) {
    const n = Number(hop.slice(5));
    throw new TtrpcError(`relay: asked for code ${n}`, n);
  }
  return tracerProvider.getTracer("ttrpc-otel-test").startActiveSpan("ts.relay", async (span) => {
    const conn = await connect(hop.replace(/^unix:/, ""), {
      interceptors: [otelInterceptor(otel)],
    });
    try {
      const answer = await createClient(Relay, conn).call(rest.join(" "), { timeoutMs: 10_000 });
      return JSON.parse(answer) as Seen[];
    } finally {
      await conn.close();
      span.end();
    }
  });
}

/** The handler of our relay server. */
export function relayImpl(otel: OtelInterceptorOptions, tracerProvider: TracerProvider) {
  return {
    async call(value: string, ctx: HandlerContext): Promise<string> {
      const me: Seen = {
        by: "ts",
        traceparent: ctx.metadata.get("traceparent") ?? "",
        baggage: ctx.metadata.get("baggage") ?? "",
      };
      const hops = value.split(" ").filter((h) => h !== "");
      return JSON.stringify([me, ...(await relay(hops, otel, tracerProvider))]);
    },
  };
}
