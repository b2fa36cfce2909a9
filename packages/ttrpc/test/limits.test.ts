// Issue 8 (1) and (5): every resource a peer can make us hold is bounded by an option, in bytes,
// messages or streams (the bounds in time are timeouts.test.ts); nonsensical options are refused
// when a server or connection is made.
import assert from "node:assert/strict";
import { createConnection, createServer as createNetServer, type Socket } from "node:net";
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
  collect,
  frame,
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

/** Waits until `cond` holds, polling (the test's own timeout ends a wait that never does). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(10);
}

describe("options are checked when a server or connection is made", { timeout: 10_000 }, () => {
  test("nonsensical values throw a RangeError naming the option", { timeout: 15_000 }, () => {
    for (const options of [
      { streamBufferSize: 0 },
      { streamBufferSize: -1 },
      { streamBufferSize: 1.5 },
      { streamBufferBytes: Number.NaN },
      { maxMessageBytes: 0 },
      { maxWriteQueueBytes: -5 },
      { maxConcurrentStreams: 0 },
      { maxMetadataEntries: 0 },
      { frameTimeoutMs: 0 },
      { idleTimeoutMs: -1 },
      { streamBufferTimeoutMs: -1 },
      { handshakeTimeoutMs: Number.NaN },
    ]) {
      const name = Object.keys(options)[0] as string;
      assert.throws(() => createServer(options), RangeError, name);
      assert.throws(() => createServer(options), new RegExp(name), name);
    }
  });

  test("a value that is not a number throws a TypeError", { timeout: 15_000 }, () => {
    assert.throws(
      () => createServer({ maxWriteQueueBytes: "16MiB" as unknown as number }),
      TypeError,
    );
    assert.throws(() => createServer({ onError: 5 as unknown as () => void }), TypeError);
  });

  test("connect() checks its options too, and Infinity means no bound", {
    timeout: 15_000,
  }, async (t) => {
    const a = createConnection("/nonexistent-ttrpc-test.sock");
    a.on("error", () => {});
    t.after(() => a.destroy());
    await assert.rejects(async () => connect(a, { streamBufferSize: 0 }), RangeError);
    await assert.rejects(async () => connect(a, { frameTimeoutMs: -1 }), RangeError);
    // A path target is refused before it is dialled (nothing connects, nothing leaks).
    await assert.rejects(
      connect("/nonexistent-ttrpc-test.sock", { maxWriteQueueBytes: 0 }),
      RangeError,
    );
    assert.ok(createServer({ streamBufferBytes: Number.POSITIVE_INFINITY }));
  });

  test("Infinity (or any time past what a Node timer can wait) means never, not 1 ms", {
    timeout: 15_000,
  }, async (t) => {
    const { path } = await serve(
      t,
      { unary: (m: Uint8Array) => m },
      {
        handshakeTimeoutMs: Number.POSITIVE_INFINITY,
        frameTimeoutMs: 3e9,
        streamIdleTimeoutMs: Number.POSITIVE_INFINITY,
        handshaker: async () => {
          await sleep(50);
          return {};
        },
      },
    );
    const { wire } = await client(t, path, { frameTimeoutMs: Number.POSITIVE_INFINITY });
    assert.equal(Buffer.from(await wire.unary(b("still here"))).toString(), "still here");
  });

  test("shutdown() checks its timeout", { timeout: 15_000 }, async () => {
    const server = createServer();
    await assert.rejects(server.shutdown({ timeoutMs: Number.NaN }), RangeError);
    await server.close();
  });
});

describe("per-connection write queue (maxWriteQueueBytes)", { timeout: 20_000 }, () => {
  test("a client that never reads stops the server from starting calls; reading again lets all finish", {
    timeout: 15_000,
  }, async (t) => {
    let started = 0;
    const size = 256 * 1024;
    const { path } = await serve(
      t,
      {
        unary: () => {
          started++;
          return Buffer.alloc(size, 1);
        },
      },
      { maxWriteQueueBytes: 1 << 20 },
    );
    const peer = await rawClient(t, path);
    peer.socket.pause();
    const n = 64;
    const reqs = Array.from({ length: n }, (_, i) =>
      frame(
        1 + 2 * i,
        REQUEST,
        0,
        pbRequest({ service: SERVICE, method: "Unary", payload: b("x") }),
      ),
    );
    await peer.write(...reqs);
    await sleep(300);
    // 1 MiB queued, plus what the kernel's socket buffers took: far fewer than 64 replies.
    assert.ok(started < n / 2, `${started} handlers started for a reader that reads nothing`);
    peer.socket.resume();
    await until(() => peer.frames.length === n);
    assert.equal(started, n);
    assert.deepEqual(
      peer.frames.map((f) => [f.type, f.length > size]),
      Array.from({ length: n }, () => [RESPONSE, true]),
    );
  });

  test("a server that never reads makes new client calls wait, in order, not fill memory", {
    timeout: 15_000,
  }, async (t) => {
    const path = join(tmpDir(t), "deaf.sock");
    const accepted: Socket[] = [];
    const deaf = createNetServer({ pauseOnConnect: true }, (s) => accepted.push(s));
    await new Promise<void>((resolve) => deaf.listen(path, resolve));
    t.after(() => {
      for (const s of accepted) s.destroy();
      deaf.close();
    });
    const socket = createConnection(path);
    await new Promise((resolve) => socket.once("connect", resolve));
    const cap = 256 * 1024;
    const conn = await connect(socket, { maxWriteQueueBytes: cap });
    t.after(() => conn.close());
    const w = createClient(Wire, conn);
    const calls = Array.from({ length: 64 }, (_, i) =>
      settle(w.unary(Buffer.alloc(64 * 1024, i), { timeoutMs: i === 63 ? 200 : undefined })),
    );
    await sleep(300);
    assert.ok(
      socket.writableLength <= cap + 128 * 1024,
      `${socket.writableLength} bytes queued with a ${cap}-byte cap`,
    );
    // A call waiting for the queue still honours its deadline.
    const last = await calls[63];
    assert.equal(codeOf(!last?.ok && last?.error), S.DEADLINE_EXCEEDED);
    await conn.close();
    for (const r of await Promise.all(calls)) assert.equal(r.ok, false);
  });
});

describe("per-stream buffers in bytes and messages (streamBufferBytes)", {
  timeout: 20_000,
}, () => {
  test("an unread server stream of large messages fails at its byte bound, not at 64 messages", {
    timeout: 15_000,
  }, async (t) => {
    const { path } = await serve(t, {
      async *serverStream() {
        for (let i = 0; i < 48; i++) yield Buffer.alloc(256 * 1024, i);
      },
    });
    const { wire } = await client(t, path, {
      streamBufferBytes: 1 << 20,
      streamBufferTimeoutMs: 60_000,
    });
    const it = wire.serverStream(b("go"))[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    await sleep(300); // the consumer is busy: the server's messages pile up
    const rest = await collect({ [Symbol.asyncIterator]: () => it });
    assert.equal(codeOf(rest.error), S.RESOURCE_EXHAUSTED);
    assert.match(String((rest.error as Error).message), /stream buffer full/);
    assert.ok(rest.items.length <= 8, `${rest.items.length} messages of 256 KiB were buffered`);
  });

  test("a reader that keeps up never fails: 1,100 tiny messages from an array and from a handler", {
    timeout: 15_000,
  }, async (t) => {
    const n = 1100;
    const { path } = await serve(t, {
      async clientStream(reqs: AsyncIterable<Uint8Array>) {
        let count = 0;
        for await (const _ of reqs) count++;
        return b(String(count));
      },
      *serverStream() {
        for (let i = 0; i < n; i++) yield b("m");
      },
    });
    const { wire } = await client(t, path);
    const sum = await wire.clientStream(Array.from({ length: n }, () => b("x")));
    assert.equal(Buffer.from(sum).toString(), String(n));
    const got = await collect(wire.serverStream(b("go")));
    assert.equal(got.error, undefined);
    assert.equal(got.items.length, n);
  });

  test("a server handler that stops reading a client stream fails it at the byte bound", {
    timeout: 15_000,
  }, async (t) => {
    const aborted = deferred<unknown>();
    const { path } = await serve(
      t,
      {
        clientStream(_reqs: AsyncIterable<Uint8Array>, ctx: { signal: AbortSignal }) {
          return new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => {
              aborted.resolve(ctx.signal.reason);
              reject(ctx.signal.reason);
            }),
          );
        },
      },
      { streamBufferBytes: 1 << 20, streamBufferTimeoutMs: 60_000 },
    );
    const { wire } = await client(t, path);
    const reqs = createWritableIterable<Uint8Array>();
    const result = settle(wire.clientStream(reqs));
    for (let i = 0; i < 16; i++) reqs.write(Buffer.alloc(256 * 1024, i));
    assert.equal(codeOf(await aborted.promise), S.RESOURCE_EXHAUSTED);
    const r = await result;
    assert.equal(codeOf(!r.ok && r.error), S.RESOURCE_EXHAUSTED);
    reqs.close();
  });
});

describe("per-connection inbound buffers (connectionBufferBytes)", { timeout: 20_000 }, () => {
  test("streams that are behind fail once the connection's total passes its bound; the connection goes on", {
    timeout: 15_000,
  }, async (t) => {
    const { path } = await serve(t, {
      async *serverStream(req: Uint8Array) {
        const n = Number(Buffer.from(req).toString());
        for (let i = 0; i < n; i++) yield Buffer.alloc(256 * 1024, i);
      },
    });
    // Each stream alone (16 × 256 KiB = 4 MiB) is within its own bound; two are past the total.
    const { wire } = await client(t, path, {
      connectionBufferBytes: 1 << 20,
      streamBufferBytes: 8 << 20,
      streamBufferTimeoutMs: 60_000,
    });
    const lagging = [
      wire.serverStream(b("16"))[Symbol.asyncIterator](),
      wire.serverStream(b("16"))[Symbol.asyncIterator](),
    ];
    for (const it of lagging) assert.equal((await it.next()).done, false);
    await sleep(300); // both readers are busy: the messages pile up
    for (const it of lagging) {
      const rest = await collect({ [Symbol.asyncIterator]: () => it });
      assert.equal(codeOf(rest.error), S.RESOURCE_EXHAUSTED);
      assert.match(String((rest.error as Error).message), /connection buffer full/);
    }
    const after = await collect(wire.serverStream(b("8")));
    assert.equal(after.error, undefined, "a stream read as it comes is not failed");
    assert.equal(after.items.length, 8);
  });

  test("unary requests held by slow handlers stop reading at the bound; none fails, all complete", {
    timeout: 15_000,
  }, async (t) => {
    let started = 0;
    const release = deferred();
    const { path } = await serve(
      t,
      {
        async unary() {
          started++;
          await release.promise;
          return b("ok");
        },
      },
      { connectionBufferBytes: 8 << 20 },
    );
    const { wire } = await client(t, path);
    t.after(() => release.resolve());
    const mib = Buffer.alloc(1 << 20, 1);
    const calls = Array.from({ length: 64 }, () => wire.unary(mib).then(() => 0, codeOf));
    await until(() => started >= 8);
    await sleep(300); // the rest of the 64 MiB would have arrived by now, were it read
    assert.ok(started <= 9, `${started} handlers started holding 1 MiB each, bound 8 MiB`);
    release.resolve();
    assert.deepEqual(await Promise.all(calls), Array(64).fill(0));
    assert.equal(started, 64);
  });
});

describe("streams per connection and metadata per request", { timeout: 20_000 }, () => {
  test("streaming calls past maxConcurrentStreams are refused with RESOURCE_EXHAUSTED; unary calls are not counted", {
    timeout: 15_000,
  }, async (t) => {
    const { path } = await serve(
      t,
      {
        unary: (m: Uint8Array) => m,
        async *bidi(reqs: AsyncIterable<Uint8Array>) {
          for await (const m of reqs) yield m;
        },
      },
      { maxConcurrentStreams: 2 },
    );
    const { wire } = await client(t, path);
    const open = [createWritableIterable<Uint8Array>(), createWritableIterable<Uint8Array>()];
    const its = open.map((reqs) => wire.bidi(reqs)[Symbol.asyncIterator]());
    for (const [i, reqs] of open.entries()) {
      reqs.write(b(`s${i}`));
      assert.equal(Buffer.from((await its[i]?.next())?.value).toString(), `s${i}`);
    }
    const third = await collect(wire.bidi([b("x")]));
    assert.equal(codeOf(third.error), S.RESOURCE_EXHAUSTED);
    assert.match(String((third.error as Error).message), /too many concurrent streams/);
    const many = await Promise.all(Array.from({ length: 10 }, () => wire.unary(b("u"))));
    assert.equal(many.length, 10);
    open[0]?.close();
    await collect({ [Symbol.asyncIterator]: () => its[0] as AsyncIterator<Uint8Array> });
    assert.deepEqual(
      (await collect(wire.bidi([b("again")]))).items.map((m) => Buffer.from(m).toString()),
      ["again"],
    );
    open[1]?.close();
  });

  test("metadata past maxMetadataEntries or maxMetadataBytes is refused with RESOURCE_EXHAUSTED", {
    timeout: 15_000,
  }, async (t) => {
    let ran = 0;
    const { path } = await serve(
      t,
      {
        unary: (m: Uint8Array) => {
          ran++;
          return m;
        },
      },
      { maxMetadataEntries: 10, maxMetadataBytes: 1024 },
    );
    const { wire } = await client(t, path);
    const entries = (n: number) =>
      Array.from({ length: n }, (_, i) => [`k${i}`, "v"] as [string, string]);
    assert.ok(await wire.unary(b("ok"), { metadata: entries(10) }));
    for (const metadata of [entries(11), [["big", "x".repeat(2000)] as [string, string]]]) {
      const r = await settle(wire.unary(b("no"), { metadata }));
      assert.equal(codeOf(!r.ok && r.error), S.RESOURCE_EXHAUSTED);
      assert.match(String(!r.ok && (r.error as Error).message), /metadata exceeds/);
    }
    assert.equal(ran, 1);
  });

  test("by default a metadata bomb (200,000 entries) is refused", {
    timeout: 15_000,
  }, async (t) => {
    const { path } = await serve(t, { unary: (m: Uint8Array) => m });
    const { wire } = await client(t, path);
    const metadata = Array.from(
      { length: 200_000 },
      (_, i) => [`key-${i}`, "v"] as [string, string],
    );
    const r = await settle(wire.unary(b("x"), { metadata }));
    assert.equal(codeOf(!r.ok && r.error), S.RESOURCE_EXHAUSTED);
  });
});
