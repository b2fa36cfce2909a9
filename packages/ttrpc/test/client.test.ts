// Client behaviour: deadlines, cancellation, connection loss, back-pressure, interceptors,
// handshakes and protobuf-es init objects, over real unix sockets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Interop, Streaming } from "../../../test/interop/gen/interop_pb.js";
import {
  Code,
  connect,
  createClient,
  createServer,
  createWritableIterable,
  defineService,
  type Interceptor,
  Metadata,
  TtrpcError,
} from "../src/index.js";
import { collect, deferred, json, pair, sleep, tempSocket, text } from "./helpers.js";

const Svc = defineService({
  typeName: "test.v1.Client",
  methods: {
    echo: { name: "Echo", kind: "unary", input: json, output: json },
    hang: { name: "Hang", kind: "unary", input: json, output: json },
    count: { name: "Count", kind: "server_streaming", input: json, output: json },
    sum: { name: "Sum", kind: "client_streaming", input: json, output: json },
    chat: { name: "Chat", kind: "bidi_streaming", input: json, output: json },
    big: { name: "Big", kind: "unary", input: json, output: text },
  },
});

describe("deadlines", () => {
  it("timeoutMs fails the call with DEADLINE_EXCEEDED and aborts the handler's signal at that deadline", {
    timeout: 20_000,
  }, async (t) => {
    const aborted = deferred<unknown>();
    const p = await pair(t, Svc, {
      hang(_req, ctx) {
        ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
        return new Promise(() => {});
      },
      echo: (r) => r,
    });
    await assert.rejects(p.client.hang(1, { timeoutMs: 50 }), { code: Code.DeadlineExceeded });
    const reason = (await aborted.promise) as TtrpcError;
    assert.equal(reason.code, Code.DeadlineExceeded);
    assert.equal(p.conn.activeStreams, 0);
    assert.equal(await p.client.echo("still fine"), "still fine");
    await p.close();
  });

  it("a deadline also covers streams, and the stream's metadata and timeout reach the server", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Svc, {
      async *count(_n, ctx) {
        yield { md: ctx.metadata.getAll("x-k"), left: ctx.timeoutMs() };
        await new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
        );
      },
    });
    const it = p.client
      .count(0, { timeoutMs: 300, metadata: { "X-K": ["a", "b"] } })
      [Symbol.asyncIterator]();
    const first = (await it.next()).value as { md: string[]; left: number };
    assert.deepEqual(first.md, ["a", "b"]);
    assert.ok(first.left > 0 && first.left <= 300);
    await assert.rejects(it.next(), { code: Code.DeadlineExceeded });
    await p.close();
  });

  it("a zero or negative timeout fails at once without sending anything", {
    timeout: 20_000,
  }, async (t) => {
    let calls = 0;
    const p = await pair(t, Svc, {
      echo: () => {
        calls++;
        return 1;
      },
    });
    await assert.rejects(p.client.echo(1, { timeoutMs: 0 }), { code: Code.DeadlineExceeded });
    await assert.rejects(p.client.echo(1, { timeoutMs: -5 }), { code: Code.DeadlineExceeded });
    assert.equal(await p.client.echo(1), 1);
    assert.equal(calls, 1);
    await p.close();
  });
});

