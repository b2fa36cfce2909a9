// Issue 8 (1) and (5), the bounds in time: a frame that dribbles in, bytes that are not ttrpc, an
// idle connection, a client stream whose client went quiet.
import assert from "node:assert/strict";
import { createServer as createNetServer, type Socket } from "node:net";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import {
  connect,
  createClient,
  createServer,
  createWritableIterable,
  type ServerOptions,
} from "../src/index.js";
import { deferred, sleep } from "./helpers.js";
import {
  b,
  codeOf,
  frame,
  header,
  pbRequest,
  REQUEST,
  RESPONSE,
  rawClient,
  S,
  SERVICE,
  settle,
  tmpDir,
  Wire,
} from "./wire/helpers.js";

async function serve(t: TestContext, impl: object, options?: ServerOptions) {
  const path = join(tmpDir(t), "s.sock");
  const server = createServer(options);
  server.register(Wire, impl);
  await server.listen(path);
  t.after(() => server.close());
  return { server, path };
}

async function client(t: TestContext, path: string, options?: Parameters<typeof connect>[1]) {
  const conn = await connect(path, options);
  t.after(() => conn.close());
  return { conn, wire: createClient(Wire, conn) };
}

describe("time bounds: partial frames, idle connections, quiet client streams", {
  timeout: 20_000,
}, () => {
  test("server: a frame that does not complete within frameTimeoutMs closes the connection (slowloris)", {
    timeout: 15_000,
  }, async (t) => {
    const { path } = await serve(t, { unary: (m: Uint8Array) => m }, { frameTimeoutMs: 200 });
    const peer = await rawClient(t, path);
    const body = pbRequest({ service: SERVICE, method: "Unary", payload: b("x") });
    const whole = frame(1, REQUEST, 0, body);
    let i = 0;
    const drip = setInterval(() => {
      if (i < whole.length - 1) peer.socket.write(whole.subarray(i, ++i));
    }, 50);
    t.after(() => clearInterval(drip));
    await peer.closed;
    assert.ok(i < whole.length - 1, "closed before the frame completed");
    assert.equal(peer.frames.length, 0);
  });

  test("client: a frame that does not complete fails the pending calls with UNAVAILABLE", {
    timeout: 15_000,
  }, async (t) => {
    const path = join(tmpDir(t), "liar.sock");
    const sockets: Socket[] = [];
    const liar = createNetServer((s) => {
      sockets.push(s);
      s.once("data", () => s.write(header(100, 1, RESPONSE, 0).subarray(0, 6)));
    });
    await new Promise<void>((resolve) => liar.listen(path, resolve));
    t.after(() => {
      for (const s of sockets) s.destroy();
      liar.close();
    });
    const { wire } = await client(t, path, { frameTimeoutMs: 200 });
    const r = await settle(wire.unary(b("x")));
    assert.equal(codeOf(!r.ok && r.error), S.UNAVAILABLE);
    assert.match(String(!r.ok && (r.error as Error).message), /did not complete/);
  });

  test("client: bytes that are not ttrpc (a header with its reserved first byte set) close the connection", {
    timeout: 15_000,
  }, async (t) => {
    const path = join(tmpDir(t), "http.sock");
    const sockets: Socket[] = [];
    const http = createNetServer((s) => {
      sockets.push(s);
      s.once("data", () => s.write("HTTP/1.1 400 Bad Request\r\n\r\n"));
    });
    await new Promise<void>((resolve) => http.listen(path, resolve));
    t.after(() => {
      for (const s of sockets) s.destroy();
      http.close();
    });
    const { wire, conn } = await client(t, path);
    const r = await settle(wire.unary(b("x")));
    assert.equal(codeOf(!r.ok && r.error), S.UNAVAILABLE);
    assert.match(String(!r.ok && (r.error as Error).message), /does not speak ttrpc/);
    assert.equal(conn.isClosed, true);
  });

  test("idleTimeoutMs closes a connection with no call and no frame; a call in flight keeps it", {
    timeout: 15_000,
  }, async (t) => {
    const release = deferred();
    const { path } = await serve(
      t,
      {
        unary: async (m: Uint8Array) => {
          await release.promise;
          return m;
        },
      },
      { idleTimeoutMs: 150 },
    );
    const idle = await rawClient(t, path);
    const { wire, conn } = await client(t, path);
    const call = wire.unary(b("held"));
    await idle.closed;
    await sleep(300);
    assert.equal(conn.isClosed, false, "the connection with a call in flight stays open");
    release.resolve();
    assert.equal(Buffer.from(await call).toString(), "held");
    await conn.closed;
  });

  test("streamIdleTimeoutMs ends a client stream whose client went quiet (DEADLINE_EXCEEDED)", {
    timeout: 15_000,
  }, async (t) => {
    const reason = deferred<unknown>();
    const { path } = await serve(
      t,
      {
        async clientStream(reqs: AsyncIterable<Uint8Array>, ctx: { signal: AbortSignal }) {
          ctx.signal.addEventListener("abort", () => reason.resolve(ctx.signal.reason));
          for await (const _ of reqs);
          return b("done");
        },
      },
      { streamIdleTimeoutMs: 200 },
    );
    const { wire } = await client(t, path);
    const reqs = createWritableIterable<Uint8Array>();
    const result = settle(wire.clientStream(reqs));
    reqs.write(b("one"));
    assert.equal(codeOf(await reason.promise), S.DEADLINE_EXCEEDED);
    const r = await result;
    assert.equal(codeOf(!r.ok && r.error), S.DEADLINE_EXCEEDED);
    assert.match(String(!r.ok && (r.error as Error).message), /sent nothing for 200 ms/);
    reqs.close();
  });
});
