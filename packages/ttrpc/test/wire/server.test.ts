/**
 * Our server (`createServer().listen(socket)`) against a raw unix-socket client that sends
 * hand-built frames and checks the exact frames it gets back.
 */
import assert from "node:assert/strict";
import { createServer as createNetServer, type Socket } from "node:net";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import {
  createServer,
  type HandlerContext,
  type ServerOptions,
  type ServiceImpl,
  TtrpcError,
} from "../../src/index.js";
import {
  b,
  codeOf,
  DATA,
  deferred,
  EMPTY,
  type Frame,
  frame,
  frameBytes,
  header,
  hex,
  lenField,
  MAX,
  NODATA,
  parseResponse,
  pbRequest,
  pbResponse,
  pbStatus,
  type RawPeer,
  RC,
  REQUEST,
  RESPONSE,
  type RequestSpec,
  RO,
  rawClient,
  S,
  SERVICE,
  show,
  tmpDir,
  turns,
  txt,
  until,
  Wire,
} from "./helpers.js";

type Impl = Partial<ServiceImpl<typeof Wire>>;

const req = (method: string, payload?: Uint8Array, extra?: Partial<RequestSpec>): RequestSpec => ({
  service: SERVICE,
  method,
  payload,
  ...extra,
});

/** Echo handlers; tests override what they need. */
const echo: Impl = {
  unary: (r: Uint8Array) => r,
  async *serverStream(r: Uint8Array) {
    yield r;
  },
  async clientStream(requests: AsyncIterable<Uint8Array>) {
    const parts: string[] = [];
    for await (const r of requests) parts.push(txt(r));
    return b(parts.join("|"));
  },
  async *bidi(requests: AsyncIterable<Uint8Array>) {
    for await (const r of requests) yield r;
  },
};

async function serve(t: TestContext, impl: Impl = {}, options?: ServerOptions) {
  const path = join(tmpDir(t), "s.sock");
  const server = createServer(options);
  server.register(Wire, { ...echo, ...impl });
  await server.listen(path);
  t.after(() => server.close());
  const peer = await rawClient(t, path);
  return { server, path, peer };
}

function assertOk(f: Frame, id: number, payload: Uint8Array): void {
  assert.equal(
    hex(frameBytes(f)),
    hex(frame(id, RESPONSE, 0, pbResponse({ payload }))),
    `expected an OK Response on ${id} with no status field, got ${show(f)}`,
  );
}

function assertStatus(f: Frame, id: number, code: number, message?: string): void {
  assert.deepEqual([f.type, f.streamId, f.flags], [RESPONSE, id, 0], show(f));
  const r = parseResponse(f.data);
  assert.ok(r.status, "a status field");
  assert.equal(r.status.code, code, `code (message: ${r.status.message})`);
  if (message !== undefined) assert.equal(r.status.message, message);
}

/** A unary echo on `id` whose Response must be the very next frame. */
async function probe(peer: RawPeer, id: number, label = "probe"): Promise<void> {
  await peer.request(id, 0, req("Unary", b(label)));
  assertOk(await peer.next(), id, b(label));
}

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
  });
}

