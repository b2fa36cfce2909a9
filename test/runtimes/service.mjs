// The smoke service of test/runtimes/: plain JavaScript over the BUILT package (dist/), so Node,
// Bun and Deno all run it as it is, with no TypeScript loader. JSON codec, every call kind.
import * as ttrpc from "../../packages/ttrpc/dist/index.js";

const { Code, TtrpcError, createServer, defineService } = ttrpc;

/** The built package and its status codes, for checks.mjs (one import path for every runtime). */
export { Code, ttrpc };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const json = {
  encode: (m) => encoder.encode(JSON.stringify(m)),
  decode: (b) => JSON.parse(decoder.decode(b)),
};
const m = (name, kind) => ({ name, kind, input: json, output: json });

/** The smoke service: one method per behaviour the checks look at. */
export const Smoke = defineService({
  typeName: "smoke.v1.Smoke",
  methods: {
    hello: m("Hello", "unary"),
    count: m("Count", "server_streaming"),
    sum: m("Sum", "client_streaming"),
    echo: m("Echo", "bidi_streaming"),
    sleep: m("Sleep", "unary"),
    lastAbort: m("LastAbort", "unary"),
    fail: m("Fail", "unary"),
    crash: m("Crash", "unary"),
    size: m("Size", "unary"),
    shutdown: m("Shutdown", "unary"),
    missing: m("Missing", "unary"),
  },
});

/** The server's per-message limit, which the limit checks exceed. */
export const SERVER_MAX_BYTES = 64 * 1024;

/**
 * A server for the smoke service. `onShutdown` runs when a client asks for a graceful shutdown
 * (so a client in another runtime can check that calls in flight still finish).
 */
export function smokeServer(onShutdown) {
  let lastAbort = "none";
  const server = createServer({ maxMessageBytes: SERVER_MAX_BYTES });
  server.register(Smoke, {
    hello(req, ctx) {
      const metadata = [...ctx.metadata].map(([k, values]) => `${k}=${values.join(",")}`);
      return { text: `hello, ${req.name}`, metadata, timeoutMs: ctx.timeoutMs() };
    },
    async *count(req) {
      for (let n = 1; n <= req.to; n++) yield { n };
    },
    async sum(reqs) {
      let total = 0;
      for await (const r of reqs) total += r.n;
      return { total };
    },
    async *echo(reqs) {
      for await (const r of reqs) yield { text: `echo: ${r.text}` };
    },
    sleep(req, ctx) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ slept: req.ms }), req.ms);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          const reason = ctx.signal.reason;
          lastAbort = reason instanceof TtrpcError ? ttrpc.codeToString(reason.code) : "other";
          reject(reason);
        });
      });
    },
    lastAbort: () => ({ reason: lastAbort }),
    fail(req) {
      throw new TtrpcError(req.message, req.code, {
        details: [{ typeUrl: "type.googleapis.com/smoke.v1.Detail", value: encoder.encode("d") }],
      });
    },
    crash() {
      throw new Error("plain error from a handler");
    },
    size: (req) => ({ bytes: req.payload.length }),
    shutdown() {
      setTimeout(() => onShutdown?.(server), 0);
      return {};
    },
  });
  return server;
}
