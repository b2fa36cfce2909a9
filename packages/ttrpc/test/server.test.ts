// Server behaviour: Go's server_test.go ported (the behaviour), plus listen, register, shutdown and close.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer as createNetServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import {
  Code,
  connect,
  createClient,
  createServer,
  defineService,
  type HandlerContext,
  TtrpcError,
} from "../src/index.js";
import { deferred, json, pair, sleep, tempSocket, text } from "./helpers.js";

const Test = defineService({
  typeName: "test.v1.Service",
  methods: {
    test: { name: "Test", kind: "unary", input: json, output: json },
    block: { name: "Block", kind: "unary", input: json, output: json },
    ticks: { name: "Ticks", kind: "server_streaming", input: json, output: json },
  },
});

describe("server (Go server_test.go)", () => {
  it("TestServer: concurrent calls, each with its own metadata", { timeout: 20_000 }, async (t) => {
    const p = await pair(t, Test, {
      test: (req, ctx) => ({ payload: `${req}${req}`, md: ctx.metadata.get("test-key") }),
    });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.client.test(`p${i}`, { metadata: { "Test-Key": `v${i}` } }),
      ),
    );
    for (const [i, r] of results.entries())
      assert.deepEqual(r, { payload: `p${i}p${i}`, md: `v${i}` });
    await p.close();
  });

  it("TestServerUnimplemented: unknown service and unknown method give UNIMPLEMENTED", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Test, { test: () => "ok" });
    const Other = defineService({
      typeName: "no.such.Service",
      methods: { x: { name: "X", kind: "unary", input: json, output: json } },
    });
    await assert.rejects(createClient(Other, p.conn).x(1), {
      code: Code.Unimplemented,
      rawMessage: "service no.such.Service",
    });
    const Missing = defineService({
      typeName: "test.v1.Service",
      methods: { nope: { name: "Nope", kind: "unary", input: json, output: json } },
    });
    await assert.rejects(createClient(Missing, p.conn).nope(1), {
      code: Code.Unimplemented,
      rawMessage: "method test.v1.Service/Nope",
    });
    // Registered but not implemented.
    await assert.rejects(p.client.block(1), {
      code: Code.Unimplemented,
      rawMessage: "method test.v1.Service/Block",
    });
    assert.equal(await p.client.test(1), "ok");
    await p.close();
  });

  it("TestServerListenerClosed: closing the listener stops accepting, open connections keep working", {
    timeout: 20_000,
  }, async (t) => {
    const server = createServer().register(Test, { test: () => "ok" });
    t.after(() => server.close());
    const path = tempSocket();
    const net = createNetServer();
    await new Promise<void>((r) => net.listen(path, r));
    server.serve(net);
    const conn = await connect(path);
    t.after(() => conn.close());
    // close() stops accepting at once; its callback would wait for open connections.
    net.close();
    assert.equal(await createClient(Test, conn).test(1), "ok");
    await assert.rejects(connect(path), { code: Code.Unavailable });
    await conn.close();
    await server.close();
  });

  it("TestServerShutdown: graceful shutdown lets blocked calls on two connections finish", {
    timeout: 20_000,
  }, async (t) => {
    const release = deferred();
    let started = 0;
    const allStarted = deferred();
    const p = await pair(t, Test, {
      async block() {
        if (++started === 5) allStarted.resolve();
        await release.promise;
        return "done";
      },
      test: () => "ok",
    });
    const conn2 = await connect(p.path);
    t.after(() => conn2.close());
    const client2 = createClient(Test, conn2);
    const calls = [
      p.client.block(1),
      p.client.block(2),
      p.client.block(3),
      client2.block(4),
      client2.block(5),
    ];
    await allStarted.promise;
    const shutdown = p.server.shutdown();
    // No new connections while draining.
    await assert.rejects(connect(p.path));
    // New calls on a draining connection are refused.
    await assert.rejects(client2.test(1), { code: Code.Unavailable });
    release.resolve();
    assert.deepEqual(await Promise.all(calls), ["done", "done", "done", "done", "done"]);
    await shutdown;
    assert.equal(p.server.connectionCount, 0);
    await p.conn.closed;
    await conn2.closed;
    assert.equal(existsSync(p.path), false);
  });

  it("shutdown waits for a stream in flight to finish", { timeout: 20_000 }, async (t) => {
    const gate = deferred();
    const p = await pair(t, Test, {
      async *ticks() {
        yield 1;
        await gate.promise;
        yield 2;
      },
    });
    const it = p.client.ticks(0)[Symbol.asyncIterator]();
    assert.equal((await it.next()).value, 1);
    let done = false;
    const shutdown = p.server.shutdown().then(() => {
      done = true;
    });
    await sleep(20);
    assert.equal(done, false);
    gate.resolve();
    assert.equal((await it.next()).value, 2);
    assert.equal((await it.next()).done, true);
    await shutdown;
  });

  it("TestServerClose: close aborts handlers (UNAVAILABLE) and fails calls in flight", {
    timeout: 20_000,
  }, async (t) => {
    const aborted = deferred<unknown>();
    const started = deferred();
    const p = await pair(t, Test, {
      block(_req, ctx) {
        started.resolve();
        return new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => {
            aborted.resolve(ctx.signal.reason);
            reject(ctx.signal.reason);
          }),
        );
      },
    });
    // The rejection handler is attached before the close (Deno delivers the rejection first).
    const call = assert.rejects(p.client.block(1), { code: Code.Unavailable });
    await started.promise;
    await p.server.close();
    const reason = await aborted.promise;
    assert.ok(reason instanceof TtrpcError);
    assert.equal(reason.code, Code.Unavailable);
    await call;
    assert.equal(p.server.connectionCount, 0);
  });

  it("TestImmediateServerShutdown: shutdown before serving returns promptly", {
    timeout: 20_000,
  }, async (t) => {
    const server = createServer();
    t.after(() => server.close());
    await server.shutdown();
    await assert.rejects(server.listen(tempSocket()), { code: Code.Unavailable });
  });

  it("TestOversizeCall: the client itself refuses a request over 4 MiB (RESOURCE_EXHAUSTED), the connection survives", {
    timeout: 20_000,
  }, async (t) => {
    const Big = defineService({
      typeName: "test.v1.Big",
      methods: { echo: { name: "Echo", kind: "unary", input: text, output: text } },
    });
    const seen: number[] = [];
    // The server would take 8 MiB: only the sender's own check can refuse the request.
    const p = await pair(
      t,
      Big,
      {
        echo: (s) => {
          seen.push(s.length);
          return String(s.length);
        },
      },
      { server: { maxMessageBytes: 8 << 20 } },
    );
    await assert.rejects(p.client.echo("x".repeat(4 * 1024 * 1024 + 1)), {
      code: Code.ResourceExhausted,
      rawMessage:
        /^ttrpc: request of 4194\d+ bytes exceeds maxMessageBytes \(4194304\) of this client$/,
    });
    assert.equal(await p.client.echo("abc"), "3");
    assert.deepEqual(seen, [3], "the oversize request never reached the server");
    await p.close();
  });

  it("TestClientEOF: after the server closes, calls fail with UNAVAILABLE", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Test, { test: () => "ok" });
    assert.equal(await p.client.test(1), "ok");
    await p.server.close();
    const error = await p.conn.closed;
    assert.equal(error?.code, Code.Unavailable);
    await assert.rejects(p.client.test(1), { code: Code.Unavailable });
  });

  it("TestServerRequestTimeout: the client's timeout is the handler's deadline", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Test, {
      test: (_req, ctx) => ({ deadline: ctx.deadline, left: ctx.timeoutMs(), now: Date.now() }),
    });
    const sent = Date.now();
    const r = (await p.client.test(1, { timeoutMs: 5000 })) as {
      deadline: number;
      left: number;
      now: number;
    };
    assert.ok(r.deadline >= sent + 4000 && r.deadline <= Date.now() + 5000, JSON.stringify(r));
    assert.ok(r.left > 0 && r.left <= 5000);
    const none = (await p.client.test(1)) as { deadline?: number; left?: number };
    assert.equal(none.deadline, undefined);
    assert.equal(none.left, undefined);
    await p.close();
  });

  it("TestServerConnectionsLeak: the server forgets a connection the client closed", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Test, { test: () => "ok" });
    await p.client.test(1);
    assert.equal(p.server.connectionCount, 1);
    await p.conn.close();
    for (let i = 0; i < 100 && p.server.connectionCount > 0; i++) await sleep(5);
    assert.equal(p.server.connectionCount, 0);
    await p.server.close();
  });

  it("a client that disconnects aborts its handler's signal with CANCELLED", {
    timeout: 20_000,
  }, async (t) => {
    const aborted = deferred<unknown>();
    const started = deferred();
    const p = await pair(t, Test, {
      block(_req, ctx) {
        started.resolve();
        ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
        return new Promise(() => {});
      },
    });
    void p.client.block(1).catch(() => {});
    await started.promise;
    await p.conn.close();
    assert.equal(((await aborted.promise) as TtrpcError).code, Code.Canceled);
    await p.server.close();
  });
});