describe("raw client → server: unary, names and errors", { timeout: 20_000 }, () => {
  test("unary: Request flags 0 → exactly one Response, without a status field (Go's OK)", async (t) => {
    const { peer } = await serve(t);
    await peer.request(1, 0, req("Unary", b("hi")));
    assertOk(await peer.next(), 1, b("hi"));
    await peer.request(3, 0, req("Unary", EMPTY));
    const f = await peer.next();
    assert.equal(
      hex(frameBytes(f)),
      "00000000" + "00000003" + "02" + "00",
      "OK + empty = 10 bytes",
    );
    await probe(peer, 5);
    assert.equal(peer.frames.length, 3);
  });

  test("dispatch uses Request.service = fully-qualified name and Request.method = proto name", async (t) => {
    const { peer } = await serve(t);
    await peer.request(1, 0, req("unary", b("x")));
    assertStatus(await peer.next(), 1, S.UNIMPLEMENTED, `method ${SERVICE}/unary`);
    await peer.request(3, 0, { service: "Wire", method: "Unary", payload: b("x") });
    assertStatus(await peer.next(), 3, S.UNIMPLEMENTED, "service Wire");
    await probe(peer, 5);
  });

  test("unknown service or method → UNIMPLEMENTED; the connection survives", async (t) => {
    const { peer } = await serve(t);
    await peer.request(1, 0, { service: "no.such.Service", method: "Unary" });
    assertStatus(await peer.next(), 1, S.UNIMPLEMENTED, "service no.such.Service");
    await peer.request(3, 0, req("Nope"));
    assertStatus(await peer.next(), 3, S.UNIMPLEMENTED, `method ${SERVICE}/Nope`);
    await peer.request(5, RC, req("NopeStream"));
    assertStatus(await peer.next(), 5, S.UNIMPLEMENTED, `method ${SERVICE}/NopeStream`);
    await probe(peer, 7);
  });

  test("even, reused and decreasing stream ids → INVALID_ARGUMENT on that id; the connection survives", async (t) => {
    const { peer } = await serve(t);
    await peer.request(2, 0, req("Unary", b("x")));
    assertStatus(
      await peer.next(),
      2,
      S.INVALID_ARGUMENT,
      "StreamID must be odd for client initiated streams",
    );
    await peer.data(4, 0, b("x"));
    assertStatus(
      await peer.next(),
      4,
      S.INVALID_ARGUMENT,
      "StreamID must be odd for client initiated streams",
    );
    await probe(peer, 5);
    await peer.request(5, 0, req("Unary", b("again")));
    assertStatus(
      await peer.next(),
      5,
      S.INVALID_ARGUMENT,
      "StreamID cannot be re-used and must increment",
    );
    await peer.request(3, 0, req("Unary", b("lower")));
    assertStatus(
      await peer.next(),
      3,
      S.INVALID_ARGUMENT,
      "StreamID cannot be re-used and must increment",
    );
    await probe(peer, 7);
  });

  test("malformed Request → INVALID_ARGUMENT; a payload that does not decode → INTERNAL; the connection survives", async (t) => {
    const { peer } = await serve(t);
    const bodies = ["0a0561", "0f", "0a", "ffffffffffffffffffff01", "1a05"];
    let id = 1;
    for (const body of bodies) {
      await peer.write(frame(id, REQUEST, 0, Buffer.from(body, "hex")));
      const f = await peer.next();
      assertStatus(f, id, S.INVALID_ARGUMENT);
      assert.match(parseResponse(f.data).status?.message ?? "", /^unmarshal request error: /, body);
      id += 2;
    }
    await peer.request(id, 0, req("Unary", Buffer.from([0xff, 1])));
    const f = await peer.next();
    assertStatus(f, id, S.INTERNAL);
    assert.match(
      parseResponse(f.data).status?.message ?? "",
      /^ttrpc: error unmarshalling payload: /,
    );
    await peer.request(id + 2, RC, req("ServerStream", Buffer.from([0xff])));
    assertStatus(await peer.next(), id + 2, S.INTERNAL);
    // A streamed message that does not decode fails its stream with INTERNAL.
    await peer.request(id + 4, RO, req("ClientStream"));
    await peer.data(id + 4, 0, b("fine"));
    await peer.data(id + 4, 0, Buffer.from([0xff]));
    assertStatus(await peer.next(), id + 4, S.INTERNAL);
    await probe(peer, id + 6);
  });

  // Checked against the Go ttrpc 1.2.4 peer (test/interop/go, `serve`): each of these three
  // Requests is answered 3 InvalidArgument "unmarshal request error: …" (protobuf-go validates
  // UTF-8 in proto3 strings and rejects field number 0).
  test("Requests protobuf-go rejects (invalid UTF-8 in a string, field number 0) → INVALID_ARGUMENT", async (t) => {
    const { peer } = await serve(t);
    const badService = Buffer.concat([
      Buffer.from([0x0a, SERVICE.length + 1]),
      Buffer.from(SERVICE),
      Buffer.from([0xff]),
      lenField(2, "Unary"),
    ]);
    const badMetadataValue = Buffer.concat([
      pbRequest(req("Unary", b("x"))),
      lenField(5, Buffer.concat([lenField(1, "k"), lenField(2, Buffer.from([0xc3, 0x28]))])),
    ]);
    const fieldZero = Buffer.concat([pbRequest(req("Unary", b("x"))), Buffer.from([0x00, 0x01])]);
    const cases: [string, Buffer][] = [
      ["invalid UTF-8 in service", badService],
      ["invalid UTF-8 in a metadata value", badMetadataValue],
      ["field number 0", fieldZero],
    ];
    const wrong: string[] = [];
    let id = 1;
    for (const [name, body] of cases) {
      await peer.write(frame(id, REQUEST, 0, body));
      const st = parseResponse((await peer.next()).data).status;
      if (st?.code !== S.INVALID_ARGUMENT || !st.message.startsWith("unmarshal request error: "))
        wrong.push(`${name}: got ${st ? `${st.code} ${JSON.stringify(st.message)}` : "OK"}`);
      id += 2;
    }
    assert.deepEqual(wrong, [], "each must be 3 'unmarshal request error: …'");
    await probe(peer, id);
  });

  test("a handler's TtrpcError travels as code, message and details; any other error as UNKNOWN", async (t) => {
    const detail = { typeUrl: "type.googleapis.com/test.Detail", value: Buffer.from([1, 2, 3]) };
    const { peer } = await serve(t, {
      unary(r: Uint8Array) {
        if (txt(r) === "status") throw new TtrpcError("nope", 5, { details: [detail] });
        if (txt(r) === "plain") throw new Error("boom");
        if (txt(r) === "other") throw "a string";
        return r;
      },
      async *serverStream() {
        yield b("a");
        throw new Error("mid-stream");
      },
    });
    await peer.request(1, 0, req("Unary", b("status")));
    const f = await peer.next();
    assert.equal(
      hex(frameBytes(f)),
      hex(
        frame(
          1,
          RESPONSE,
          0,
          pbResponse({ status: pbStatus({ code: 5, message: "nope", details: [detail] }) }),
        ),
      ),
      "status only (no payload), fields in Go's order",
    );
    await peer.request(3, 0, req("Unary", b("plain")));
    assertStatus(await peer.next(), 3, S.UNKNOWN, "boom");
    await peer.request(5, 0, req("Unary", b("other")));
    assertStatus(await peer.next(), 5, S.UNKNOWN, "a string");
    await peer.request(7, RC, req("ServerStream", b("s")));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(7, DATA, 0, b("a"))));
    assertStatus(await peer.next(), 7, S.UNKNOWN, "mid-stream");
    await probe(peer, 9);
  });

  test("unknown frame types (0x7f) are ignored: no reply, no stream id consumed", async (t) => {
    const { peer } = await serve(t);
    await peer.write(
      frame(1, 0x7f, 0, b("junk")),
      frame(2, 0x7f, 0xff),
      frame(3, 0x7f, RC | NODATA),
    );
    await probe(peer, 1);
    assert.equal(peer.frames.length, 1);
  });

  test("Data on an unknown or finished stream → INVALID_ARGUMENT 'StreamID is no longer active'", async (t) => {
    const { peer } = await serve(t);
    await peer.data(9, 0, b("x"));
    assertStatus(await peer.next(), 9, S.INVALID_ARGUMENT, "StreamID is no longer active");
    await probe(peer, 11);
    await peer.data(11, 0, b("x"));
    assertStatus(await peer.next(), 11, S.INVALID_ARGUMENT, "StreamID is no longer active");
    await peer.data(13, RC | NODATA);
    assertStatus(await peer.next(), 13, S.INVALID_ARGUMENT, "StreamID is no longer active");
    await probe(peer, 15);
  });

  test("Data on an in-flight unary call → one INVALID_ARGUMENT Response; the handler's late result is not sent", async (t) => {
    const started = deferred();
    const gate = deferred();
    let signalAborted: boolean | undefined;
    const { peer } = await serve(t, {
      async unary(r: Uint8Array, ctx: HandlerContext) {
        if (txt(r) !== "wait") return r;
        started.resolve();
        await gate.promise;
        signalAborted = ctx.signal.aborted;
        return b("late");
      },
    });
    await peer.request(1, 0, req("Unary", b("wait")));
    await started.promise;
    await peer.data(1, 0, b("x"));
    assertStatus(await peer.next(), 1, S.INVALID_ARGUMENT);
    gate.resolve();
    await probe(peer, 3);
    assert.equal(signalAborted, true, "the handler's signal was aborted");
  });

  test("Request flags are not looked at for a unary method (Go): RC, RO, 0x05, 0x06, 0xff all served as unary", async (t) => {
    const { peer } = await serve(t);
    let id = 1;
    for (const flags of [RC, RO, RC | NODATA, RO | NODATA, 0xff]) {
      await peer.request(id, flags, req("Unary", b(`f${flags}`)));
      assertOk(await peer.next(), id, b(`f${flags}`));
      id += 2;
    }
  });
});

