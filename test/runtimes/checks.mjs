// The client side of the smoke suite: each check is a named async function that throws on failure.
// Run by smoke.mjs (server in the same process) and client.mjs (server in another runtime).
import { Code, SERVER_MAX_BYTES, Smoke, ttrpc } from "./service.mjs";

const { TtrpcError, connect, createClient, createWritableIterable } = ttrpc;

function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function same(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  assert(a === e, `${what}: got ${a}, want ${e}`);
}
/** Awaits a promise that must reject with a TtrpcError of `code`. */
async function rejects(promise, code, what) {
  try {
    await promise;
  } catch (e) {
    assert(e instanceof TtrpcError, `${what}: not a TtrpcError: ${e}`);
    same(ttrpc.codeToString(e.code), ttrpc.codeToString(code), `${what}: code (${e.message})`);
    return e;
  }
  throw new Error(`${what}: did not fail`);
}

/**
 * The checks, in order; `shutdown` must stay last (it ends the server). Each gets the client and
 * the socket path (for checks that need their own connection).
 */
export const checks = {
  async unary(c) {
    same((await c.hello({ name: "rt" })).text, "hello, rt", "reply");
  },
  async metadata(c) {
    const r = await c.hello({ name: "m" }, { metadata: { "X-Id": "42", tags: ["a", "b"] } });
    assert(r.metadata.includes("x-id=42"), `metadata ${r.metadata}`);
    assert(r.metadata.includes("tags=a,b"), `multi-valued metadata ${r.metadata}`);
  },
  async serverStream(c) {
    const got = [];
    for await (const m of c.count({ to: 5 })) got.push(m.n);
    same(got, [1, 2, 3, 4, 5], "streamed");
  },
  async clientStream(c) {
    same(await c.sum([{ n: 1 }, { n: 2 }, { n: 3 }]), { total: 6 }, "sum");
  },
  async bidi(c) {
    const reqs = createWritableIterable();
    const it = c.echo(reqs)[Symbol.asyncIterator]();
    reqs.write({ text: "a" });
    same((await it.next()).value, { text: "echo: a" }, "first");
    reqs.write({ text: "b" });
    same((await it.next()).value, { text: "echo: b" }, "second");
    reqs.close();
    same((await it.next()).done, true, "end");
  },
  async deadlineSent(c) {
    const r = await c.hello({ name: "d" }, { timeoutMs: 5000 });
    assert(r.timeoutMs > 0 && r.timeoutMs <= 5000, `server saw ${r.timeoutMs} ms left`);
  },
  async deadlineExceeded(c) {
    await rejects(c.sleep({ ms: 10_000 }, { timeoutMs: 50 }), Code.DeadlineExceeded, "sleep");
    // The server's own copy of the deadline aborted the handler.
    for (let i = 0; i < 100; i++) {
      if ((await c.lastAbort({})).reason === "deadline_exceeded") return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("the handler's signal never aborted with deadline_exceeded");
  },
  async cancellation(c) {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await rejects(c.sleep({ ms: 10_000 }, { signal: ac.signal }), Code.Canceled, "aborted");
    same((await c.hello({ name: "after" })).text, "hello, after", "the connection is still usable");
  },
  async errors(c) {
    const e = await rejects(
      c.fail({ message: "nope", code: Code.NotFound }),
      Code.NotFound,
      "fail",
    );
    same(e.rawMessage, "nope", "message");
    same(e.details[0]?.typeUrl, "type.googleapis.com/smoke.v1.Detail", "detail type");
    same([...(e.details[0]?.value ?? [])], [100], "detail bytes");
    await rejects(c.crash({}), Code.Unknown, "plain Error from a handler");
    await rejects(c.missing({}), Code.Unimplemented, "method without a handler");
  },
  async limits(c, path) {
    const payload = "x".repeat(SERVER_MAX_BYTES + 100);
    // The server's limit: it skips the oversize frame and fails only that call.
    await rejects(c.size({ payload }), Code.ResourceExhausted, "over the server's limit");
    same(await c.size({ payload: "abc" }), { bytes: 3 }, "the connection still works");
    // The client's own limit: rejected before a byte is written.
    const small = await connect(path, { maxMessageBytes: 1024 });
    try {
      const sc = createClient(Smoke, small);
      await rejects(sc.size({ payload: "y".repeat(2000) }), Code.ResourceExhausted, "client limit");
    } finally {
      await small.close();
    }
  },
  async connectionClose(_c, path) {
    const conn = await connect(path);
    const sc = createClient(Smoke, conn);
    const pending = sc.sleep({ ms: 10_000 });
    await sc.hello({ name: "open" });
    const closing = conn.close();
    await rejects(pending, Code.Unavailable, "a call pending at close");
    await closing;
    assert(conn.isClosed, "isClosed");
  },
  async shutdown(c, path) {
    const inFlight = c.sleep({ ms: 300 });
    await new Promise((r) => setTimeout(r, 50));
    await c.shutdown({});
    same(await inFlight, { slept: 300 }, "a call in flight finishes during a graceful shutdown");
    // Nothing listens any more: a new connection is refused.
    await rejects(connect(path), Code.Unavailable, "connect after shutdown");
  },
};

/** Runs every check against the server at `path`, printing one JSON line per check. */
export async function runChecks(path, only) {
  const conn = await connect(path);
  const client = createClient(Smoke, conn);
  let failed = 0;
  const plan = Object.keys(checks).filter((name) => !only || only.includes(name));
  console.log(JSON.stringify({ plan }));
  for (const [name, check] of Object.entries(checks)) {
    if (!plan.includes(name)) continue;
    try {
      await check(client, path);
      console.log(JSON.stringify({ check: name, ok: true }));
    } catch (e) {
      failed++;
      console.log(JSON.stringify({ check: name, ok: false, error: String(e?.stack ?? e) }));
    }
  }
  await conn.close();
  return failed;
}
