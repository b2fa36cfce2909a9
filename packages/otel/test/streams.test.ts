// Streaming calls (server, client, bidi): the span lives until the final frame, one event per
// message, every step of a streaming handler inside the server span, and the error status when
// the stream fails, times out or the client walks away.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Code, createWritableIterable } from "ttrpc";
import {
  type Ask,
  ERROR,
  events,
  inRoot,
  newSdk,
  only,
  parentOf,
  type Sdk,
  tracedPair,
  UNSET,
  until,
} from "./harness.js";

const T = { timeout: 10_000 };
const SVC = "ttrpc.otel.test.v1.Traced";

/** The client and server spans of `method`, once both have ended. */
async function pairOf(sdk: Sdk, method: string) {
  const name = `${SVC}/${method}`;
  const find = (kind: SpanKind) =>
    sdk.spans().find((s) => s.name === name && s.kind === kind) as ReadableSpan | undefined;
  await until(
    () => find(SpanKind.CLIENT) !== undefined && find(SpanKind.SERVER) !== undefined,
    `${name} spans`,
  );
  return { c: find(SpanKind.CLIENT) as ReadableSpan, s: find(SpanKind.SERVER) as ReadableSpan };
}

async function drain(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const m of it) out.push(m);
  return out;
}

test(
  "server stream: spans end after the last message; an event per message; each step nests",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client } = await tracedPair(sdk, t);
    const got = await inRoot(sdk, () => drain(client.count({ n: 3 })));
    assert.equal(got.length, 3);
    const { c, s } = await pairOf(sdk, "Count");
    assert.equal(c.attributes["rpc.ttrpc.status_code"], 0);
    assert.equal(s.attributes["rpc.ttrpc.status_code"], 0);
    assert.equal(c.attributes["rpc.method"], "Count");
    assert.equal(c.status.code, UNSET);
    assert.deepEqual(events(c), ["SENT 1", "RECEIVED 1", "RECEIVED 2", "RECEIVED 3"]);
    assert.deepEqual(events(s), ["RECEIVED 1", "SENT 1", "SENT 2", "SENT 3"]);
    assert.equal(parentOf(c), only(sdk.spans(), "test.root").spanContext().spanId);
    assert.equal(parentOf(s), c.spanContext().spanId);
    const steps = sdk.spans().filter((x) => x.name === "user.step");
    assert.equal(steps.length, 3);
    for (const step of steps) assert.equal(parentOf(step), s.spanContext().spanId);
    // The client span ended after its last message arrived.
    assert.ok(c.endTime[0] * 1e9 + c.endTime[1] >= s.startTime[0] * 1e9 + s.startTime[1]);
  },
);

test("server stream: the handler fails after two messages", T, async (t) => {
  const sdk = newSdk();
  const { client } = await tracedPair(sdk, t);
  const got: unknown[] = [];
  await assert.rejects(
    (async () => {
      for await (const m of client.count({ n: 4, failAfter: 2, code: Code.Internal })) got.push(m);
    })(),
    { code: Code.Internal },
  );
  assert.equal(got.length, 2);
  const { c, s } = await pairOf(sdk, "Count");
  for (const x of [c, s]) {
    assert.equal(x.attributes["rpc.ttrpc.status_code"], Code.Internal);
    assert.equal(x.status.code, ERROR);
  }
  assert.deepEqual(events(c), ["SENT 1", "RECEIVED 1", "RECEIVED 2"]);
  assert.deepEqual(events(s), ["RECEIVED 1", "SENT 1", "SENT 2"]);
});

test(
  "server stream: the client stops reading (break) -> CANCELLED Error on the client span",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client } = await tracedPair(sdk, t);
    for await (const m of client.count({ n: 5 })) {
      assert.deepEqual(m, { i: 0 });
      break;
    }
    const { c, s } = await pairOf(sdk, "Count");
    assert.equal(c.attributes["rpc.ttrpc.status_code"], Code.Canceled);
    assert.equal(c.status.code, ERROR);
    assert.match(c.status.message ?? "", /stopped reading/);
    // ttrpc has no cancel frame: the server finishes its stream, unaware.
    assert.equal(s.attributes["rpc.ttrpc.status_code"], 0);
  },
);

test(
  "server stream: the client goes away mid-stream -> the server span ends CANCELLED",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client, conn } = await tracedPair(sdk, t);
    const it = client.count({ n: 1000, delayMs: 5 })[Symbol.asyncIterator]();
    await it.next();
    await conn.close();
    await assert.rejects(it.next());
    const { c, s } = await pairOf(sdk, "Count");
    assert.equal(c.status.code, ERROR);
    assert.equal(s.attributes["rpc.ttrpc.status_code"], Code.Canceled);
    assert.equal(s.status.code, UNSET, "CANCELLED is not one of otelttrpc's server errors");
  },
);

test("server stream: the deadline passes -> DEADLINE_EXCEEDED on both spans", T, async (t) => {
  const sdk = newSdk();
  const { client } = await tracedPair(sdk, t);
  await assert.rejects(drain(client.count({ n: 100, delayMs: 20 }, { timeoutMs: 100 })), {
    code: Code.DeadlineExceeded,
  });
  const { c, s } = await pairOf(sdk, "Count");
  for (const x of [c, s]) {
    assert.equal(x.attributes["rpc.ttrpc.status_code"], Code.DeadlineExceeded);
    assert.equal(x.status.code, ERROR);
  }
});

