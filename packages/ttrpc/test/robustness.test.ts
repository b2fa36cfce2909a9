// Misbehaving callers and handlers: each case here once hung, crashed or lied (found in review).
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import {
  Code,
  connect,
  createClient,
  createServer,
  createWritableIterable,
  defineService,
  type Interceptor,
  TtrpcError,
} from "../src/index.js";
import { MessageQueue } from "../src/queue.js";
import { json, pair, sleep, tempSocket } from "./helpers.js";

const Svc = defineService({
  typeName: "test.v1.Robust",
  methods: {
    echo: { name: "Echo", kind: "unary", input: json, output: json },
    first: { name: "First", kind: "client_streaming", input: json, output: json },
    items: { name: "Items", kind: "server_streaming", input: json, output: json },
  },
});

describe("timeouts at the edges", () => {
  it("a 30-day timeout does not fire at once (setTimeout caps at 2^31-1 ms)", {
    timeout: 20_000,
  }, async (t) => {
    const month = 30 * 24 * 3600 * 1000;
    const p = await pair(t, Svc, {
      async echo(_r, ctx) {
        await sleep(20);
        return ctx.timeoutMs();
      },
    });
    const left = (await p.client.echo(1, { timeoutMs: month })) as number;
    assert.ok(left > month - 60_000 && left <= month, `handler saw ${left} ms left`);
    await p.close();
  });

  it("timeoutMs: Infinity means no deadline (it once looped forever in the varint encoder)", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Svc, { echo: (_r, ctx) => ctx.deadline ?? "none" });
    assert.equal(await p.client.echo(1, { timeoutMs: Number.POSITIVE_INFINITY }), "none");
    await p.close();
  });

  it("timeoutMs: NaN is refused as INVALID_ARGUMENT", { timeout: 20_000 }, async (t) => {
    const p = await pair(t, Svc, { echo: (r) => r });
    await assert.rejects(p.client.echo(1, { timeoutMs: Number.NaN }), {
      code: Code.InvalidArgument,
    });
    assert.equal(await p.client.echo(2), 2);
    await p.close();
  });
});

describe("handlers that misbehave", () => {
  it("rejecting or throwing undefined still answers UNKNOWN", { timeout: 20_000 }, async (t) => {
    const p = await pair(t, Svc, {
      echo: () => Promise.reject(undefined),
      // biome-ignore lint/correctness/useYield: it throws before its first message
      async *items() {
        throw undefined;
      },
    });
    await assert.rejects(p.client.echo(1), { code: Code.Unknown });
    await assert.rejects(
      (async () => {
        for await (const _ of p.client.items(1));
      })(),
      { code: Code.Unknown },
    );
    assert.equal(p.conn.activeStreams, 0);
    await p.close();
  });

  it("throwing a value that cannot be turned into a string answers UNKNOWN; the server lives on", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Svc, {
      echo(r) {
        if (r === "sync") throw Object.create(null);
        return Promise.reject(Object.create(null));
      },
    });
    await assert.rejects(p.client.echo("sync"), { code: Code.Unknown });
    await assert.rejects(p.client.echo("async"), { code: Code.Unknown });
    await p.close();
  });

  it("a TtrpcError with code 0 is sent as UNKNOWN, never as success", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Svc, {
      echo() {
        throw new TtrpcError("oops", 0);
      },
    });
    await assert.rejects(p.client.echo(1), { code: Code.Unknown, rawMessage: "oops" });
    await p.close();
  });

  it("a client-stream handler may stop reading early and still answer", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Svc, {
      async first(reqs) {
        for await (const r of reqs) return r;
        return "empty";
      },
    });
    assert.equal(await p.client.first([1, 2, 3, 4]), 1);
    assert.equal(await p.client.first([]), "empty");
    await p.close();
  });
});

describe("transports and handshakes", () => {
  it("a handshaker that ignores its signal cannot hold up close() or its timeout", {
    timeout: 20_000,
  }, async (t) => {
    const errors: unknown[] = [];
    const server = createServer({
      handshaker: () => new Promise(() => {}),
      handshakeTimeoutMs: 50,
      onError: (e) => errors.push(e),
    });
    t.after(() => server.close());
    const path = tempSocket();
    await server.listen(path);
    const timedOut = await connect(path);
    t.after(() => timedOut.close());
    assert.equal((await timedOut.closed)?.code, Code.Unavailable);
    assert.equal((errors[0] as TtrpcError).code, Code.DeadlineExceeded);
    const hanging = await connect(path);
    t.after(() => hanging.close());
    await server.close();
    assert.equal((await hanging.closed)?.code, Code.Unavailable);
  });

  it("connect() on a transport that is already dead fails its calls instead of hanging", {
    timeout: 20_000,
  }, async (t) => {
    const dead = new PassThrough();
    dead.destroy();
    const conn = await connect(dead);
    t.after(() => conn.close());
    assert.equal((await conn.closed)?.code, Code.Unavailable);
    await assert.rejects(createClient(Svc, conn).echo(1), { code: Code.Unavailable });
  });

  it("a server forgets a connection whose socket died during the handshake", {
    timeout: 20_000,
  }, async (t) => {
    const server = createServer({ handshaker: () => sleep(30).then(() => ({})) });
    t.after(() => server.close());
    const dead = new PassThrough();
    server.handleConnection(dead);
    dead.destroy();
    await sleep(60);
    assert.equal(server.connectionCount, 0);
    await server.close();
  });
});

describe("client odds and ends", () => {
  it("aborting a writable request stream without a reason fails the call (it is not a close)", {
    timeout: 20_000,
  }, async (t) => {
    const p = await pair(t, Svc, {
      async first(reqs) {
        let n = 0;
        for await (const _ of reqs) n++;
        return n;
      },
    });
    const requests = createWritableIterable<number>();
    const result = p.client.first(requests);
    requests.write(1);
    requests.abort(undefined);
    await assert.rejects(result, { code: Code.Canceled });
    await p.close();
  });

  it("an interceptor that throws synchronously rejects the call", {
    timeout: 20_000,
  }, async (t) => {
    const broken: Interceptor = () => () => {
      throw new TtrpcError("no", Code.PermissionDenied);
    };
    const p = await pair(t, Svc, { echo: (r) => r }, { client: { interceptors: [broken] } });
    const call = p.client.echo(1);
    assert.ok(call instanceof Promise);
    await assert.rejects(call, { code: Code.PermissionDenied });
    await p.close();
  });
});

describe("stream queue", () => {
  it("return() settles a next() that is waiting", { timeout: 20_000 }, async () => {
    const queue = new MessageQueue<number>();
    const pending = queue.next();
    await queue.return();
    assert.deepEqual(await pending, { done: true, value: undefined });
  });
});
