/**
 * Our client (`connect` + `createClient`) against a raw unix-socket server that records every
 * frame the client writes and answers with hand-built frames.
 */
import assert from "node:assert/strict";
import { createConnection } from "node:net";
import { describe, type TestContext, test } from "node:test";
import {
  type Connection,
  type ConnectOptions,
  connect,
  createClient,
  Metadata,
  TtrpcError,
} from "../../src/index.js";
import {
  b,
  codeOf,
  collect,
  DATA,
  EMPTY,
  frame,
  frameBytes,
  header,
  hex,
  lenField,
  MAX,
  NODATA,
  Pushable,
  parseRequest,
  type RawPeer,
  RawServer,
  RC,
  REQUEST,
  RESPONSE,
  RO,
  S,
  SERVICE,
  settle,
  show,
  turns,
  txt,
  until,
  Wire,
} from "./helpers.js";

type WireClient = ReturnType<typeof createClient<typeof Wire>>;

async function setup(t: TestContext, options?: ConnectOptions) {
  const raw = await RawServer.start(t);
  const conn = await connect(raw.path, options);
  t.after(() => conn.close());
  const peer = await raw.accept();
  return { raw, conn, peer, client: createClient(Wire, conn) };
}

/** A second connection to the same raw server. */
async function another(t: TestContext, raw: RawServer) {
  const conn = await connect(raw.path);
  t.after(() => conn.close());
  const peer = await raw.accept();
  return { conn, peer, client: createClient(Wire, conn) };
}

/**
 * Makes a unary call and checks that the very next frame the raw server receives is its Request:
 * anything the client wrote before it (a stray Data, a half-close on a dropped stream) fails.
 */
async function probe(client: WireClient, peer: RawPeer, label = "probe"): Promise<void> {
  const p = client.unary(b(label));
  const f = await peer.next();
  assert.equal(f.type, REQUEST, `expected the probe's Request, got ${show(f)}`);
  assert.equal(txt(parseRequest(f.data).payload ?? EMPTY), label);
  await peer.respond(f.streamId, { payload: b(`${label}-ok`) });
  assert.equal(txt(await p), `${label}-ok`);
}

function openStream(it: AsyncIterable<Uint8Array>): AsyncIterator<Uint8Array> {
  return it[Symbol.asyncIterator]();
}