test(
  "client stream: one SENT event per message on the client, RECEIVED on the server",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client } = await tracedPair(sdk, t);
    const reply = await inRoot(sdk, () => client.sum([{ n: 1 }, { n: 2 }, { n: 3 }]));
    assert.deepEqual(reply, { total: 6 });
    const { c, s } = await pairOf(sdk, "Sum");
    assert.deepEqual(events(c), ["SENT 1", "SENT 2", "SENT 3", "RECEIVED 1"]);
    assert.deepEqual(events(s), ["RECEIVED 1", "RECEIVED 2", "RECEIVED 3", "SENT 1"]);
    assert.equal(parentOf(s), c.spanContext().spanId);
    assert.equal(parentOf(only(sdk.spans(), "user.sum")), s.spanContext().spanId);
    assert.equal(c.attributes["rpc.ttrpc.status_code"], 0);
  },
);

test(
  "client stream: the handler fails on the second message (a client error: server Unset)",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client } = await tracedPair(sdk, t);
    await assert.rejects(client.sum([{ n: 1 }, { code: Code.InvalidArgument }]), {
      code: Code.InvalidArgument,
    });
    const { c, s } = await pairOf(sdk, "Sum");
    assert.equal(c.attributes["rpc.ttrpc.status_code"], Code.InvalidArgument);
    assert.equal(s.attributes["rpc.ttrpc.status_code"], Code.InvalidArgument);
    assert.equal(c.status.code, ERROR);
    assert.equal(s.status.code, UNSET);
  },
);

test(
  "client stream: the caller's request iterable throws -> the client span fails",
  T,
  async (t) => {
    const sdk = newSdk();
    const { client } = await tracedPair(sdk, t);
    async function* requests(): AsyncGenerator<Ask> {
      yield { n: 1 };
      throw new Error("producer broke");
    }
    await assert.rejects(client.sum(requests()));
    const c = await (async () => {
      await until(() => sdk.spans().some((x) => x.kind === SpanKind.CLIENT), "client span");
      return sdk.spans().find((x) => x.kind === SpanKind.CLIENT) as ReadableSpan;
    })();
    assert.notEqual(c.attributes["rpc.ttrpc.status_code"], 0);
    assert.equal(c.status.code, ERROR);
  },
);

test("bidi: events both ways, each handler step nests, spans end with the stream", T, async (t) => {
  const sdk = newSdk();
  const { client } = await tracedPair(sdk, t);
  const requests = createWritableIterable<Ask>();
  const replies: unknown[] = [];
  await inRoot(sdk, async () => {
    const it = client.chat(requests)[Symbol.asyncIterator]();
    for (const n of [1, 2]) {
      requests.write({ n });
      replies.push((await it.next()).value);
    }
    requests.close();
    assert.equal((await it.next()).done, true);
  });
  assert.deepEqual(replies, [{ n: 1 }, { n: 2 }]);
  const { c, s } = await pairOf(sdk, "Chat");
  assert.deepEqual(events(c), ["SENT 1", "RECEIVED 1", "SENT 2", "RECEIVED 2"]);
  assert.deepEqual(events(s), ["RECEIVED 1", "SENT 1", "RECEIVED 2", "SENT 2"]);
  const steps = sdk.spans().filter((x) => x.name === "user.chat");
  assert.equal(steps.length, 2);
  for (const step of steps) assert.equal(parentOf(step), s.spanContext().spanId);
  assert.equal(c.status.code, UNSET);
  assert.equal(s.attributes["rpc.ttrpc.status_code"], 0);
});

test("bidi: the handler fails -> both spans carry the code", T, async (t) => {
  const sdk = newSdk();
  const { client } = await tracedPair(sdk, t);
  await assert.rejects(drain(client.chat([{ n: 1 }, { code: Code.Unavailable }])), {
    code: Code.Unavailable,
  });
  const { c, s } = await pairOf(sdk, "Chat");
  for (const x of [c, s]) {
    assert.equal(x.attributes["rpc.ttrpc.status_code"], Code.Unavailable);
    assert.equal(x.status.code, ERROR);
  }
});

test("bidi: the client abandons the stream -> CANCELLED on the client span", T, async (t) => {
  const sdk = newSdk();
  const { client, conn } = await tracedPair(sdk, t);
  const requests = createWritableIterable<Ask>();
  const it = client.chat(requests)[Symbol.asyncIterator]();
  requests.write({ n: 1 });
  await it.next();
  await it.return?.();
  const name = `${SVC}/Chat`;
  const c = sdk.spans().find((x) => x.name === name && x.kind === SpanKind.CLIENT);
  assert.equal(c?.attributes["rpc.ttrpc.status_code"], Code.Canceled);
  assert.equal(c?.status.code, ERROR);
  // No cancel frame in ttrpc: the server's handler waits for requests until the connection ends.
  assert.equal(sdk.spans().filter((x) => x.name === name).length, 1);
  await conn.close();
  const { s } = await pairOf(sdk, "Chat");
  assert.equal(s.attributes["rpc.ttrpc.status_code"], Code.Canceled);
  assert.deepEqual(events(s), ["RECEIVED 1", "SENT 1"]);
});