describe("cancellation", () => {
  it("an aborted signal fails a unary call with CANCELLED; the connection goes on", {
    timeout: 20_000,
  }, async (t) => {
    const started = deferred();
    const p = await pair(t, Svc, {
      hang() {
        started.resolve();
        return new Promise(() => {});
      },
      echo: (r) => r,
    });
    const controller = new AbortController();
    const call = p.client.hang(1, { signal: controller.signal });
    await started.promise;
    controller.abort();
    await assert.rejects(call, { code: Code.Canceled });
    assert.equal(p.conn.activeStreams, 0);
    assert.equal(await p.client.echo(2), 2);
    await p.close();
  });

  it("an already aborted signal fails before anything is sent", { timeout: 20_000 }, async (t) => {
    const p = await pair(t, Svc, { echo: (r) => r });
    await assert.rejects(p.client.echo(1, { signal: AbortSignal.abort() }), {
      code: Code.Canceled,
    });
    await p.close();
  });

  it("the abort reason is kept when it is a TtrpcError", { timeout: 20_000 }, async (t) => {
    const p = await pair(t, Svc, { hang: () => new Promise(() => {}) });
    const controller = new AbortController();
    const call = p.client.hang(1, { signal: controller.signal });
    controller.abort(new TtrpcError("shutting down", Code.Aborted));
    await assert.rejects(call, { code: Code.Aborted, rawMessage: "shutting down" });
    await p.close();
  });

  it("breaking out of a server stream drops it locally; the client sends nothing more", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Svc, {
      async *count(n: unknown) {
        for (let i = 0; i < (n as number); i++) yield i;
      },
      echo: (r) => r,
    });
    const got: unknown[] = [];
    for await (const x of p.client.count(1000)) {
      got.push(x);
      if (got.length === 3) break;
    }
    assert.deepEqual(got, [0, 1, 2]);
    assert.equal(p.conn.activeStreams, 0);
    assert.equal(await p.client.echo("after"), "after");
    await p.close();
  });

  it("aborting a bidi stream stops its request pump", { timeout: 20_000 }, async (t) => {
    let sent = 0;
    const p = await pair(t, Svc, {
      async *chat(reqs) {
        for await (const r of reqs) yield r;
      },
    });
    const controller = new AbortController();
    async function* requests() {
      for (;;) {
        sent++;
        yield sent;
        await sleep(1);
      }
    }
    const responses: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const r of p.client.chat(requests(), { signal: controller.signal })) {
          responses.push(r);
          if (responses.length === 5) controller.abort();
        }
      })(),
      { code: Code.Canceled },
    );
    const sentAtAbort = sent;
    await sleep(30);
    assert.ok(sent <= sentAtAbort + 1, `pump kept going: ${sentAtAbort} → ${sent}`);
    await p.close();
  });

  it("a failing request iterable fails the call with its error", { timeout: 20_000 }, async (t) => {
    const p = await pair(t, Svc, {
      async sum(reqs) {
        for await (const _ of reqs);
        return 0;
      },
    });
    async function* broken() {
      yield 1;
      throw new TtrpcError("source broke", Code.DataLoss);
    }
    await assert.rejects(p.client.sum(broken()), { code: Code.DataLoss });
    await p.close();
  });
});

describe("connection loss", () => {
  it("a server that dies fails every pending call and stream with UNAVAILABLE; later calls fail at once", {
    timeout: 20_000,
  }, async (t) => {
    const started = deferred();
    let n = 0;
    const p = await pair(t, Svc, {
      hang() {
        if (++n === 2) started.resolve();
        return new Promise(() => {});
      },
      async *count() {
        yield 1;
        await new Promise(() => {});
      },
    });
    // Rejection handlers are attached before the close (Deno delivers the rejections first).
    const calls = [p.client.hang(1), p.client.hang(2)].map((call) =>
      assert.rejects(call, { code: Code.Unavailable }),
    );
    const stream = p.client.count(0)[Symbol.asyncIterator]();
    assert.equal((await stream.next()).value, 1);
    await started.promise;
    const next = assert.rejects(stream.next(), { code: Code.Unavailable });
    // Kill the transport under the server, as a crashed peer would.
    const other = await connect(p.path);
    t.after(() => other.close());
    await p.server.close();
    await Promise.all(calls);
    await next;
    await assert.rejects(p.client.echo(1), { code: Code.Unavailable });
    assert.equal(p.conn.isClosed, true);
    assert.equal((await p.conn.closed)?.code, Code.Unavailable);
    await other.close();
  });

  it("one connection's death does not touch another", { timeout: 20_000 }, async (t) => {
    const p = await pair(t, Svc, { echo: (r) => r });
    const second = await connect(p.path);
    t.after(() => second.close());
    const c2 = createClient(Svc, second);
    await p.conn.close();
    await assert.rejects(p.client.echo(1), { code: Code.Unavailable });
    assert.equal(await c2.echo("alive"), "alive");
    await second.close();
    await p.server.close();
  });

  it("connect to a missing socket rejects with UNAVAILABLE", { timeout: 20_000 }, async () => {
    await assert.rejects(connect(tempSocket("missing.sock")), { code: Code.Unavailable });
  });

  it("connect honours an aborted signal", { timeout: 20_000 }, async () => {
    await assert.rejects(connect(tempSocket("x.sock"), { signal: AbortSignal.abort() }), {
      code: Code.Canceled,
    });
  });
});