describe("raw client → server: streaming", { timeout: 20_000 }, () => {
  test("server-streaming: Data 0x00 per message (empty = zero-length Data), ends with Data 0x05, no Response", async (t) => {
    const { peer } = await serve(t, {
      async *serverStream(r: Uint8Array) {
        for (const c of txt(r).split(",")) yield b(c);
      },
    });
    await peer.request(1, RC, req("ServerStream", b("a,,c")));
    const frames = await peer.take(4);
    assert.deepEqual(
      frames.map((f) => hex(frameBytes(f))),
      [
        frame(1, DATA, 0, b("a")),
        frame(1, DATA, 0),
        frame(1, DATA, 0, b("c")),
        frame(1, DATA, RC | NODATA),
      ].map(hex),
    );
    await probe(peer, 3); // no Response follows the end of stream
  });

  test("server-streaming error: Data, then a Response carrying the status (no Data 0x05)", async (t) => {
    const { peer } = await serve(t, {
      async *serverStream() {
        yield b("a");
        throw new TtrpcError("bad", 9);
      },
    });
    await peer.request(1, RC, req("ServerStream", b("x")));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(1, DATA, 0, b("a"))));
    assertStatus(await peer.next(), 1, 9, "bad");
    await probe(peer, 3);
  });

  test("an empty request (google.protobuf.Empty, 0 bytes) still runs the handler (Go issue #126)", async (t) => {
    const seen: number[] = [];
    const { peer } = await serve(t, {
      unary(r: Uint8Array) {
        seen.push(r.length);
        return b("unary ran");
      },
      async *serverStream(r: Uint8Array) {
        seen.push(r.length);
        yield b("stream ran");
      },
    });
    // Payload field absent, as Go and Rust encode an empty message.
    await peer.request(1, RC, req("ServerStream"));
    assert.equal(txt((await peer.next()).data), "stream ran");
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(1, DATA, RC | NODATA)));
    // Payload field present but empty.
    await peer.request(3, RC, req("ServerStream", EMPTY));
    assert.equal(txt((await peer.next()).data), "stream ran");
    await peer.next();
    await peer.request(5, 0, req("Unary"));
    assertOk(await peer.next(), 5, b("unary ran"));
    assert.deepEqual(seen, [0, 0, 0]);
  });

  for (const [convention, flags] of [
    ["Go: remote-open 0x02", RO],
    ["Rust: remote-open|no-data 0x06", RO | NODATA],
  ] as const) {
    test(`client-streaming (${convention}, no payload field): only the Data messages reach the handler`, async (t) => {
      const { peer } = await serve(t);
      await peer.request(1, flags, req("ClientStream"));
      await peer.data(1, 0, b("a"));
      await peer.data(1, 0, EMPTY);
      await peer.data(1, 0, b("c"));
      await peer.data(1, RC | NODATA);
      assertOk(await peer.next(), 1, b("a||c"));
      await probe(peer, 3);
    });
  }

  test("Data[remote-closed] with a payload delivers the message, then closes the stream", async (t) => {
    const { peer } = await serve(t);
    await peer.request(1, RO, req("ClientStream"));
    await peer.data(1, 0, b("a"));
    await peer.data(1, RC, b("b"));
    assertOk(await peer.next(), 1, b("a|b"));
    await peer.data(1, 0, b("c"));
    assertStatus(await peer.next(), 1, S.INVALID_ARGUMENT, "StreamID is no longer active");
    // Bidi: the last message is echoed, then the server ends the stream.
    await peer.request(3, RO, req("Bidi"));
    await peer.data(3, RC, b("last"));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(3, DATA, 0, b("last"))));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(3, DATA, RC | NODATA)));
  });

  test("bidi: Data in → Data out (empty included); client half-close 0x05 → server ends with Data 0x05", async (t) => {
    const { peer } = await serve(t);
    await peer.request(1, RO, req("Bidi"));
    await peer.data(1, 0, b("x"));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(1, DATA, 0, b("x"))));
    await peer.data(1, 0, EMPTY);
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(1, DATA, 0)));
    await peer.data(1, RC | NODATA);
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(1, DATA, RC | NODATA)));
    await probe(peer, 3);
  });

  test("bidi error → a Response carrying the status", async (t) => {
    const { peer } = await serve(t, {
      async *bidi(requests: AsyncIterable<Uint8Array>) {
        for await (const r of requests) {
          yield r;
          throw new TtrpcError("aborted", 10);
        }
      },
    });
    await peer.request(1, RO, req("Bidi"));
    await peer.data(1, 0, b("x"));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(1, DATA, 0, b("x"))));
    assertStatus(await peer.next(), 1, 10, "aborted");
    await probe(peer, 3);
  });
});