describe("client → raw server: framing and call kinds", { timeout: 20_000 }, () => {
  test("Request: 10-byte big-endian header, type 1, fully-qualified service and proto method name", async (t) => {
    const { peer, client } = await setup(t);
    const p = client.unary(b("hello"));
    const f = await peer.next();
    assert.equal(f.type, REQUEST);
    assert.equal(f.flags, 0, "unary Request has flags 0");
    assert.equal(f.streamId, 1);
    assert.equal(peer.bytes, 10 + f.length, "the header's length is exactly the data that follows");
    const r = parseRequest(f.data);
    assert.equal(r.service, SERVICE);
    assert.equal(r.method, "Unary", "the proto name, not the local name 'unary'");
    assert.equal(txt(r.payload ?? EMPTY), "hello");
    assert.deepEqual(r.order, [1, 2, 3], "fields in number order, zero values left out");
    await peer.respond(1, { payload: b("world") });
    assert.equal(txt(await p), "world");
  });

  test("stream ids: odd, start at 1, +2, strictly increasing on the wire across all call kinds", async (t) => {
    const { peer, client } = await setup(t);
    const N = 48;
    const pending: Promise<unknown>[] = [];
    // Calls start from many async contexts, interleaved between microtasks.
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        for (let k = 0; k < (i * 7) % 5; k++) await Promise.resolve();
        switch (i % 4) {
          case 0:
            pending.push(settle(client.unary(b(`u${i}`))));
            break;
          case 1:
            pending.push(settle(openStream(client.serverStream(b(`s${i}`))).next()));
            break;
          case 2:
            pending.push(settle(client.clientStream(new Pushable<Uint8Array>())));
            break;
          default:
            pending.push(settle(openStream(client.bidi(new Pushable<Uint8Array>())).next()));
        }
      }),
    );
    const frames = await peer.take(N);
    assert.deepEqual(
      frames.map((f) => f.type),
      Array(N).fill(REQUEST),
    );
    assert.deepEqual(
      frames.map((f) => f.streamId),
      Array.from({ length: N }, (_, i) => 2 * i + 1),
    );
    // The sequence continues after the first wave, and responses are matched by id.
    const later = [client.unary(b("x")), client.unary(b("y"))];
    const [fx, fy] = await peer.take(2);
    assert.deepEqual([fx?.streamId, fy?.streamId], [2 * N + 1, 2 * N + 3]);
    await peer.respond(2 * N + 3, { payload: b("for-y") });
    await peer.respond(2 * N + 1, { payload: b("for-x") });
    assert.deepEqual((await Promise.all(later)).map(txt), ["for-x", "for-y"]);
  });

  test("unary success: no status (Go), empty status and explicit code 0 (Rust) all mean OK", async (t) => {
    const { peer, client } = await setup(t);
    const calls = [0, 1, 2, 3].map((i) => client.unary(b(`c${i}`)));
    const frames = await peer.take(4);
    for (const f of frames) assert.equal(f.flags, 0);
    const [f0, f1, f2, f3] = frames.map((f) => f.streamId) as [number, number, number, number];
    // Go: no status field at all.
    await peer.write(frame(f0, RESPONSE, 0, lenField(2, b("go"))));
    // Status present but empty (code 0 left out).
    await peer.write(
      frame(f1, RESPONSE, 0, Buffer.concat([lenField(1, EMPTY), lenField(2, b("empty"))])),
    );
    // Rust: status with an explicit code 0 and message "".
    await peer.write(
      frame(
        f2,
        RESPONSE,
        0,
        Buffer.concat([lenField(1, Buffer.from([0x08, 0x00])), lenField(2, b("rust"))]),
      ),
    );
    // Go's OK with an empty message: a 10-byte frame with no data.
    await peer.write(frame(f3, RESPONSE, 0));
    const results = await Promise.all(calls);
    assert.deepEqual(results.map(txt), ["go", "empty", "rust", ""]);
    assert.equal(peer.frames.length, 4, "one Request per call, nothing else");
  });

  test("unary error: the status code, message and details reach the caller", async (t) => {
    const { peer, client } = await setup(t);
    const p = settle(client.unary(b("x")));
    const f = await peer.next();
    await peer.respond(f.streamId, {
      status: {
        code: S.NOT_FOUND,
        message: "nope",
        details: [{ typeUrl: "type.googleapis.com/test.Detail", value: Buffer.from([1, 2, 3]) }],
      },
    });
    const r = await p;
    assert.equal(r.ok, false);
    const e = (r as { error: unknown }).error;
    assert.ok(e instanceof TtrpcError);
    assert.equal(e.code, S.NOT_FOUND);
    assert.equal(e.rawMessage, "nope");
    assert.equal(e.details.length, 1);
    assert.equal(e.details[0]?.typeUrl, "type.googleapis.com/test.Detail");
    assert.equal(hex(e.details[0]?.value ?? EMPTY), "010203");
  });

  test("server-streaming: Request flag remote-closed; zero-length Data is an empty message; Data 0x05 ends", async (t) => {
    const { peer, client } = await setup(t);
    const got = collect(client.serverStream(b("req")));
    const f = await peer.next();
    assert.equal(f.type, REQUEST);
    assert.equal(f.flags, RC, "server-streaming opens with exactly remote-closed");
    const r = parseRequest(f.data);
    assert.equal(r.method, "ServerStream");
    assert.equal(txt(r.payload ?? EMPTY), "req");
    await peer.data(f.streamId, 0, b("a"));
    await peer.data(f.streamId, 0, EMPTY);
    await peer.data(f.streamId, 0, b("c"));
    await peer.data(f.streamId, RC | NODATA);
    const res = await got;
    assert.equal(res.error, undefined);
    assert.deepEqual(res.items.map(txt), ["a", "", "c"]);
    await probe(client, peer); // the client sent nothing on the finished stream
  });

  test("server-streaming with an empty request (google.protobuf.Empty) still opens the stream", async (t) => {
    const { peer, client } = await setup(t);
    const got = collect(client.serverStream(EMPTY));
    const f = await peer.next();
    assert.equal(f.type, REQUEST);
    assert.equal(f.flags, RC);
    assert.equal((parseRequest(f.data).payload ?? EMPTY).length, 0);
    await peer.data(f.streamId, RC | NODATA);
    assert.deepEqual(await got, { items: [], error: undefined });
  });

  test("server-streaming error: messages, then a Response carrying the status", async (t) => {
    const { peer, client } = await setup(t);
    const got = collect(client.serverStream(b("req")));
    const f = await peer.next();
    await peer.data(f.streamId, 0, b("a"));
    await peer.respond(f.streamId, { status: { code: 9, message: "failed precondition" } });
    const res = await got;
    assert.deepEqual(res.items.map(txt), ["a"]);
    assert.equal(codeOf(res.error), 9);
    assert.equal((res.error as TtrpcError).rawMessage, "failed precondition");
  });

  test("server-streaming: Data[remote-closed] with a payload is a last message; an OK Response also ends", async (t) => {
    const { peer, client } = await setup(t);
    const got1 = collect(client.serverStream(b("one")));
    const f1 = await peer.next();
    await peer.data(f1.streamId, 0, b("a"));
    await peer.data(f1.streamId, RC, b("z"));
    assert.deepEqual((await got1).items.map(txt), ["a", "z"]);
    const got2 = collect(client.serverStream(b("two")));
    const f2 = await peer.next();
    await peer.data(f2.streamId, 0, b("a"));
    await peer.respond(f2.streamId, {});
    assert.deepEqual(await got2.then((r) => [r.items.map(txt), r.error]), [["a"], undefined]);
  });

  test("client-streaming: Request remote-open with an empty payload, Data 0x00 per message, half-close Data 0x05", async (t) => {
    const { peer, client } = await setup(t);
    const input = new Pushable<Uint8Array>();
    const result = client.clientStream(input);
    const open = await peer.next();
    assert.equal(open.type, REQUEST);
    assert.equal(open.flags & RO, RO, "remote-open");
    assert.equal(open.flags & RC, 0, "not remote-closed");
    const r = parseRequest(open.data);
    assert.equal(r.method, "ClientStream");
    assert.equal((r.payload ?? EMPTY).length, 0, "no request message in the Request");
    const id = open.streamId;
    input.push(b("a"));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(id, DATA, 0, b("a"))));
    input.push(EMPTY);
    assert.equal(
      hex(frameBytes(await peer.next())),
      hex(frame(id, DATA, 0)),
      "an empty message is a zero-length Data without no-data",
    );
    input.push(b("c"));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(id, DATA, 0, b("c"))));
    input.end();
    const close = await peer.next();
    assert.equal(
      hex(frameBytes(close)),
      hex(frame(id, DATA, RC | NODATA)),
      "half-close = Data 0x05, length 0",
    );
    await peer.respond(id, { payload: b("sum") });
    assert.equal(txt(await result), "sum");
    await probe(client, peer);
  });

  test("bidi: Request remote-open; Data both ways; client half-close 0x05; server end 0x05", async (t) => {
    const { peer, client } = await setup(t);
    const input = new Pushable<Uint8Array>();
    const it = openStream(client.bidi(input));
    const first = it.next();
    const open = await peer.next();
    assert.equal(open.flags & (RO | RC), RO);
    assert.equal(parseRequest(open.data).method, "Bidi");
    const id = open.streamId;
    input.push(b("ping"));
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(id, DATA, 0, b("ping"))));
    await peer.data(id, 0, b("pong"));
    assert.equal(txt((await first).value as Uint8Array), "pong");
    await peer.data(id, 0, EMPTY);
    assert.equal(txt((await it.next()).value as Uint8Array), "");
    input.end();
    assert.equal(hex(frameBytes(await peer.next())), hex(frame(id, DATA, RC | NODATA)));
    await peer.data(id, RC | NODATA);
    assert.equal((await it.next()).done, true);
    await probe(client, peer);
  });
});