describe("size limit", () => {
  it("a response over the limit becomes RESOURCE_EXHAUSTED for that call only (Go would drop the connection)", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Svc, { big: (n) => "x".repeat(n as number), echo: (r) => r });
    await assert.rejects(p.client.big(4 * 1024 * 1024 + 10), { code: Code.ResourceExhausted });
    assert.equal((await p.client.big(10)).length, 10);
    assert.equal(await p.client.echo("ok"), "ok");
    await p.close();
  });

  it("maxMessageBytes is configurable on both sides", { timeout: 20_000 }, async (t) => {
    const p = await pair(
      t,
      Svc,
      { big: (n) => "y".repeat(n as number) },
      { server: { maxMessageBytes: 1024 }, client: { maxMessageBytes: 2048 } },
    );
    await assert.rejects(p.client.big(1500), { code: Code.ResourceExhausted });
    assert.equal((await p.client.big(500)).length, 500);
    await p.close();
  });

  it("a streamed message over the limit fails the stream with RESOURCE_EXHAUSTED", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Svc, {
      async *count() {
        yield "small";
        yield "z".repeat(4 * 1024 * 1024 + 1);
      },
    });
    const it = p.client.count(0)[Symbol.asyncIterator]();
    assert.equal((await it.next()).value, "small");
    await assert.rejects(it.next(), { code: Code.ResourceExhausted });
    await p.close();
  });
});

describe("back-pressure", () => {
  it("a stream nobody reads never blocks unary calls or other streams on the same connection", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(
      t,
      Svc,
      {
        async *count(n) {
          for (let i = 0; i < (n as number); i++) yield i;
          await new Promise(() => {}); // then never ends
        },
        echo: (r) => r,
      },
      { client: { streamBufferSize: 8, streamBufferTimeoutMs: 200 } },
    );
    const unread = p.client.count(20)[Symbol.asyncIterator]();
    assert.equal((await unread.next()).value, 0);
    // The unread stream's buffer is full; everything else keeps flowing meanwhile.
    for (let i = 0; i < 20; i++) assert.equal(await p.client.echo(i), i);
    const other = p.client.count(5)[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) assert.equal((await other.next()).value, i);
    await other.return?.();
    // Past the grace period the unread stream fails with RESOURCE_EXHAUSTED, the rest goes on.
    await sleep(300);
    await assert.rejects(
      (async () => {
        for (;;) if ((await unread.next()).done) return;
      })(),
      { code: Code.ResourceExhausted, rawMessage: "ttrpc: stream buffer full" },
    );
    assert.equal(await p.client.echo("after"), "after");
    await p.close();
  });

  it("a fast stream far beyond its buffer fails at once instead of buffering without bound", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(
      t,
      Svc,
      {
        async *count(n) {
          for (let i = 0; i < (n as number); i++) yield i;
        },
        echo: (r) => r,
      },
      { client: { streamBufferSize: 8, streamBufferTimeoutMs: 60_000 } },
    );
    const unread = p.client.count(100_000)[Symbol.asyncIterator]();
    assert.equal((await unread.next()).value, 0);
    assert.equal(await p.client.echo("meanwhile"), "meanwhile");
    await assert.rejects(
      (async () => {
        for (;;) if ((await unread.next()).done) return;
      })(),
      { code: Code.ResourceExhausted },
    );
    await p.close();
  });

  it("a server handler that does not read its client stream fails that stream only", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(
      t,
      Svc,
      {
        sum: () => new Promise(() => {}),
        echo: (r) => r,
      },
      { server: { streamBufferSize: 4, streamBufferTimeoutMs: 100 } },
    );
    const requests = createWritableIterable<number>();
    const result = p.client.sum(requests);
    for (let i = 0; i < 50; i++) requests.write(i);
    assert.equal(await p.client.echo("meanwhile"), "meanwhile");
    await assert.rejects(result, { code: Code.ResourceExhausted });
    requests.close();
    assert.equal(await p.client.echo("after"), "after");
    await p.close();
  });

  it("a large server stream honours socket back-pressure and arrives whole", {
    timeout: 20_000,
  }, async (t) => {
    const chunk = "q".repeat(256 * 1024);
    const p = await pair(t, Svc, {
      async *count(n) {
        for (let i = 0; i < (n as number); i++) yield chunk;
      },
    });
    let total = 0;
    for await (const m of p.client.count(64)) total += (m as string).length;
    assert.equal(total, 64 * chunk.length);
    await p.close();
  });
});