describe("raw client → server: metadata and deadlines", { timeout: 20_000 }, () => {
  test("metadata arrives on unary and streaming calls; repeated keys keep their order", async (t) => {
    const seen: Record<string, [string[], string | undefined]> = {};
    const record = (name: string, ctx: HandlerContext) => {
      seen[name] = [ctx.metadata.getAll("k"), ctx.metadata.get("other")];
    };
    const { peer } = await serve(t, {
      unary(r: Uint8Array, ctx: HandlerContext) {
        record("unary", ctx);
        return r;
      },
      async *serverStream(_r: Uint8Array, ctx: HandlerContext) {
        record("server", ctx);
        yield* [];
      },
      async clientStream(_r: AsyncIterable<Uint8Array>, ctx: HandlerContext) {
        record("client", ctx);
        return EMPTY;
      },
      async *bidi(_r: AsyncIterable<Uint8Array>, ctx: HandlerContext) {
        record("bidi", ctx);
        yield* [];
      },
    });
    const metadata: [string, string][] = [
      ["k", "a"],
      ["other", "v"],
      ["k", "b"],
    ];
    await peer.request(1, 0, req("Unary", b("u"), { metadata }));
    await peer.request(3, RC, req("ServerStream", b("s"), { metadata }));
    await peer.request(5, RO, req("ClientStream", undefined, { metadata }));
    await peer.data(5, RC | NODATA);
    await peer.request(7, RO, req("Bidi", undefined, { metadata }));
    await peer.data(7, RC | NODATA);
    const ends = await peer.take(4);
    assert.deepEqual(ends.map((f) => f.streamId).sort(), [1, 3, 5, 7]);
    for (const name of ["unary", "server", "client", "bidi"]) {
      assert.deepEqual(seen[name], [["a", "b"], "v"], name);
    }
  });

  test("timeout_nano sets ctx.deadline and ctx.signal aborts with DEADLINE_EXCEEDED at that deadline", async (t) => {
    const reasons: Record<string, unknown> = {};
    const deadlines: Record<string, number | undefined> = {};
    const wait = async (name: string, ctx: HandlerContext) => {
      deadlines[name] = ctx.deadline;
      reasons[name] = await aborted(ctx.signal);
    };
    const { peer } = await serve(t, {
      async unary(r: Uint8Array, ctx: HandlerContext) {
        if (txt(r) === "probe") return r;
        await wait(`unary-${txt(r)}`, ctx);
        return b("late");
      },
      async *serverStream(_r: Uint8Array, ctx: HandlerContext) {
        await wait("server", ctx);
        yield* [];
      },
      async clientStream(_r: AsyncIterable<Uint8Array>, ctx: HandlerContext) {
        await wait("client", ctx);
        return b("late");
      },
    });
    const before = Date.now();
    await peer.request(1, 0, req("Unary", b("u"), { timeoutNano: 40_000_000 }));
    await peer.request(3, RC, req("ServerStream", b("s"), { timeoutNano: 40_000_000 }));
    await peer.request(5, RO, req("ClientStream", undefined, { timeoutNano: 40_000_000 }));
    // An already expired deadline: timeout_nano -1, a 10-byte varint.
    await peer.write(
      frame(
        7,
        REQUEST,
        0,
        Buffer.concat([
          pbRequest(req("Unary", b("expired"))),
          Buffer.from("20ffffffffffffffffff01", "hex"),
        ]),
      ),
    );
    const frames = await peer.take(4);
    for (const f of frames) assertStatus(f, f.streamId, S.DEADLINE_EXCEEDED);
    assert.deepEqual(frames.map((f) => f.streamId).sort(), [1, 3, 5, 7]);
    await until(t.signal, () => Object.keys(reasons).length === 4);
    assert.equal(codeOf(reasons["unary-expired"]), S.DEADLINE_EXCEEDED, "expired");
    assert.ok(
      (deadlines["unary-expired"] ?? Infinity) <= Date.now(),
      "an expired deadline is in the past",
    );
    for (const name of ["unary-u", "server", "client"]) {
      assert.equal(codeOf(reasons[name]), S.DEADLINE_EXCEEDED, name);
      const d = deadlines[name];
      assert.ok(
        d !== undefined && d >= before + 40,
        `${name} deadline ${d} (request sent at ${before})`,
      );
    }
    await probe(peer, 9); // one Response per call: the handlers' late results are not sent
  });

  test("no timeout_nano → no deadline", async (t) => {
    let seen: [number | undefined, number | undefined, boolean] | undefined;
    const { peer } = await serve(t, {
      unary(r: Uint8Array, ctx: HandlerContext) {
        seen = [ctx.deadline, ctx.timeoutMs(), ctx.signal.aborted];
        return r;
      },
    });
    await probe(peer, 1);
    assert.deepEqual(seen, [undefined, undefined, false]);
  });
});