describe("client → raw server: metadata, timeouts, cancellation", { timeout: 20_000 }, () => {
  test("metadata travels on unary and all streaming calls; keys lower-case; one KeyValue per value", async (t) => {
    const { peer, client } = await setup(t);
    const md = { "X-Trace": ["a", "b"], Single: "v" };
    const pending = [
      settle(client.unary(b("u"), { metadata: md })),
      settle(openStream(client.serverStream(b("s"), { metadata: md })).next()),
      settle(client.clientStream(new Pushable<Uint8Array>(), { metadata: md })),
      settle(
        openStream(client.bidi(new Pushable<Uint8Array>(), { metadata: new Metadata(md) })).next(),
      ),
    ];
    const frames = await peer.take(4);
    for (const f of frames) {
      const kv = parseRequest(f.data).metadata;
      assert.equal(kv.length, 3, `${show(f)}: one KeyValue per value`);
      const grouped: Record<string, string[]> = {};
      for (const [k, v] of kv) grouped[k] = [...(grouped[k] ?? []), v];
      assert.deepEqual(grouped, { "x-trace": ["a", "b"], single: ["v"] }, show(f));
    }
    void pending;
  });

  test("timeoutMs is sent as a relative timeout_nano on unary and streaming calls", async (t) => {
    const { peer, client } = await setup(t);
    const opts = { timeoutMs: 60_000 };
    const pending = [
      settle(client.unary(b("u"), opts)),
      settle(openStream(client.serverStream(b("s"), opts)).next()),
      settle(client.clientStream(new Pushable<Uint8Array>(), opts)),
      settle(openStream(client.bidi(new Pushable<Uint8Array>(), opts)).next()),
      settle(client.unary(b("none"))),
    ];
    const frames = await peer.take(5);
    for (const f of frames.slice(0, 4)) {
      const ns = parseRequest(f.data).timeoutNano;
      assert.ok(ns > 30_000_000_000n && ns <= 60_000_000_000n, `${show(f)}: timeout_nano ${ns}`);
    }
    const last = parseRequest((frames[4] as { data: Buffer }).data);
    assert.equal(last.order.includes(4), false, "no timeout: field 4 absent");
    void pending;
  });

  test("a timeout fails the call locally with DEADLINE_EXCEEDED; late frames are dropped; nothing more is sent", async (t) => {
    const { peer, client } = await setup(t);
    // Unary.
    const u = settle(client.unary(b("slow"), { timeoutMs: 20 }));
    const fu = await peer.next();
    const ru = await u;
    assert.equal(codeOf(!ru.ok && ru.error), S.DEADLINE_EXCEEDED);
    await peer.respond(fu.streamId, { payload: b("late") }); // dropped
    // Server-streaming.
    const s = collect(client.serverStream(b("slow"), { timeoutMs: 20 }));
    const fs = await peer.next();
    assert.equal(codeOf((await s).error), S.DEADLINE_EXCEEDED);
    await peer.data(fs.streamId, 0, b("late"));
    // Bidi: after the deadline the request stream is not pumped onto the wire.
    const input = new Pushable<Uint8Array>();
    const bi = collect(client.bidi(input, { timeoutMs: 30 }));
    const fb = await peer.next();
    input.push(b("before"));
    const db = await peer.next();
    assert.deepEqual(
      [db.type, db.streamId, db.flags, txt(db.data)],
      [DATA, fb.streamId, 0, "before"],
    );
    assert.equal(codeOf((await bi).error), S.DEADLINE_EXCEEDED);
    input.push(b("after"));
    input.end();
    await input.returned.promise;
    await probe(client, peer);
  });

  test("cancellation is local: CANCELLED, the stream is dropped, no frame follows on it", async (t) => {
    const { peer, client, conn } = await setup(t);
    // Unary.
    const ac = new AbortController();
    const u = settle(client.unary(b("x"), { signal: ac.signal }));
    const fu = await peer.next();
    ac.abort();
    const ru = await u;
    assert.equal(codeOf(!ru.ok && ru.error), S.CANCELLED);
    await peer.respond(fu.streamId, { payload: b("late") });
    // Already aborted: nothing is written at all.
    const pre = await settle(client.unary(b("never"), { signal: AbortSignal.abort() }));
    assert.equal(codeOf(!pre.ok && pre.error), S.CANCELLED);
    await probe(client, peer, "probe1");
    // Bidi cancelled mid-stream: no more Data, no half-close.
    const ac2 = new AbortController();
    const input = new Pushable<Uint8Array>();
    const bi = collect(client.bidi(input, { signal: ac2.signal }));
    const fb = await peer.next();
    input.push(b("a"));
    const d = await peer.next();
    assert.deepEqual([d.type, d.streamId, txt(d.data)], [DATA, fb.streamId, "a"]);
    ac2.abort();
    assert.equal(codeOf((await bi).error), S.CANCELLED);
    input.push(b("b"));
    input.end();
    await input.returned.promise;
    await peer.data(fb.streamId, 0, b("late")); // dropped
    await probe(client, peer, "probe2");
    // Client-streaming cancelled mid-stream.
    const ac3 = new AbortController();
    const input3 = new Pushable<Uint8Array>();
    const cs = settle(client.clientStream(input3, { signal: ac3.signal }));
    await peer.next();
    ac3.abort();
    const rc = await cs;
    assert.equal(codeOf(!rc.ok && rc.error), S.CANCELLED);
    input3.push(b("z"));
    input3.end();
    await input3.returned.promise;
    await probe(client, peer, "probe3");
    // A consumer that stops reading a server stream drops it; its later frames are ignored.
    const stream = client.serverStream(b("s"));
    const fs = (async () => {
      for await (const m of stream) {
        assert.equal(txt(m), "first");
        break;
      }
    })();
    const f = await peer.next();
    await peer.data(f.streamId, 0, b("first"));
    await fs;
    await peer.data(f.streamId, 0, b("second"));
    await peer.data(f.streamId, RC | NODATA);
    await probe(client, peer, "probe4");
    assert.equal(conn.activeStreams, 0);
  });

  test("after the server's final Response on a client stream, the client sends nothing more on it", async (t) => {
    const { peer, client } = await setup(t);
    // Error Response while the client still has messages to send.
    const input = new Pushable<Uint8Array>();
    const r1 = settle(client.clientStream(input));
    const open = await peer.next();
    input.push(b("a"));
    await peer.next();
    await peer.respond(open.streamId, { status: { code: 9, message: "stop" } });
    const res1 = await r1;
    assert.equal(codeOf(!res1.ok && res1.error), 9);
    input.push(b("b"));
    input.end();
    await input.returned.promise;
    await probe(client, peer, "probe1");
    // An early OK Response: the call resolves and the rest of the input stays unsent.
    const input2 = new Pushable<Uint8Array>();
    const r2 = client.clientStream(input2);
    const open2 = await peer.next();
    await peer.respond(open2.streamId, { payload: b("early") });
    assert.equal(txt(await r2), "early");
    input2.push(b("x"));
    input2.end();
    await input2.returned.promise;
    await probe(client, peer, "probe2");
  });

  test("frames for unknown stream ids are dropped by the client", async (t) => {
    const { peer, client, conn } = await setup(t);
    const p = client.unary(b("x"));
    const s = collect(client.serverStream(b("s")));
    const [f, fs] = await peer.take(2);
    assert.ok(f && fs);
    await peer.write(
      frame(99, RESPONSE, 0, lenField(2, b("wrong"))),
      frame(101, DATA, 0, b("junk")),
      frame(99, 0x7f, 0xff),
    );
    await peer.data(fs.streamId, 0, b("m"));
    await peer.data(fs.streamId, RC | NODATA);
    await peer.respond(f.streamId, { payload: b("right") });
    assert.equal(txt(await p), "right");
    assert.deepEqual(await s.then((r) => [r.items.map(txt), r.error]), [["m"], undefined]);
    assert.equal(conn.isClosed, false);
    await probe(client, peer);
  });

  test("a frame of unknown type (0x7f) for a pending call fails that call with a protocol error (Go's client does too)", async (t) => {
    const { peer, client, conn } = await setup(t);
    const p = settle(client.unary(b("x")));
    const s = collect(client.serverStream(b("s")));
    const [f, fs] = await peer.take(2);
    assert.ok(f && fs);
    await peer.write(frame(f.streamId, 0x7f, 0, b("junk")));
    await peer.write(frame(fs.streamId, 0x7f, RC | NODATA, b("junk")));
    const r = await p;
    assert.equal(codeOf(!r.ok && r.error), S.INTERNAL);
    assert.match(
      String(!r.ok && (r.error as Error).message),
      /protocol error: unknown frame type 127/,
    );
    assert.equal(codeOf((await s).error), S.INTERNAL);
    assert.equal(conn.isClosed, false, "only the calls fail, not the connection");
    await probe(client, peer);
  });
});

