/**
 * Our client as a child process of the stress suite: `client.ts <connect options JSON>`.
 * Prints {"ready":true,"pid"}; stdin takes JSON lines {id, cmd, socket, ...} and every command is
 * answered by a line with the same id. Calls whose outcome comes later are recorded and reported
 * by "outcomes". A crash (an exit) is what the runner watches for.
 *
 * - call {kind: unary|server|client|bidi, size?, watchMs}: one call; answers with its outcome, or
 *   "pending" when it has not settled after watchMs (it keeps running).
 * - flood-unary {count, size, shared?}: count Blob requests of size bytes, not awaited (the peer may
 *   never read); with shared, one buffer serves every request.
 * - unread-stream {count, size}: Flood(count, size), reads one message and then stops reading.
 * - hold {unary, streams, ms}: Hold calls and open bidi streams, to be killed mid-flight.
 * - outcomes, stats.
 */
import { createInterface } from "node:readline";
import { type Connection, type ConnectOptions, connect, createClient, TtrpcError } from "ttrpc";
import { Stress, u32s } from "./stress-service.js";

const options = JSON.parse(process.argv[2] ?? "{}") as ConnectOptions;
const conns = new Map<string, Promise<Connection>>();
const outcomes: Record<string, unknown>[] = [];

function client(socket: string) {
  let conn = conns.get(socket);
  if (conn === undefined) {
    conn = connect(socket, options);
    conns.set(socket, conn);
  }
  return conn.then((c) => createClient(Stress, c));
}

function outcomeOf(e: unknown): Record<string, unknown> {
  if (e instanceof TtrpcError) return { ok: false, code: e.code, message: e.rawMessage };
  return { ok: false, code: -1, message: String(e) };
}

/** An async iterable that yields `n` messages and then stays open until the process ends. */
async function* openRequests(n: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < n; i++) yield u32s(i);
  await new Promise(() => {});
}

async function run(c: Record<string, unknown>): Promise<Record<string, unknown>> {
  const socket = String(c.socket ?? "");
  switch (c.cmd) {
    case "call": {
      const stress = await client(socket);
      const size = Number(c.size ?? 0);
      const kind = String(c.kind);
      const opts = c.timeoutMs === undefined ? {} : { timeoutMs: Number(c.timeoutMs) };
      const work = (async () => {
        if (kind === "unary") return (await stress.blob(u32s(size), opts)).length;
        if (kind === "client") return (await stress.count([u32s(1), u32s(2)], opts)).length;
        let n = 0;
        const res =
          kind === "server" ? stress.flood(u32s(3, size, 0), opts) : stress.echo([u32s(1)], opts);
        for await (const _ of res) n += 1;
        return n;
      })().then(
        (n) => ({ ok: true, messages: n }),
        (e: unknown) => outcomeOf(e),
      );
      const watch = new Promise<Record<string, unknown>>((resolve) =>
        setTimeout(() => resolve({ ok: false, pending: true }), Number(c.watchMs ?? 3000)).unref(),
      );
      return Promise.race([work, watch]);
    }
    case "flood-unary": {
      const stress = await client(socket);
      // One buffer for every request (`shared`): what grows is what the engine queues (small
      // requests are copied into their frames), not the application's own request buffers.
      const shared = c.shared ? Buffer.alloc(Number(c.size), 1) : undefined;
      for (let i = 0; i < Number(c.count); i++) {
        // Else a buffer per request, as an application has: the engine may queue them without copying.
        stress.blob(shared ?? Buffer.alloc(Number(c.size), i)).then(
          () => outcomes.push({ cmd: "flood-unary", ok: true }),
          (e: unknown) => outcomes.push({ cmd: "flood-unary", ...outcomeOf(e) }),
        );
      }
      return { issued: Number(c.count) };
    }
    case "unread-stream": {
      const stress = await client(socket);
      const it = stress.flood(u32s(Number(c.count), Number(c.size), 0))[Symbol.asyncIterator]();
      await it.next();
      // Never read again; the stream's end (a failure, or none) is recorded when it comes.
      const conn = await conns.get(socket);
      conn?.closed.then(
        () => outcomes.push({ cmd: "unread-stream", closed: true }),
        (e: unknown) => outcomes.push({ cmd: "unread-stream", closed: true, ...outcomeOf(e) }),
      );
      // Then read everything that is left: the stream either ends after all its messages or
      // fails (and how many were delivered before the failure says what was buffered).
      setTimeout(
        async () => {
          let n = 1;
          try {
            while (!(await it.next()).done) n += 1;
            outcomes.push({ cmd: "unread-stream", ok: true, messages: n });
          } catch (e) {
            outcomes.push({ cmd: "unread-stream", messages: n, ...outcomeOf(e) });
          }
        },
        Number(c.readAfterMs ?? 3000),
      ).unref();
      return { started: true };
    }
    case "hold": {
      const stress = await client(socket);
      for (let i = 0; i < Number(c.unary); i++) {
        stress.hold(u32s(Number(c.ms))).catch(() => {});
      }
      for (let i = 0; i < Number(c.streams); i++) {
        (async () => {
          for await (const _ of stress.echo(openRequests(1))) {
            // reading keeps the stream flowing
          }
        })().catch(() => {});
      }
      return { inflight: true };
    }
    case "outcomes":
      return { outcomes: outcomes.splice(0) };
    case "stats": {
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed };
    }
    default:
      return { error: `unknown command ${String(c.cmd)}` };
  }
}

createInterface({ input: process.stdin }).on("line", (text) => {
  const c = JSON.parse(text) as Record<string, unknown>;
  run(c).then(
    (body) => process.stdout.write(`${JSON.stringify({ id: c.id, ...body })}\n`),
    (e: unknown) => process.stdout.write(`${JSON.stringify({ id: c.id, error: String(e) })}\n`),
  );
});
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