describe("raw client → server: message size limit", { timeout: 30_000 }, () => {
  test("a Request over 4 MiB is answered RESOURCE_EXHAUSTED before its data is sent; then the connection works", async (t) => {
    const { peer } = await serve(t);
    await peer.write(header(MAX + 1, 1, REQUEST, 0));
    assertStatus(
      await peer.next(),
      1,
      S.RESOURCE_EXHAUSTED,
      "ttrpc: request of 4194305 bytes exceeds maxMessageBytes (4194304) of the server",
    );
    await peer.write(Buffer.alloc(MAX + 1, 0x0a));
    await probe(peer, 3);
  });

  test("a header announcing 4 GiB is answered at once and allocates nothing; other connections work", async (t) => {
    const { peer, path } = await serve(t);
    const before = process.memoryUsage().arrayBuffers;
    await peer.write(header(0xffffffff, 1, REQUEST, 0));
    assertStatus(await peer.next(), 1, S.RESOURCE_EXHAUSTED);
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 256 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
    assert.equal(peer.ended, false, "the connection is not dropped");
    const other = await rawClient(t, path);
    await probe(other, 1);
  });

  test("a Request of exactly 4 MiB is accepted", async (t) => {
    const { peer } = await serve(t, { unary: (r: Uint8Array) => b(`got ${r.length}`) });
    const body = pbRequest(req("Unary", Buffer.alloc(MAX - 26, 0x61)));
    assert.equal(body.length, MAX);
    await peer.write(frame(1, REQUEST, 0, body));
    assertOk(await peer.next(), 1, b(`got ${MAX - 26}`));
  });

  test("an oversize Data frame fails only its stream with RESOURCE_EXHAUSTED", async (t) => {
    let handlerError: unknown;
    const { peer } = await serve(t, {
      async clientStream(requests: AsyncIterable<Uint8Array>) {
        try {
          for await (const _ of requests);
        } catch (e) {
          handlerError = e;
        }
        return b("late");
      },
    });
    await peer.request(1, RO, req("ClientStream"));
    await peer.request(3, RO, req("Bidi"));
    await peer.data(1, 0, b("ok"));
    await peer.write(header(MAX + 1, 1, DATA, 0));
    assertStatus(await peer.next(), 1, S.RESOURCE_EXHAUSTED);
    await peer.write(Buffer.alloc(MAX + 1, 0x0a));
    await peer.data(3, 0, b("still"));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(3, DATA, 0, b("still"))));
    await probe(peer, 5);
    await until(t.signal, () => handlerError !== undefined);
    assert.equal(codeOf(handlerError), S.RESOURCE_EXHAUSTED);
  });

  test("an oversize response is answered RESOURCE_EXHAUSTED (not a dropped connection); exactly 4 MiB passes", async (t) => {
    const { peer } = await serve(t, {
      unary: (r: Uint8Array) => (/^\d+$/.test(txt(r)) ? Buffer.alloc(Number(txt(r)), 0x61) : r),
      async *serverStream(r: Uint8Array) {
        yield b("a");
        yield Buffer.alloc(Number(txt(r)), 0x62);
      },
    });
    await peer.request(1, 0, req("Unary", b(String(MAX))));
    assertStatus(await peer.next(), 1, S.RESOURCE_EXHAUSTED);
    await peer.request(3, 0, req("Unary", b(String(MAX - 5))));
    const f = await peer.next();
    assert.deepEqual([f.type, f.streamId, f.length], [RESPONSE, 3, MAX]);
    await peer.request(5, RC, req("ServerStream", b(String(MAX + 1))));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(5, DATA, 0, b("a"))));
    assertStatus(await peer.next(), 5, S.RESOURCE_EXHAUSTED);
    await peer.request(7, RC, req("ServerStream", b(String(MAX))));
    await peer.next();
    const d = await peer.next();
    assert.deepEqual([d.type, d.streamId, d.length], [DATA, 7, MAX]);
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(7, DATA, RC | NODATA)));
    await probe(peer, 9);
  });
});