describe("client → raw server: message size limit", { timeout: 30_000 }, () => {
  // Request data for Unary = service field (2+12) + method field (2+5) + payload field (1+4+n).
  const EXACT = MAX - 26;

  test("sender: an oversize request fails with RESOURCE_EXHAUSTED before a byte is written; exactly 4 MiB passes", async (t) => {
    const { peer, client } = await setup(t);
    const over = await settle(client.unary(Buffer.alloc(EXACT + 1, 0x61)));
    assert.equal(codeOf(!over.ok && over.error), S.RESOURCE_EXHAUSTED);
    const exact = client.unary(Buffer.alloc(EXACT, 0x62));
    const f = await peer.next();
    assert.equal(f.length, MAX);
    assert.equal(peer.bytes, 10 + MAX, "the rejected request wrote nothing");
    await peer.respond(f.streamId, { payload: b("ok") });
    assert.equal(txt(await exact), "ok");
    // Streaming: an oversize message fails the call; nothing more goes out on its stream.
    const input = new Pushable<Uint8Array>();
    const cs = settle(client.clientStream(input));
    const open = await peer.next();
    input.push(Buffer.alloc(MAX, 0x63));
    const d = await peer.next();
    assert.deepEqual(
      [d.type, d.streamId, d.length],
      [DATA, open.streamId, MAX],
      "exactly 4 MiB passes",
    );
    input.push(Buffer.alloc(MAX + 1, 0x64), b("after"));
    input.end();
    const r = await cs;
    assert.equal(codeOf(!r.ok && r.error), S.RESOURCE_EXHAUSTED);
    await probe(client, peer);
  });

  test("receiver: a frame over 4 MiB fails only its call, before its data arrives; the connection keeps working", async (t) => {
    const { peer, client, conn } = await setup(t);
    const a = settle(client.unary(b("a")));
    const c = client.unary(b("c"));
    const [fa, fc] = await peer.take(2);
    assert.ok(fa && fc);
    await peer.write(header(MAX + 1, fa.streamId, RESPONSE, 0));
    const ra = await a; // settles although the announced bytes were never sent
    assert.equal(codeOf(!ra.ok && ra.error), S.RESOURCE_EXHAUSTED);
    await peer.write(Buffer.alloc(MAX + 1, 0x7a));
    await peer.respond(fc.streamId, { payload: b("c-ok") });
    assert.equal(txt(await c), "c-ok");
    // An oversize Data frame on a server stream fails that stream only.
    const s = collect(client.serverStream(b("s")));
    const fs = await peer.next();
    await peer.write(header(MAX + 1, fs.streamId, DATA, 0));
    assert.equal(codeOf((await s).error), S.RESOURCE_EXHAUSTED);
    await peer.write(Buffer.alloc(MAX + 1, 0x7a));
    assert.equal(conn.isClosed, false);
    await probe(client, peer);
  });

  test("receiver: a header announcing 4 GiB fails the call at once and allocates nothing", async (t) => {
    const { raw, peer, client } = await setup(t);
    const a = settle(client.unary(b("a")));
    const fa = await peer.next();
    const before = process.memoryUsage().arrayBuffers;
    await peer.write(header(0xffffffff, fa.streamId, RESPONSE, 0));
    const ra = await a;
    assert.equal(codeOf(!ra.ok && ra.error), S.RESOURCE_EXHAUSTED);
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 256 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
    // Other connections are untouched.
    const other = await another(t, raw);
    await probe(other.client, other.peer);
  });
});

