/**
 * The TypeScript target of the stress suite: `server.ts <socket> <options JSON>`.
 * Serves the interop services (the same ones the Go peer serves, so a raw attack hits both the same
 * way) and the Stress service, counting its running handlers. Prints {"ready":true,"pid"} when
 * listening. stdin takes JSON lines {id, cmd}: "stats" (memory after an optional GC, active
 * resources by kind, running handlers), "shutdown" (server.shutdown(); answers when it resolved),
 * "close" (server.close()). Whatever the engine does, the process itself never exits on its own:
 * a crash is an exit the runner sees.
 */
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { Code, createServer, type ServerOptions, TtrpcError } from "ttrpc";
import { Interop, implementations, Recorder, Streaming } from "../../interop/service.js";
import { Stress, u32 } from "./stress-service.js";

const [socket, optionsJson] = process.argv.slice(2);
if (socket === undefined) throw new Error("usage: server.ts <socket> [options JSON]");
const options = JSON.parse(optionsJson ?? "{}") as ServerOptions;

let handlers = 0;
let signalled = 0;
/** Counts a handler for as long as it runs, and whether its signal told it to stop. */
function track<A extends unknown[], R>(fn: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
  return async (...a) => {
    handlers += 1;
    try {
      return await fn(...a);
    } finally {
      handlers -= 1;
    }
  };
}
function trackGen<A extends unknown[], R>(
  fn: (...a: A) => AsyncIterable<R>,
): (...a: A) => AsyncIterable<R> {
  return async function* (...a) {
    handlers += 1;
    try {
      yield* fn(...a);
    } finally {
      handlers -= 1;
    }
  };
}

const server = createServer(options);
const impls = implementations(new Recorder());
server.register(Streaming, impls.streaming);
server.register(Interop, impls.interop);
server.register(Stress, {
  blob: (req) => Buffer.alloc(u32(req, 0), 1),
  hold: track(async (req, ctx) => {
    try {
      await delay(u32(req, 0), undefined, { signal: ctx.signal });
    } catch {
      signalled += 1;
      throw new TtrpcError("hold aborted", Code.Canceled);
    }
    return Buffer.alloc(0);
  }),
  flood: trackGen(async function* (req, ctx) {
    const count = u32(req, 0);
    const msg = Buffer.alloc(u32(req, 1), 2);
    const interval = u32(req, 2);
    ctx.signal.addEventListener("abort", () => (signalled += 1), { once: true });
    for (let i = 0; count === 0 || i < count; i++) {
      if (interval > 0) await delay(interval);
      yield msg;
    }
  }),
  stall: track(async (_reqs, ctx) => {
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    return Buffer.alloc(0);
  }),
  count: track(async (reqs) => {
    let n = 0;
    for await (const _ of reqs) n += 1;
    const out = Buffer.alloc(4);
    out.writeUInt32BE(n);
    return out;
  }),
  echo: trackGen(async function* (reqs) {
    for await (const m of reqs) yield m;
  }),
});
await server.listen(socket);

function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

function reply(id: unknown, body: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ id, ...body })}\n`);
}

createInterface({ input: process.stdin }).on("line", async (text) => {
  const { id, cmd, gc, timeoutMs } = JSON.parse(text) as {
    id: unknown;
    cmd: string;
    gc?: boolean;
    timeoutMs?: number;
  };
  if (cmd === "stats") {
    if (gc) {
      // Twice, with a turn between: finalizers and weak callbacks free more on the second pass.
      (globalThis as { gc?: () => void }).gc?.();
      await delay(20);
      (globalThis as { gc?: () => void }).gc?.();
    }
    const m = process.memoryUsage();
    reply(id, {
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      resources: resources(),
      handlers,
      signalled,
    });
  } else if (cmd === "shutdown" || cmd === "close") {
    const t0 = performance.now();
    // shutdown({ timeoutMs }) is issue 8's; today's engine takes no argument and ignores it.
    const shutdown = server.shutdown.bind(server) as (o?: { timeoutMs: number }) => Promise<void>;
    await (cmd === "shutdown"
      ? shutdown(timeoutMs === undefined ? undefined : { timeoutMs })
      : server.close());
    reply(id, { done: true, ms: Math.round(performance.now() - t0) });
  }
});
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