describe("interceptors", () => {
  it("run in order on client and server, see every call kind, and may change metadata and timeout", {
    timeout: 20_000,
  }, async (t) => {
    const log: string[] = [];
    const tag =
      (name: string): Interceptor =>
      (next) =>
      async (req) => {
        log.push(`${name}>${req.method.name}:${req.stream ? "stream" : "unary"}`);
        if (req.side === "client") req.metadata.append("x-chain", name);
        const res = await next(req);
        log.push(`${name}<${req.method.name}`);
        return res;
      };
    const addTimeout: Interceptor = (next) => async (req) => {
      req.timeoutMs ??= 5000;
      return next(req);
    };
    const p = await pair(
      t,
      Svc,
      {
        echo: (_r, ctx) => ({
          chain: ctx.metadata.getAll("x-chain"),
          timed: ctx.deadline !== undefined,
        }),
        async *count(_n, ctx) {
          yield ctx.metadata.getAll("x-chain");
        },
        async sum(reqs) {
          let s = 0;
          for await (const r of reqs) s += r as number;
          return s;
        },
        async *chat(reqs) {
          for await (const r of reqs) yield r;
        },
      },
      {
        server: { interceptors: [tag("s1"), tag("s2")] },
        client: { interceptors: [tag("c1"), tag("c2"), addTimeout] },
      },
    );
    assert.deepEqual(await p.client.echo(1), { chain: ["c1", "c2"], timed: true });
    assert.deepEqual(log, [
      "c1>Echo:unary",
      "c2>Echo:unary",
      "s1>Echo:unary",
      "s2>Echo:unary",
      "s2<Echo",
      "s1<Echo",
      "c2<Echo",
      "c1<Echo",
    ]);
    log.length = 0;
    assert.deepEqual(await collect(p.client.count(0)), [["c1", "c2"]]);
    assert.equal(await p.client.sum([1, 2, 3]), 6);
    assert.deepEqual(await collect(p.client.chat(["a"])), ["a"]);
    assert.ok(
      log.includes("s1>Sum:stream") &&
        log.includes("c1>Chat:stream") &&
        log.includes("s2>Count:unary"),
    );
    await p.close();
  });

  it("a stream interceptor can transform messages in both directions", {
    timeout: 20_000,
  }, async (t) => {
    const upper: Interceptor = (next) => async (req) => {
      if (!req.stream) return next(req);
      const source = req.messages;
      req.messages = (async function* () {
        for await (const m of source) yield String(m).toUpperCase();
      })();
      const res = await next(req);
      if (!res.stream) return res;
      const out = res.messages;
      return {
        stream: true,
        messages: (async function* () {
          for await (const m of out) yield `<${String(m)}>`;
        })(),
      };
    };
    const p = await pair(
      t,
      Svc,
      {
        async *chat(reqs) {
          for await (const r of reqs) yield r;
        },
      },
      { client: { interceptors: [upper] } },
    );
    assert.deepEqual(await collect(p.client.chat(["a", "b"])), ["<A>", "<B>"]);
    await p.close();
  });

  it("a server interceptor can refuse a call with a status", { timeout: 20_000 }, async (t) => {
    const auth: Interceptor = (next) => async (req) => {
      if (req.metadata.get("authorization") !== "token")
        throw new TtrpcError("who are you", Code.Unauthenticated);
      return next(req);
    };
    const p = await pair(t, Svc, { echo: (r) => r }, { server: { interceptors: [auth] } });
    await assert.rejects(p.client.echo(1), { code: Code.Unauthenticated });
    assert.equal(await p.client.echo(1, { metadata: new Metadata({ Authorization: "token" }) }), 1);
    await p.close();
  });
});