describe("client → raw server: connection death", { timeout: 20_000 }, () => {
  async function pendingEverything(client: WireClient, peer: RawPeer) {
    const calls = {
      unary: settle(client.unary(b("u"))),
      server: collect(client.serverStream(b("s"))),
      client: settle(client.clientStream(new Pushable<Uint8Array>())),
      bidi: collect(client.bidi(new Pushable<Uint8Array>())),
    };
    const frames = await peer.take(4);
    return { calls, frames };
  }

  async function expectAllUnavailable(
    calls: Awaited<ReturnType<typeof pendingEverything>>["calls"],
    conn: Connection,
    client: WireClient,
  ) {
    const u = await calls.unary;
    assert.equal(codeOf(!u.ok && u.error), S.UNAVAILABLE, "unary");
    assert.equal(codeOf((await calls.server).error), S.UNAVAILABLE, "server-streaming");
    const c = await calls.client;
    assert.equal(codeOf(!c.ok && c.error), S.UNAVAILABLE, "client-streaming");
    assert.equal(codeOf((await calls.bidi).error), S.UNAVAILABLE, "bidi");
    const reason = await conn.closed;
    assert.equal(codeOf(reason), S.UNAVAILABLE, "conn.closed reports why");
    // Later calls reject immediately.
    const later = await settle(client.unary(b("later")));
    assert.equal(codeOf(!later.ok && later.error), S.UNAVAILABLE);
    assert.equal(codeOf((await collect(client.serverStream(b("later")))).error), S.UNAVAILABLE);
    const laterCs = await settle(client.clientStream([b("x")]));
    assert.equal(codeOf(!laterCs.ok && laterCs.error), S.UNAVAILABLE);
  }

  test("EOF rejects every pending call and stream with UNAVAILABLE; another connection is untouched", async (t) => {
    const { raw, peer, client, conn } = await setup(t);
    const other = await another(t, raw);
    const otherCall = other.client.unary(b("other"));
    const otherFrame = await other.peer.next();
    const { calls, frames } = await pendingEverything(client, peer);
    await peer.data((frames[1] as { streamId: number }).streamId, 0, b("m1"));
    peer.end();
    await expectAllUnavailable(calls, conn, client);
    await other.peer.respond(otherFrame.streamId, { payload: b("fine") });
    assert.equal(txt(await otherCall), "fine");
    await probe(other.client, other.peer);
  });

  test("a reset connection (ECONNRESET) rejects every pending call with UNAVAILABLE", async (t) => {
    const raw = await RawServer.start(t);
    const socket = createConnection(raw.path);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const conn = await connect(socket);
    t.after(() => conn.close());
    const peer = await raw.accept();
    const client = createClient(Wire, conn);
    const { calls } = await pendingEverything(client, peer);
    // A unix socket closed with unread data in its receive queue resets its peer (ECONNRESET):
    // the raw peer stops reading, Node fills its own buffer, the rest stays in the kernel.
    peer.socket.pause();
    const unread = settle(client.unary(Buffer.alloc(1 << 20)));
    await until(t.signal, () => peer.socket.readableLength > 0);
    peer.destroy();
    await expectAllUnavailable(calls, conn, client);
    const u = await unread;
    assert.equal(codeOf(!u.ok && u.error), S.UNAVAILABLE);
    const reason = await conn.closed;
    const cause = (reason as { cause?: { code?: string } } | undefined)?.cause;
    assert.ok(
      cause?.code === "ECONNRESET" || cause?.code === "EPIPE",
      `the peer really reset the connection (${cause?.code})`,
    );
  });

  test("a frame cut short by EOF rejects every pending call with UNAVAILABLE", async (t) => {
    const { peer, client, conn } = await setup(t);
    const { calls, frames } = await pendingEverything(client, peer);
    await peer.write(
      header(20, (frames[0] as { streamId: number }).streamId, RESPONSE, 0),
      b("12345"),
    );
    peer.end();
    await expectAllUnavailable(calls, conn, client);
  });
});

