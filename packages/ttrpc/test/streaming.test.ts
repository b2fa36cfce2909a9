// Go ttrpc's integration/streaming suite, ported (the behaviour, not the code), through a
// protobuf-es GenService over a real unix socket.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type EchoPayloadSchema,
  type PartSchema,
  Streaming,
} from "../../../test/interop/gen/interop_pb.js";
import { implementations, Recorder } from "../../../test/interop/service.js";
import { createWritableIterable } from "../src/index.js";
import { collect, type Pair, pair } from "./helpers.js";

type EchoInit = MessageInitShape<typeof EchoPayloadSchema>;

describe("streaming suite (Go integration/streaming)", { timeout: 60_000 }, () => {
  let p: Pair<typeof Streaming>;
  before(async () => {
    p = await pair(Streaming, implementations(new Recorder()).streaming);
  });
  after(() => p.close());

  it("Echo: unary", { timeout: 20_000 }, async () => {
    const res = await p.client.echo({ seq: 1, msg: "hello" });
    assert.equal(res.seq, 2);
    assert.equal(res.msg, "hello");
    assert.equal(res.$typeName, "ttrpc.interop.v1.EchoPayload");
  });

  it("EchoStream: 50 bidi round trips, then the client closes and the stream ends", {
    timeout: 20_000,
  }, async () => {
    const requests = createWritableIterable<EchoInit>();
    const responses = p.client.echoStream(requests)[Symbol.asyncIterator]();
    for (let i = 0; i < 100; i += 2) {
      requests.write({ seq: i, msg: `m${i}` });
      const r = await responses.next();
      assert.equal(r.done, false);
      assert.equal(r.value.seq, i + 1);
      assert.equal(r.value.msg, `m${i}`);
    }
    requests.close();
    assert.equal((await responses.next()).done, true);
  });

  it("SumStream: client-streaming, empty messages included", { timeout: 20_000 }, async () => {
    const parts: MessageInitShape<typeof PartSchema>[] = [
      { add: 1 },
      {},
      { add: 2 },
      { add: 0 },
      { add: 3 },
      {},
    ];
    const res = await p.client.sumStream(parts);
    assert.equal(res.sum, 6);
    assert.equal(res.num, 6);
  });

  it("DivideStream: server-streaming with empty first and last parts", {
    timeout: 20_000,
  }, async () => {
    const parts = await collect(p.client.divideStream({ sum: 392, num: 4 }));
    assert.deepEqual(
      parts.map((x) => x.add),
      [98, 98, 98, 98],
    );
    const withEmpty = await collect(p.client.divideStream({ sum: 0, num: 3 }));
    assert.deepEqual(
      withEmpty.map((x) => x.add),
      [0, 0, 0],
    );
  });

  it("EchoNull: client-streaming returning google.protobuf.Empty", {
    timeout: 20_000,
  }, async () => {
    const res = await p.client.echoNull(
      (async function* () {
        for (let i = 0; i < 10; i++) yield { seq: i, msg: "null" };
      })(),
    );
    assert.equal(res.$typeName, "google.protobuf.Empty");
  });

  it("EchoNullStream: 10 Empty messages per input until the client closes", {
    timeout: 20_000,
  }, async () => {
    const out = await collect(p.client.echoNullStream([{ seq: 1 }, { seq: 2 }, { seq: 3 }]));
    assert.equal(out.length, 30);
    for (const m of out) assert.equal(m.$typeName, "google.protobuf.Empty");
  });

  it("EmptyPayloadStream: a 0-byte Empty request still runs the handler (Go issue #126)", {
    timeout: 20_000,
  }, async () => {
    const out = await collect(p.client.emptyPayloadStream({}));
    assert.deepEqual(
      out.map((m) => [m.seq, m.msg]),
      [
        [1, "empty"],
        [2, "empty"],
      ],
    );
  });

  it("TestStreamClient: a unary call and 100 bidi round trips on one connection", {
    timeout: 20_000,
  }, async () => {
    assert.equal((await p.client.echo({ seq: 41 })).seq, 42);
    const requests = createWritableIterable<EchoInit>();
    const responses = p.client.echoStream(requests)[Symbol.asyncIterator]();
    for (let i = 0; i < 100; i++) {
      requests.write({ seq: i });
      assert.equal((await responses.next()).value?.seq, i + 1);
    }
    requests.close();
    assert.deepEqual(await responses.next(), { done: true, value: undefined });
  });

  it("many streams of every kind at once on one connection", { timeout: 20_000 }, async () => {
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      work.push(p.client.echo({ seq: i }).then((r) => assert.equal(r.seq, i + 1)));
      work.push(
        collect(p.client.divideStream({ sum: i, num: 2 })).then((r) => assert.equal(r.length, 2)),
      );
      work.push(
        p.client.sumStream([{ add: i }, { add: 1 }]).then((r) => assert.equal(r.sum, i + 1)),
      );
      work.push(
        collect(p.client.echoStream([{ seq: i }, { seq: i + 10 }])).then((r) =>
          assert.deepEqual(
            r.map((x) => x.seq),
            [i + 1, i + 11],
          ),
        ),
      );
    }
    await Promise.all(work);
    assert.equal(p.conn.activeStreams, 0);
  });
});