describe("server setup", () => {
  it("register throws for the same service twice, and for a non-function handler", {
    timeout: 20_000,
  }, (t) => {
    const server = createServer();
    t.after(() => server.close());
    server.register(Test, {});
    assert.throws(() => server.register(Test, {}), /already registered/);
    const server2 = createServer();
    t.after(() => server2.close());
    assert.throws(() => server2.register(Test, { test: 1 as never }), /not a function/);
  });

  it("a class instance works as an implementation (methods are bound)", {
    timeout: 20_000,
  }, async (t) => {
    class Impl {
      prefix = "got:";
      test(req: unknown) {
        return this.prefix + String(req);
      }
    }
    const p = await pair(t, Test, new Impl());
    assert.equal(await p.client.test(7), "got:7");
    await p.close();
  });

  it("listen removes a stale socket file", { timeout: 20_000 }, async (t) => {
    const path = tempSocket();
    // A crashed server: it listened, then died without removing its socket file.
    const crashed = spawnSync(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
    ]);
    assert.equal(crashed.signal, "SIGKILL");
    assert.equal(existsSync(path), true);
    const server = createServer().register(Test, { test: () => "fresh" });
    t.after(() => server.close());
    await server.listen(path);
    const conn = await connect(path);
    t.after(() => conn.close());
    assert.equal(await createClient(Test, conn).test(1), "fresh");
    await conn.close();
    await server.close();
  });

  it("listen refuses to replace a live socket or a regular file", {
    timeout: 20_000,
  }, async (t) => {
    const path = tempSocket();
    const first = createServer();
    t.after(() => first.close());
    await first.listen(path);
    await assert.rejects(createServer().listen(path), { code: "EADDRINUSE" });
    await first.close();
    const file = tempSocket("file");
    writeFileSync(file, "x");
    await assert.rejects(createServer().listen(file), { code: "EADDRINUSE" });
  });

  it("handleConnection serves any Duplex", { timeout: 20_000 }, async (t) => {
    const server = createServer().register(Test, { test: () => "duplex" });
    t.after(() => server.close());
    const path = tempSocket();
    const net = createNetServer((socket: Socket) => server.handleConnection(socket));
    await new Promise<void>((r) => net.listen(path, r));
    const conn = await connect(path);
    t.after(() => conn.close());
    assert.equal(await createClient(Test, conn).test(1), "duplex");
    await conn.close();
    await server.close();
    net.close();
  });

  it("Symbol.asyncDispose shuts the server down and closes the connection", {
    timeout: 20_000,
  }, async () => {
    const path = tempSocket();
    {
      await using server = createServer().register(Test, { test: () => "ok" });
      await server.listen(path);
      await using conn = await connect(path);
      assert.equal(await createClient(Test, conn).test(1), "ok");
    }
    assert.equal(existsSync(path), false);
  });

  it("handler errors: TtrpcError keeps its code, message and details; others become UNKNOWN; errno codes map like Go", {
    timeout: 20_000,
  }, async (t) => {
    const detail = { typeUrl: "type.googleapis.com/test.Detail", value: new Uint8Array([8, 1]) };
    const p = await pair(t, Test, {
      test(req) {
        if (req === "typed") throw new TtrpcError("not here", Code.NotFound, { details: [detail] });
        if (req === "enoent") throw Object.assign(new Error("no file"), { code: "ENOENT" });
        if (req === "eexist") throw Object.assign(new Error("exists"), { code: "EEXIST" });
        throw new Error("plain failure");
      },
    });
    const typed = await p.client.test("typed").catch((e: TtrpcError) => e);
    assert.ok(typed instanceof TtrpcError);
    assert.equal(typed.code, Code.NotFound);
    assert.equal(typed.rawMessage, "not here");
    assert.deepEqual(typed.details, [detail]);
    await assert.rejects(p.client.test("plain"), {
      code: Code.Unknown,
      rawMessage: "plain failure",
    });
    await assert.rejects(p.client.test("enoent"), { code: Code.NotFound });
    await assert.rejects(p.client.test("eexist"), { code: Code.AlreadyExists });
    await p.close();
  });

  it("exposeErrorMessages: false hides the message of unexpected errors", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(
      t,
      Test,
      {
        test() {
          throw new Error("secret path /etc/x");
        },
      },
      { server: { exposeErrorMessages: false } },
    );
    await assert.rejects(p.client.test(1), { code: Code.Unknown, rawMessage: "internal error" });
    await p.close();
  });

  it("one status mapping: a TimeoutError becomes DEADLINE_EXCEEDED on the server as in TtrpcError.from", {
    timeout: 10_000,
  }, async (t) => {
    const timeout = () => new DOMException("the operation timed out", "TimeoutError");
    const p = await pair(t, Test, {
      test(req) {
        if (req === "aborted") AbortSignal.abort().throwIfAborted();
        throw timeout();
      },
    });
    await assert.rejects(p.client.test("timeout"), {
      code: Code.DeadlineExceeded,
      rawMessage: "the operation timed out",
    });
    assert.equal(TtrpcError.from(timeout()).code, Code.DeadlineExceeded);
    await assert.rejects(p.client.test("aborted"), { code: Code.Canceled });
    await p.close();
  });

  it("the handler context is its own object: the call's machinery is out of reach", {
    timeout: 10_000,
  }, async (t) => {
    let ctx: HandlerContext | undefined;
    const p = await pair(t, Test, {
      test(_req, context) {
        ctx = context;
        return "ok";
      },
    });
    await p.client.test(1, { metadata: { k: "v" }, timeoutMs: 60_000 });
    assert.ok(ctx);
    for (const name of ["fail", "finish", "conn", "site", "entry", "requests", "run", "data"]) {
      assert.equal(name in ctx, false, `context exposes ${name}`);
    }
    assert.equal(ctx.metadata.get("k"), "v");
    assert.equal(ctx.service, "test.v1.Service");
    assert.equal(ctx.method.name, "Test");
    assert.equal(ctx.signal.aborted, true);
    assert.ok(ctx.deadline !== undefined && Math.abs(ctx.deadline - (Date.now() + 60_000)) < 5_000);
    await p.close();
  });

  it("a handler's signal aborts once the call is over", { timeout: 20_000 }, async (t) => {
    let signal: AbortSignal | undefined;
    const p = await pair(t, Test, {
      test(_req, ctx) {
        signal = ctx.signal;
        return "ok";
      },
    });
    await p.client.test(1);
    assert.equal(signal?.aborted, true);
    assert.equal((signal?.reason as TtrpcError | undefined)?.code, Code.Canceled);
    await p.close();
  });
});