describe("client → raw server: back-pressure", { timeout: 20_000 }, () => {
  test("an unread stream never blocks other streams or unary calls on the connection", async (t) => {
    const { peer, client } = await setup(t);
    const unread = openStream(client.serverStream(b("unread")));
    const fUnread = await peer.next();
    for (let i = 0; i < 300; i++) await peer.data(fUnread.streamId, 0, b(`m${i}`));
    const other = collect(client.serverStream(b("other")));
    const u = client.unary(b("u"));
    const [fo, fu] = await peer.take(2);
    assert.ok(fo && fu);
    for (let i = 0; i < 10; i++) await peer.data(fo.streamId, 0, b(`o${i}`));
    await peer.data(fo.streamId, RC | NODATA);
    await peer.respond(fu.streamId, { payload: b("u-ok") });
    assert.equal(txt(await u), "u-ok");
    const o = await other;
    assert.equal(o.error, undefined);
    assert.equal(o.items.length, 10);
    // The unread stream either still holds its messages in order or failed alone (buffer full).
    const first = await settle(unread.next());
    if (first.ok) assert.equal(txt(first.value.value as Uint8Array), "m0");
    else assert.equal(codeOf(first.error), S.RESOURCE_EXHAUSTED);
    await unread.return?.();
  });

  test("a stream whose buffer stays full fails alone with RESOURCE_EXHAUSTED", async (t) => {
    const { peer, client, conn } = await setup(t, {
      streamBufferSize: 4,
      streamBufferTimeoutMs: 10,
    });
    const unread = openStream(client.serverStream(b("unread")));
    const f = await peer.next();
    for (let i = 0; i < 10; i++) await peer.data(f.streamId, 0, b(`m${i}`));
    await until(t.signal, () => conn.activeStreams === 0);
    const r = await settle(unread.next());
    assert.equal(codeOf(!r.ok && r.error), S.RESOURCE_EXHAUSTED);
    await peer.data(f.streamId, 0, b("late")); // dropped
    await probe(client, peer);
  });

  test("client-stream writes honour drain: a peer that does not read stops the pump", async (t) => {
    const raw = await RawServer.start(t);
    const socket = createConnection(raw.path);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const conn = await connect(socket);
    t.after(() => conn.close());
    const peer = await raw.accept();
    peer.socket.pause();
    const client = createClient(Wire, conn);
    const COUNT = 16;
    let pulled = 0;
    async function* messages() {
      for (let i = 0; i < COUNT; i++) {
        pulled++;
        yield Buffer.alloc(1 << 20, i);
      }
    }
    const result = client.clientStream(messages());
    await until(t.signal, () => socket.writableNeedDrain);
    await turns(50);
    assert.ok(pulled <= 2, `the pump pulled ${pulled} messages into a full socket`);
    peer.socket.resume();
    const open = await peer.next();
    const data = await peer.take(COUNT + 1);
    for (let i = 0; i < COUNT; i++) {
      const d = data[i] as { length: number; data: Buffer; streamId: number };
      assert.equal(d.streamId, open.streamId);
      assert.equal(d.length, 1 << 20);
      assert.equal(d.data[0], i);
    }
    assert.equal(
      hex(frameBytes(data[COUNT] as never)),
      hex(frame(open.streamId, DATA, RC | NODATA)),
    );
    await peer.respond(open.streamId, { payload: b("done") });
    assert.equal(txt(await result), "done");
  });
});
