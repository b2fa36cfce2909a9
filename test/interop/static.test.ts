/**
 * Interop with static codecs: the interop and bench services as protoc-gen-ttrpc generates them
 * (test/interop/static/gen), against the Go ttrpc 1.2.4 peer in both directions. Our server runs
 * the same handlers as go-client.test.ts (service.ts); only the codecs differ.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  Code,
  type Connection,
  connect,
  createClient,
  createServer,
  type Server,
  TtrpcError,
} from "ttrpc";
import {
  type GoServer,
  interopSuite,
  killAll,
  type Line,
  runGoClient,
  socketPath,
  startGoServer,
  stepOf,
  steps,
  tempDir,
} from "./peer.js";
import { detailFor, implementations, pattern, Recorder } from "./service.js";
import { Bench } from "./static/gen/bench_ttrpc.js";
import { Empty } from "./static/gen/google/protobuf/empty_ttrpc.js";
import { EchoPayload, Interop, Streaming } from "./static/gen/interop_ttrpc.js";

const MiB = 1 << 20;

function ok(line: Line): Line {
  assert.equal(line.ok, true, `step ${String(line.step)} failed: ${JSON.stringify(line)}`);
  return line;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of it) out.push(m);
  return out;
}

interopSuite("static codecs: our client → Go ttrpc server", (bin) => {
  const dir = tempDir();
  let go: GoServer;
  let conn: Connection;
  before(async () => {
    go = await startGoServer(bin, socketPath(dir, "go"));
    conn = await connect(go.socket);
  });
  after(async () => {
    await conn?.close();
    await go?.stop();
    killAll();
  });

  test("all four call kinds", { timeout: 60_000 }, async () => {
    const s = createClient(Streaming, conn);
    const echo = await s.echo(EchoPayload.create({ seq: 41, msg: "hello ✓" }));
    assert.deepEqual([echo.seq, echo.msg], [42, "hello ✓"]);
    const parts = await collect(s.divideStream({ sum: 10, num: 4 }));
    assert.deepEqual(
      parts.map((p) => p.add),
      [2, 2, 2, 4],
    );
    const sum = await s.sumStream([1, 2, 3].map((add) => ({ add })));
    assert.deepEqual([sum.sum, sum.num], [6, 3]);
    const replies = await collect(
      s.echoStream([0, 1, 2].map((i) => EchoPayload.create({ seq: i * 10, msg: `m${i}` }))),
    );
    assert.deepEqual(
      replies.map((r) => [r.seq, r.msg]),
      [
        [1, "m0"],
        [11, "m1"],
        [21, "m2"],
      ],
    );
    const empties = await collect(s.emptyPayloadStream(Empty.create()));
    assert.deepEqual(
      empties.map((r) => [r.seq, r.msg]),
      [
        [1, "empty"],
        [2, "empty"],
      ],
    );
  });

  test("0-byte and 1 MiB bytes fields both ways", { timeout: 60_000 }, async () => {
    const i = createClient(Interop, conn);
    for (const size of [0, 1, 1024, 70_000, MiB]) {
      const r = await i.payload({ size });
      assert.ok(Buffer.from(r.data).equals(pattern(size)), `payload ${size}`);
      assert.equal((await i.size({ data: pattern(size) })).size, size);
    }
    const b = createClient(Bench, conn);
    const big = pattern(MiB);
    assert.ok(Buffer.from((await b.unary({ payload: big })).payload).equals(big));
  });

  test("errors carry their code, message and Any detail", { timeout: 60_000 }, async () => {
    const i = createClient(Interop, conn);
    const detail = detailFor(Code.NotFound);
    const err = await i
      .fail({
        code: Code.NotFound,
        message: "gone",
        detailTypeUrl: detail.typeUrl,
        detailValue: detail.value,
      })
      .then(
        () => assert.fail("expected a failure"),
        (e: unknown) => e,
      );
    assert.ok(err instanceof TtrpcError);
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.message.includes("gone"), true);
  });

  test("metadata reaches the Go server", { timeout: 60_000 }, async () => {
    const i = createClient(Interop, conn);
    const list = await i.metadataEcho(Empty.create(), { metadata: { "key-a": "1" } });
    assert.deepEqual(
      list.entries.find((e) => e.key === "key-a"),
      { key: "key-a", values: ["1"] },
    );
  });
});

interopSuite("static codecs: Go ttrpc client → our server", (bin) => {
  const dir = tempDir();
  const socket = socketPath(dir, "ts");
  let server: Server;
  const go = (name: string, args: string[] = []) => runGoClient(bin, socket, name, args);

  before(async () => {
    const impl = implementations(new Recorder());
    server = createServer();
    // The handlers are written against the protobuf-es types; with static codecs they receive
    // plain messages with the same fields, and what they return encodes the same way.
    // biome-ignore lint/suspicious/noExplicitAny: same fields, other codec
    const loose = (x: unknown) => x as any;
    server.register(Streaming, loose(impl.streaming));
    server.register(Interop, loose(impl.interop));
    server.register(Bench, loose(impl.bench));
    await server.listen(socket);
  });
  after(async () => {
    killAll();
    await server?.close();
  });

  test("call kinds and Go's streaming suite", { timeout: 60_000 }, async () => {
    const unary = ok(stepOf(await go("unary"), "unary"));
    assert.deepEqual([unary.seq, unary.msg], [2, "hello"]);
    assert.deepEqual(ok(stepOf(await go("server_stream"), "server_stream")).parts, [2, 2, 2, 4]);
    const sum = ok(stepOf(await go("client_stream"), "client_stream"));
    assert.deepEqual([sum.sum, sum.num], [6, 4]);
    const lines = await go("streaming");
    const echoStream = ok(stepOf(lines, "EchoStream"));
    assert.deepEqual([echoStream.roundTrips, echoStream.mismatched, echoStream.eof], [50, 0, true]);
    assert.deepEqual(
      steps(lines, "DivideStream").map((l) => ok(l).parts),
      [[1, 1, 1, 4], [0, 0, 0], [0, 0, 2], []],
    );
    assert.equal(ok(stepOf(lines, "EchoNullStream")).received, 50);
  });

  test("0-byte and 1 MiB payloads in all four call kinds", { timeout: 60_000 }, async () => {
    const lines = await go("large");
    for (const l of steps(lines, "unary")) assert.equal(ok(l).same, true);
    assert.deepEqual(
      steps(lines, "bidi").map((l) => ok(l).got),
      [
        [0, 0],
        [MiB, MiB],
      ],
    );
    const payload = await go("payload", ["--sizes", `0,${MiB}`, "--req-sizes", `0,${MiB}`]);
    for (const l of steps(payload, "payload")) assert.equal(ok(l).pattern, true);
    assert.deepEqual(
      steps(payload, "size").map((l) => ok(l).got),
      [0, MiB],
    );
  });

  test("errors: status codes with message and detail", { timeout: 60_000 }, async () => {
    const fails = steps(await go("errors"), "fail");
    assert.equal(fails.length, 16);
    for (const l of fails) {
      assert.equal(l.code, l.sentCode);
      assert.deepEqual(l.details, [l.sentDetail]);
    }
  });
});