describe("raw client → server: connection death and isolation", { timeout: 20_000 }, () => {
  test("a frame cut short by EOF aborts that connection's handlers; another connection is untouched", async (t) => {
    const startedA = deferred<AbortSignal>();
    const startedB = deferred();
    const gateB = deferred();
    const { peer, path, server } = await serve(t, {
      async unary(r: Uint8Array, ctx: HandlerContext) {
        if (txt(r) === "A") {
          startedA.resolve(ctx.signal);
          await aborted(ctx.signal);
          return b("never");
        }
        if (txt(r) === "B") {
          startedB.resolve();
          await gateB.promise;
        }
        return r;
      },
    });
    const other = await rawClient(t, path);
    await other.request(1, 0, req("Unary", b("B")));
    await startedB.promise;
    await peer.request(1, 0, req("Unary", b("A")));
    const signalA = await startedA.promise;
    await peer.write(header(20, 3, REQUEST, 0), b("12345"));
    peer.end();
    const reason = await aborted(signalA);
    assert.ok(reason instanceof TtrpcError, "aborted with a TtrpcError");
    await until(t.signal, () => server.connectionCount === 1);
    gateB.resolve();
    assertOk(await other.next(), 1, b("B"));
    await probe(other, 3);
  });

  test("protocol errors on one connection do not disturb a call on another", async (t) => {
    const startedB = deferred();
    const gateB = deferred();
    const { peer, path } = await serve(t, {
      async unary(r: Uint8Array) {
        if (txt(r) === "B") {
          startedB.resolve();
          await gateB.promise;
        }
        return r;
      },
    });
    const other = await rawClient(t, path);
    await other.request(1, 0, req("Unary", b("B")));
    await startedB.promise;
    await peer.request(2, 0, req("Unary", b("x")));
    await peer.write(frame(1, REQUEST, 0, Buffer.from("0a05", "hex")));
    await peer.write(frame(3, 0x7f, 0, b("junk")));
    await peer.data(9, 0, b("x"));
    await peer.write(header(MAX + 1, 3, REQUEST, 0));
    await peer.write(Buffer.alloc(MAX + 1));
    const errors = await peer.take(4);
    assert.deepEqual(
      errors.map((f) => [f.streamId, parseResponse(f.data).status?.code]),
      [
        [2, S.INVALID_ARGUMENT],
        [1, S.INVALID_ARGUMENT],
        [9, S.INVALID_ARGUMENT],
        [3, S.RESOURCE_EXHAUSTED],
      ],
    );
    gateB.resolve();
    assertOk(await other.next(), 1, b("B"));
    await probe(peer, 5);
    // The first connection dies; the second keeps working.
    peer.destroy();
    await peer.closed;
    await probe(other, 3);
  });
});

