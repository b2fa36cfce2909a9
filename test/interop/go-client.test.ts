/**
 * Interop, the other way: the Go ttrpc 1.2.4 client (test/interop/go `client --case`) → our server.
 * Every case of issue 3's matrix from the server side; the first way is ts-client.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createServer, type Server } from "ttrpc";
import { startProxy, TYPE_REQUEST, TYPE_RESPONSE } from "./frames.js";
import {
  interopSuite,
  killAll,
  type Line,
  runGoClient,
  socketPath,
  startGoClient,
  stepOf,
  steps,
  tempDir,
} from "./peer.js";
import { Bench, Interop, implementations, Recorder, Streaming } from "./service.js";
import {
  boundary,
  bytesField,
  MAX_FRAME,
  payloadResponseLength,
  sizeRequestLength,
} from "./util.js";

const MiB = 1 << 20;

async function startServer(socket: string): Promise<{ server: Server; rec: Recorder }> {
  const rec = new Recorder();
  const impl = implementations(rec);
  const server = createServer();
  server.register(Streaming, impl.streaming);
  server.register(Interop, impl.interop);
  server.register(Bench, impl.bench);
  await server.listen(socket);
  return { server, rec };
}

function ok(line: Line): Line {
  assert.equal(line.ok, true, `step ${String(line.step)} failed: ${JSON.stringify(line)}`);
  return line;
}

interopSuite("Go ttrpc client → our server", (bin) => {
  const dir = tempDir();
  const socket = socketPath(dir, "ts");
  let server: Server;
  let rec: Recorder;
  const go = (name: string, args: string[] = []) => runGoClient(bin, socket, name, args);

  before(async () => {
    ({ server, rec } = await startServer(socket));
  });
  after(async () => {
    killAll();
    await server?.close();
  });

  // ---------------------------------------------------------------- call kinds

  test("unary, server-streaming, client-streaming and bidi calls", {
    timeout: 60_000,
  }, async () => {
    const unary = ok(stepOf(await go("unary"), "unary"));
    assert.deepEqual([unary.seq, unary.msg], [2, "hello"]);
    assert.deepEqual(ok(stepOf(await go("server_stream"), "server_stream")).parts, [2, 2, 2, 4]);
    const sum = ok(stepOf(await go("client_stream"), "client_stream"));
    assert.deepEqual([sum.sum, sum.num], [6, 4]);
    const bidi = ok(stepOf(await go("bidi"), "bidi"));
    assert.deepEqual(bidi.replies, [
      { seq: 1, msg: "m0" },
      { seq: 11, msg: "m1" },
      { seq: 21, msg: "m2" },
    ]);
    assert.equal(bidi.eof, true);
  });

  test("unary with a filled and an empty message", { timeout: 60_000 }, async () => {
    const lines = await go("echo");
    const echo = ok(stepOf(lines, "echo"));
    assert.deepEqual([echo.seq, echo.msg], [42, "hello ✓"]);
    const empty = ok(stepOf(lines, "echo_empty"));
    assert.deepEqual([empty.seq, empty.msg], [1, ""]);
  });

  test("Go's integration/streaming suite, run by the Go client against our server", {
    timeout: 60_000,
  }, async () => {
    const lines = await go("streaming");
    const echo = ok(stepOf(lines, "Echo"));
    assert.deepEqual([echo.seq, echo.msg], [2, "Echo"]);
    const echoStream = ok(stepOf(lines, "EchoStream"));
    assert.deepEqual([echoStream.roundTrips, echoStream.mismatched, echoStream.eof], [50, 0, true]);
    const sum = ok(stepOf(lines, "SumStream"));
    assert.deepEqual([sum.sum, sum.num], [6, 6]);
    const divides = steps(lines, "DivideStream").map((l) => ok(l).parts);
    assert.deepEqual(divides, [[1, 1, 1, 4], [0, 0, 0], [0, 0, 2], []]);
    ok(stepOf(lines, "EchoNull"));
    const nullStream = ok(stepOf(lines, "EchoNullStream"));
    assert.equal(nullStream.received, 50);
    const emptyPayload = ok(stepOf(lines, "EmptyPayloadStream"));
    assert.deepEqual(emptyPayload.messages, [
      { seq: 1, msg: "empty" },
      { seq: 2, msg: "empty" },
    ]);
  });

  test("google.protobuf.Empty requests (unary and server-streaming)", {
    timeout: 60_000,
  }, async () => {
    const lines = await go("empty");
    assert.deepEqual(ok(stepOf(lines, "metadata_echo_empty")).entries, []);
    assert.deepEqual(ok(stepOf(lines, "empty_payload_stream")).messages, [
      { seq: 1, msg: "empty" },
      { seq: 2, msg: "empty" },
    ]);
  });

  test("0-byte and 1 MiB payloads in all four call kinds", { timeout: 60_000 }, async () => {
    const lines = await go("large");
    for (const l of steps(lines, "unary")) assert.equal(ok(l).same, true);
    assert.deepEqual(
      steps(lines, "server_stream").map((l) => ok(l).got),
      [
        [0, 0, 0],
        [MiB, MiB, MiB],
      ],
    );
    assert.equal(steps(lines, "client_stream").filter((l) => ok(l)).length, 2);
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

  // ---------------------------------------------------------------- metadata

  test("metadata: several keys, repeated values in order, upper-case keys", {
    timeout: 60_000,
  }, async () => {
    const before = rec.metadata.length;
    const line = ok(stepOf(await go("metadata"), "metadata"));
    // Keys are kept lower-case on our side (Go's MD.Set lowers them too; a raw upper-case map
    // key reaches a Go server unchanged, ours lowers it: FINDINGS.md).
    const expected = [
      { key: "empty-value", values: [""] },
      { key: "key-a", values: ["1"] },
      { key: "key-b", values: ["x", "y", "z", "w"] },
      { key: "raw-upper", values: ["U1", "U2"] },
      { key: "set-upper", values: ["lowered by MD.Set"] },
    ];
    assert.deepEqual(line.entries, expected);
    assert.equal(rec.metadata.length, before + 1);
  });

  test("metadata on streams: the Go 1.2.4 client sends none (NewStream ignores the context's metadata)", {
    timeout: 60_000,
  }, async () => {
    const before = rec.metadata.length;
    const line = ok(stepOf(await go("metadata_stream"), "metadata_stream"));
    assert.deepEqual(line.messages, [[], []]);
    assert.deepEqual(rec.metadata[before]?.entries, []);
  });

  // ---------------------------------------------------------------- deadlines

  test("deadline: the Go client's timeout reaches our handler as a deadline no later than sent", {
    timeout: 60_000,
  }, async () => {
    const lines = await go("deadline", ["--timeout-ms", "5000"]);
    const dl = ok(stepOf(lines, "deadline"));
    assert.equal(dl.hasDeadline, true);
    assert.ok(
      Number(dl.remainingMs) > 0 && Number(dl.remainingMs) <= 5000,
      `remaining ${dl.remainingMs}`,
    );
    assert.equal(ok(stepOf(lines, "no_deadline")).hasDeadline, false);
  });

  test("deadline: expiry gives DEADLINE_EXCEEDED and aborts our handler's signal", {
    timeout: 60_000,
  }, async () => {
    const lines = await go("deadline_expire", [
      "--timeout-ms",
      "300",
      "--ms",
      "30000",
      "--tag",
      "go-expire",
    ]);
    assert.equal(stepOf(lines, "sleep").code, 4);
    const outcome = ok(stepOf(lines, "outcome"));
    assert.deepEqual(
      [outcome.found, outcome.finished, outcome.cancelled, outcome.reason],
      [true, true, true, "deadline"],
    );
    const seen = await rec.outcome("go-expire");
    assert.equal(seen.cancelled, true);
    assert.equal(seen.reason, "deadline");
  });

  // ---------------------------------------------------------------- errors

  test("errors: every status code 1-16 reaches the Go client with its message and detail", {
    timeout: 60_000,
  }, async () => {
    const lines = await go("errors");
    const fails = steps(lines, "fail");
    assert.equal(fails.length, 16);
    for (const l of fails) {
      assert.equal(l.ok, false);
      assert.equal(l.kind, "status");
      assert.equal(l.code, l.sentCode);
      assert.equal(l.message, l.sentMessage);
      assert.deepEqual(l.details, [l.sentDetail]);
    }
    const plain = stepOf(lines, "fail_no_detail");
    assert.deepEqual([plain.code, plain.details], [5, []]);
    assert.equal(stepOf(lines, "unknown_service").code, 12);
    assert.equal(stepOf(lines, "unknown_method").code, 12);
    assert.deepEqual(
      steps(lines, "unknown_stream").map((l) => l.code),
      [12, 12],
    );
    const failStream = stepOf(await go("fail_stream"), "fail_stream");
    assert.equal(failStream.code, 9);
    assert.equal((failStream.details as unknown[]).length, 1);
  });

  // ---------------------------------------------------------------- size limit

  test("size limit: the exact 4 MiB frame boundary, both directions; the connection keeps working", {
    timeout: 60_000,
  }, async (t) => {
    const proxy = await startProxy(socketPath(dir, "proxy"), socket);
    t.after(async () => {
      await proxy.close();
    });
    const resp = boundary(payloadResponseLength, MAX_FRAME);
    const req = boundary(sizeRequestLength, MAX_FRAME);
    const lines = await runGoClient(bin, proxy.socket, "payload", [
      "--sizes",
      `${resp.largestOk},${resp.smallestFail}`,
      "--req-sizes",
      `${req.largestOk},${req.smallestFail}`,
    ]);
    const [payloadOk, payloadBig] = steps(lines, "payload");
    assert.equal(ok(payloadOk as Line).pattern, true);
    assert.equal(
      payloadBig?.code,
      8,
      "our server answers RESOURCE_EXHAUSTED instead of sending 4 MiB + 1",
    );
    const [sizeOk, sizeBig] = steps(lines, "size");
    assert.equal(ok(sizeOk as Line).got, req.largestOk);
    assert.equal(sizeBig?.code, 8, "our server refuses the Go client's 4 MiB + 1 request");
    ok(stepOf(lines, "after"));

    const frames = proxy.connections[0];
    assert.ok(frames);
    const responses = frames.fromServer.frames
      .filter((f) => f.type === TYPE_RESPONSE)
      .map((f) => f.length);
    const requests = frames.fromClient.frames
      .filter((f) => f.type === TYPE_REQUEST)
      .map((f) => f.length);
    assert.ok(responses.includes(MAX_FRAME), "a Response of exactly 4 MiB went out");
    assert.ok(!responses.some((l) => l > MAX_FRAME), "no oversized Response went out");
    assert.ok(requests.includes(MAX_FRAME), "a Request of exactly 4 MiB came in");
    assert.ok(requests.includes(MAX_FRAME + 1), "the Go 1.2.4 client sent its 4 MiB + 1 Request");
  });

  test("size limit on streams: a 4 MiB Data frame passes, 4 MiB + 1 fails only that stream", {
    timeout: 60_000,
  }, async () => {
    const { largestOk, smallestFail } = boundary(bytesField, MAX_FRAME); // BenchMessage{payload}
    const lines = await go("stream_payload", ["--sizes", `${largestOk},${smallestFail}`]);
    const [serverOk, serverBig] = steps(lines, "server_stream");
    assert.deepEqual(ok(serverOk as Line).got, [largestOk]);
    assert.equal(serverBig?.code, 8, "our server refuses to send a 4 MiB + 1 Data frame");
    const [bidiOk, bidiBig] = steps(lines, "bidi");
    assert.deepEqual(ok(bidiOk as Line).got, [largestOk]);
    assert.equal(bidiBig?.code, 8, "our server refuses the Go client's 4 MiB + 1 Data frame");
    ok(stepOf(lines, "after"));
  });

  // ---------------------------------------------------------------- concurrency

  test("concurrency: 1,000 concurrent unary calls (answered out of order) and 50 streams on one connection", {
    timeout: 60_000,
  }, async () => {
    const lines = await go("concurrency", ["--count", "1000", "--streams", "50", "--tag", "gc"]);
    const unary = ok(stepOf(lines, "unary"));
    assert.deepEqual([unary.answered, unary.mismatched, unary.failed], [1000, 0, 0]);
    const streams = ok(stepOf(lines, "streams"));
    assert.deepEqual([streams.answered, streams.mismatched, streams.failed], [1000, 0, 0]);
  });

  // ---------------------------------------------------------------- lifecycle

  test("lifecycle: graceful shutdown with Go calls in flight lets them finish, then closes", {
    timeout: 60_000,
  }, async (t) => {
    const sock = socketPath(dir, "ts-shutdown");
    const { server: s2, rec: r2 } = await startServer(sock);
    const client = startGoClient(bin, sock, "hold", [
      "--count",
      "2",
      "--ms",
      "1000",
      "--tag",
      "gsd",
    ]);
    t.after(async () => {
      await client.kill();
      await s2.close();
    });
    await r2.started("gsd-0");
    await r2.started("gsd-1");
    const shutdown = s2.shutdown();
    const { code } = await client.exited;
    assert.equal(code, 0);
    const calls = steps(client.out.lines, "call");
    assert.deepEqual(
      calls.map((l) => [l.tag, l.ok, l.cancelled]),
      [
        ["gsd-0", true, false],
        ["gsd-1", true, false],
      ],
    );
    // Once idle the connection is closed: the Go client's next call fails.
    assert.equal(stepOf(client.out.lines, "after").code, 14);
    await shutdown;
    assert.equal(s2.connectionCount, 0);
  });

  test("lifecycle: a Go client that closes mid-call: its call fails, our handler's signal aborts", {
    timeout: 60_000,
  }, async (t) => {
    const client = startGoClient(bin, socket, "hold", [
      "--count",
      "1",
      "--ms",
      "30000",
      "--tag",
      "gcl",
    ]);
    t.after(async () => {
      await client.kill();
    });
    await rec.started("gcl-0");
    client.write("close");
    const { code } = await client.exited;
    assert.equal(code, 0);
    const call = stepOf(client.out.lines, "call");
    assert.deepEqual([call.code, call.kind], [14, "closed"]);
    const seen = await rec.outcome("gcl-0");
    assert.equal(seen.cancelled, true);
    assert.equal(seen.reason, "canceled");
    ok(stepOf(await go("unary"), "unary"));
  });

  test("lifecycle: a Go client killed mid-call: our handler's signal aborts, other connections keep working", {
    timeout: 60_000,
  }, async (t) => {
    const client = startGoClient(bin, socket, "hold", [
      "--count",
      "2",
      "--ms",
      "30000",
      "--tag",
      "gkl",
    ]);
    t.after(() => client.kill());
    await rec.started("gkl-0");
    await rec.started("gkl-1");
    await client.kill();
    for (const tag of ["gkl-0", "gkl-1"]) {
      const seen = await rec.outcome(tag);
      assert.equal(seen.cancelled, true);
      assert.equal(seen.reason, "canceled");
    }
    ok(stepOf(await go("unary"), "unary"));
    ok(stepOf(await go("bidi"), "bidi"));
  });
});
