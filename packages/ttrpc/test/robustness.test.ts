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
  it("a 30-day timeout does not fire at once (setTimeout caps at 2^31-1 ms)", async () => {
    const month = 30 * 24 * 3600 * 1000;
    const p = await pair(Svc, {
      async echo(_r, ctx) {
        await sleep(20);
        return ctx.timeoutMs();
      },
    });
    const left = (await p.client.echo(1, { timeoutMs: month })) as number;
    assert.ok(left > month - 60_000 && left <= month, `handler saw ${left} ms left`);
    await p.close();
  });

  it("timeoutMs: Infinity means no deadline (it once looped forever in the varint encoder)", async () => {
    const p = await pair(Svc, { echo: (_r, ctx) => ctx.deadline ?? "none" });
    assert.equal(await p.client.echo(1, { timeoutMs: Number.POSITIVE_INFINITY }), "none");
    await p.close();
  });

  it("timeoutMs: NaN is refused as INVALID_ARGUMENT", async () => {
    const p = await pair(Svc, { echo: (r) => r });
    await assert.rejects(p.client.echo(1, { timeoutMs: Number.NaN }), {
      code: Code.InvalidArgument,
    });
    assert.equal(await p.client.echo(2), 2);
    await p.close();
  });
});

describe("handlers that misbehave", () => {
  it("rejecting or throwing undefined still answers UNKNOWN", async () => {
    const p = await pair(Svc, {
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

  it("throwing a value that cannot be turned into a string answers UNKNOWN; the server lives on", async () => {
    const p = await pair(Svc, {
      echo(r) {
        if (r === "sync") throw Object.create(null);
        return Promise.reject(Object.create(null));
      },
    });
    await assert.rejects(p.client.echo("sync"), { code: Code.Unknown });
    await assert.rejects(p.client.echo("async"), { code: Code.Unknown });
    await p.close();
  });

  it("a TtrpcError with code 0 is sent as UNKNOWN, never as success", async () => {
    const p = await pair(Svc, {
      echo() {
        throw new TtrpcError("oops", 0);
      },
    });
    await assert.rejects(p.client.echo(1), { code: Code.Unknown, rawMessage: "oops" });
    await p.close();
  });

  it("a client-stream handler may stop reading early and still answer", async () => {
    const p = await pair(Svc, {
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
  it("a handshaker that ignores its signal cannot hold up close() or its timeout", async () => {
    const errors: unknown[] = [];
    const server = createServer({
      handshaker: () => new Promise(() => {}),
      handshakeTimeoutMs: 50,
      onError: (e) => errors.push(e),
    });
    const path = tempSocket();
    await server.listen(path);
    const timedOut = await connect(path);
    assert.equal((await timedOut.closed)?.code, Code.Unavailable);
    assert.equal((errors[0] as TtrpcError).code, Code.DeadlineExceeded);
    const hanging = await connect(path);
    await server.close();
    assert.equal((await hanging.closed)?.code, Code.Unavailable);
  });

  it("connect() on a transport that is already dead fails its calls instead of hanging", async () => {
    const dead = new PassThrough();
    dead.destroy();
    const conn = await connect(dead);
    assert.equal((await conn.closed)?.code, Code.Unavailable);
    await assert.rejects(createClient(Svc, conn).echo(1), { code: Code.Unavailable });
  });

  it("a server forgets a connection whose socket died during the handshake", async () => {
    const server = createServer({ handshaker: () => sleep(30).then(() => ({})) });
    const dead = new PassThrough();
    server.handleConnection(dead);
    dead.destroy();
    await sleep(60);
    assert.equal(server.connectionCount, 0);
    await server.close();
  });
});

describe("client odds and ends", () => {
  it("aborting a writable request stream without a reason fails the call (it is not a close)", async () => {
    const p = await pair(Svc, {
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

  it("an interceptor that throws synchronously rejects the call", async () => {
    const broken: Interceptor = () => () => {
      throw new TtrpcError("no", Code.PermissionDenied);
    };
    const p = await pair(Svc, { echo: (r) => r }, { client: { interceptors: [broken] } });
    const call = p.client.echo(1);
    assert.ok(call instanceof Promise);
    await assert.rejects(call, { code: Code.PermissionDenied });
    await p.close();
  });
});

describe("stream queue", () => {
  it("return() settles a next() that is waiting", async () => {
    const queue = new MessageQueue<number>();
    const pending = queue.next();
    await queue.return();
    assert.deepEqual(await pending, { done: true, value: undefined });
  });
});