describe("raw client → server: back-pressure", { timeout: 20_000 }, () => {
  test("a client stream whose handler never reads does not block unary calls or other streams", async (t) => {
    const gate = deferred();
    t.after(() => gate.resolve());
    const { peer } = await serve(t, {
      async clientStream() {
        await gate.promise;
        return EMPTY;
      },
    });
    await peer.request(1, RO, req("ClientStream"));
    for (let i = 0; i < 500; i++) await peer.data(1, 0, b(`m${i}`));
    await probe(peer, 3);
    await peer.request(5, RO, req("Bidi"));
    await peer.data(5, 0, b("echo"));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(5, DATA, 0, b("echo"))));
  });

  test("a stream whose buffer stays full fails alone with RESOURCE_EXHAUSTED", async (t) => {
    const gate = deferred();
    t.after(() => gate.resolve());
    let signal: AbortSignal | undefined;
    const { peer } = await serve(
      t,
      {
        async clientStream(_r: AsyncIterable<Uint8Array>, ctx: HandlerContext) {
          signal = ctx.signal;
          await gate.promise;
          return EMPTY;
        },
      },
      { streamBufferSize: 4, streamBufferTimeoutMs: 10 },
    );
    await peer.request(1, RO, req("ClientStream"));
    for (let i = 0; i < 10; i++) await peer.data(1, 0, b(`m${i}`));
    assertStatus(await peer.next(), 1, S.RESOURCE_EXHAUSTED);
    assert.equal(signal?.aborted, true, "the handler's signal aborted");
    await probe(peer, 3);
  });

  test("server-stream writes honour drain: a client that does not read stops the handler", async (t) => {
    const COUNT = 16;
    let pulled = 0;
    const server = createServer();
    server.register(Wire, {
      async *serverStream() {
        for (let i = 0; i < COUNT; i++) {
          pulled++;
          yield Buffer.alloc(1 << 20, i);
        }
      },
    });
    const path = join(tmpDir(t), "s.sock");
    const net = createNetServer();
    let serverSocket: Socket | undefined;
    net.on("connection", (socket) => {
      serverSocket = socket;
      server.handleConnection(socket);
    });
    await new Promise<void>((resolve) => net.listen(path, resolve));
    t.after(async () => {
      await server.close();
      await new Promise((resolve) => net.close(resolve));
    });
    const peer = await rawClient(t, path);
    peer.socket.pause();
    await peer.request(1, RC, req("ServerStream", b("go")));
    await until(t.signal, () => serverSocket?.writableNeedDrain === true);
    await turns(50);
    assert.ok(pulled <= 2, `the handler was pulled ${pulled} times into a full socket`);
    peer.socket.resume();
    const frames = await peer.take(COUNT + 1);
    for (let i = 0; i < COUNT; i++) {
      const f = frames[i] as Frame;
      assert.deepEqual([f.type, f.streamId, f.length, f.data[0]], [DATA, 1, 1 << 20, i]);
    }
    assert.equal(hex(frameBytes(frames[COUNT] as Frame)), hex(frame(1, DATA, RC | NODATA)));
  });
});