describe("handshaker", () => {
  it("its result is the handler's peer; a refused handshake closes the connection", {
    timeout: 20_000,
  }, async (t) => {
    const server = createServer({
      handshaker: async (socket) => {
        const hello = await new Promise<Buffer>((resolve) => socket.once("data", resolve));
        if (hello.toString() !== "let me in\n") throw new Error("refused");
        socket.write("ok\n");
        return { peer: { user: "tester" } };
      },
      onError: () => {},
    });
    t.after(() => server.close());
    server.register(Svc, { echo: (_r, ctx) => ctx.peer });
    const path = tempSocket();
    await server.listen(path);
    const { createConnection } = await import("node:net");
    const socket = createConnection(path);
    await new Promise((r) => socket.once("connect", r));
    socket.write("let me in\n");
    await new Promise((r) => socket.once("data", r)); // the server's "ok"
    const conn = await connect(socket);
    t.after(() => conn.close());
    assert.deepEqual(await createClient(Svc, conn).echo(1), { user: "tester" });
    await conn.close();
    const bad = createConnection(path);
    await new Promise((r) => bad.once("connect", r));
    bad.write("nope\n");
    const badConn = await connect(bad);
    t.after(() => badConn.close());
    assert.equal((await badConn.closed)?.code, Code.Unavailable);
    await server.close();
  });

  it("a handshake that takes too long is abandoned", { timeout: 20_000 }, async (t) => {
    const errors: unknown[] = [];
    const server = createServer({
      handshaker: (_socket, signal) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      handshakeTimeoutMs: 50,
      onError: (e) => errors.push(e),
    });
    t.after(() => server.close());
    const path = tempSocket();
    await server.listen(path);
    const conn = await connect(path);
    t.after(() => conn.close());
    assert.equal((await conn.closed)?.code, Code.Unavailable);
    assert.equal((errors[0] as TtrpcError).code, Code.DeadlineExceeded);
    await server.close();
  });
});

describe("protobuf-es services", () => {
  it("take init objects, return typed messages, and carry bytes and status details", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Interop, {
      payload: (req) => ({ data: new Uint8Array(req.size).fill(9) }),
      size: (req) => ({ size: req.data.length }),
      fail(req) {
        throw new TtrpcError(req.message, req.code, {
          details: [{ typeUrl: req.detailTypeUrl, value: req.detailValue }],
        });
      },
    });
    const res = await p.client.payload({ size: 100_000 });
    assert.equal(res.data.length, 100_000);
    assert.equal(res.data[99_999], 9);
    assert.equal((await p.client.size({ data: new Uint8Array(3) })).size, 3);
    const err = await p.client
      .fail({
        code: Code.FailedPrecondition,
        message: "nope",
        detailTypeUrl: "t/u",
        detailValue: new Uint8Array([1, 2]),
      })
      .then(
        () => assert.fail("expected an error"),
        (e: unknown) => e as TtrpcError,
      );
    assert.equal(err.code, Code.FailedPrecondition);
    assert.equal(err.details[0]?.typeUrl, "t/u");
    assert.deepEqual([...(err.details[0]?.value ?? [])], [1, 2]);
    await p.close();
  });

  it("types flow from the descriptor", { timeout: 20_000 }, async (t) => {
    const p = await pair(t, Streaming, { echo: (req) => ({ seq: req.seq + 1 }) });
    const res = await p.client.echo({ seq: 1 });
    const seq: number = res.seq;
    assert.equal(seq, 2);
    // @ts-expect-error seq is a number
    void (() => p.client.echo({ seq: "x" }));
    // @ts-expect-error no such method
    void (() => p.client.nope);
    await p.close();
  });

  it("types flow from a plain definition too", { timeout: 20_000 }, async (t) => {
    const num = { encode: (n: number) => Buffer.from([n]), decode: (b: Uint8Array) => b[0] ?? 0 };
    const str = {
      encode: (t: string) => Buffer.from(t),
      decode: (b: Uint8Array) => Buffer.from(b).toString(),
    };
    const Typed = defineService({
      typeName: "test.v1.Typed",
      methods: {
        describe: { name: "Describe", kind: "unary", input: num, output: str },
        digits: { name: "Digits", kind: "server_streaming", input: str, output: num },
      },
    });
    const p = await pair(t, Typed, {
      describe: (n, ctx) => `${n} via ${ctx.method.path}`,
      *digits(text) {
        for (const c of text) yield Number(c);
      },
    });
    const text: string = await p.client.describe(7);
    assert.equal(text, "7 via /test.v1.Typed/Describe");
    const digits: number[] = await collect(p.client.digits("123"));
    assert.deepEqual(digits, [1, 2, 3]);
    // @ts-expect-error the request is a number
    void (() => p.client.describe("7"));
    await p.close();
  });
});
