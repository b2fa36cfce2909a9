// redial() (issue 10) beyond the adoption specs (test/adoption/redial.test.ts restarts a real
// server process): the queue's byte bound, a waiting call's own deadline and signal, streams and
// interceptors over a redialing connection, a server closed under it, options checked up front.
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import {
  Code,
  type ConnectionState,
  createClient,
  createServer,
  defineService,
  type Interceptor,
  redial,
  TtrpcError,
} from "../src/index.js";
import { json, tempSocket } from "./helpers.js";

const Svc = defineService({
  typeName: "test.v1.Redial",
  methods: {
    echo: { name: "Echo", kind: "unary", input: json, output: json },
    count: { name: "Count", kind: "server_streaming", input: json, output: json },
  },
});
const T = { timeout: 15_000 };
const fast = { initialBackoffMs: 5, maxBackoffMs: 50 };

async function serve(t: TestContext, path: string) {
  const server = createServer().register(Svc, {
    echo: (m) => m,
    async *count(n) {
      for (let i = 1; i <= (n as number); i++) yield i;
    },
  });
  await server.listen(path);
  t.after(() => server.close());
  return server;
}

async function failure(p: Promise<unknown>): Promise<TtrpcError> {
  try {
    await p;
  } catch (e) {
    return TtrpcError.from(e);
  }
  throw new Error("expected a rejection");
}

describe("redial", () => {
  test("the queue is bounded in bytes as well as calls", T, async (t) => {
    const path = tempSocket();
    let down!: () => void;
    const disconnected = new Promise<void>((r) => {
      down = r;
    });
    const conn = redial(path, {
      ...fast,
      queue: 10,
      queueBytes: 100,
      onStateChange: (s) => s === "disconnected" && down(),
    });
    t.after(() => conn.close());
    const client = createClient(Svc, conn);
    // The first call dials (nobody listens) and waits in the queue; then the bounds rule.
    const first = client.echo("x");
    await disconnected;
    const small = client.echo("a".repeat(40));
    const big = await failure(client.echo("b".repeat(200)));
    assert.equal(big.code, Code.Unavailable);
    assert.match(big.rawMessage, /queue/);
    await serve(t, path);
    assert.equal(await first, "x");
    assert.equal(await small, "a".repeat(40));
  });

  test("a waiting call keeps its deadline and its signal", T, async (t) => {
    const conn = redial(tempSocket(), { ...fast, queue: 10 });
    t.after(() => conn.close());
    const client = createClient(Svc, conn);
    assert.equal((await failure(client.echo(2, { timeoutMs: 30 }))).code, Code.DeadlineExceeded);
    const ac = new AbortController();
    const waiting = failure(client.echo(3, { signal: ac.signal }));
    ac.abort();
    assert.equal((await waiting).code, Code.Canceled);
    assert.equal(conn.activeStreams, 0, "nothing left waiting");
  });

  test("a waiting call's timeout of days re-arms instead of firing at once", T, async (t) => {
    // setTimeout fires at once past 2^31 − 1 ms (~24.8 days); the waiting call must use the core's deadline.
    const path = tempSocket();
    const conn = redial(path, { ...fast, queue: 10 });
    t.after(() => conn.close());
    const client = createClient(Svc, conn);
    const days30 = 30 * 24 * 3600 * 1000;
    let settled = false;
    const waiting = client.echo("later", { timeoutMs: days30 }).finally(() => {
      settled = true;
    });
    waiting.catch(() => {}); // awaited below; no unhandled rejection if the check fails first
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(settled, false, "still waiting for the server after 200 ms");
    await serve(t, path);
    assert.equal(await waiting, "later");
    // The same long timeout while waiting still yields to the call's signal.
    await conn.close();
    const again = redial(tempSocket(), { ...fast, queue: 10 });
    t.after(() => again.close());
    const ac = new AbortController();
    const canceled = failure(
      createClient(Svc, again).echo(1, { timeoutMs: days30, signal: ac.signal }),
    );
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    assert.equal((await canceled).code, Code.Canceled);
  });

  test("a backoff of days waits instead of redialing at once", T, async (t) => {
    let dials = 0;
    const days60 = 60 * 24 * 3600 * 1000; // the jittered delay is 30 to 60 days, past a timer's reach
    const conn = redial(tempSocket(), {
      initialBackoffMs: days60,
      maxBackoffMs: days60,
      queue: 1,
      onStateChange: (s) => {
        if (s === "connecting") dials++;
      },
    });
    t.after(() => conn.close());
    const waiting = failure(createClient(Svc, conn).echo(1));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(dials, 1, "one dial, then the backoff waits");
    await conn.close();
    assert.equal((await waiting).code, Code.Unavailable);
  });

  test("streams and interceptors go through, and come back after the server does", T, async (t) => {
    const path = tempSocket();
    const server = await serve(t, path);
    const seen: string[] = [];
    const log: Interceptor = (next) => (req) => {
      seen.push(req.method.name);
      return next(req);
    };
    const states: ConnectionState[] = [];
    const conn = redial(path, {
      ...fast,
      interceptors: [log],
      onStateChange: (s) => states.push(s),
    });
    t.after(() => conn.close());
    const client = createClient(Svc, conn);
    assert.equal(conn.state, "idle");
    const got: unknown[] = [];
    for await (const n of client.count(3)) got.push(n);
    assert.deepEqual(got, [1, 2, 3]);
    await server.close();
    // A server that closes its connections: the client notices, and redials until a new one.
    await serve(t, path);
    let answer: unknown;
    for (let i = 0; i < 100 && answer === undefined; i++) {
      answer = await client.echo("back").catch(() => new Promise((r) => setTimeout(r, 20)));
    }
    assert.equal(answer, "back");
    assert.deepEqual(seen.slice(0, 2), ["Count", "Echo"]);
    assert.ok(states.includes("disconnected"), states.join(","));
    assert.equal(conn.state, "ready");
  });

  test("options and the path are checked when redial() is called", T, () => {
    assert.throws(() => redial(tempSocket(), { queue: -1 }), RangeError);
    assert.throws(() => redial(tempSocket(), { initialBackoffMs: 0 }), RangeError);
    assert.throws(() => redial(tempSocket(), { maxMessageBytes: 0 }), RangeError);
    assert.throws(() => redial(`/tmp/${"x".repeat(200)}.sock`), /limit is 10[37]/);
  });
});
