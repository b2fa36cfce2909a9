/**
 * Byte-level interop: for each call kind, the frames our client writes equal the frames the Go
 * ttrpc 1.2.4 client writes for the same call (stream ids and timeout values aside), and the
 * frames our server writes equal the frames the Go server writes. Captured by a recording proxy.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, createClient, createServer, type Server } from "ttrpc";
import {
  decodeRequest,
  type Frame,
  type FrameProxy,
  type NormalFrame,
  normalize,
  type ProxiedConnection,
  startProxy,
} from "./frames.js";
import {
  type GoServer,
  interopSuite,
  killAll,
  runGoClient,
  socketPath,
  startGoServer,
  tempDir,
} from "./peer.js";
import { Bench, Interop, implementations, Recorder, Streaming } from "./service.js";
import { Pushable } from "./util.js";

type Kind = "unary" | "unary_meta" | "server_stream" | "client_stream" | "bidi";
const KINDS: Kind[] = ["unary", "unary_meta", "server_stream", "client_stream", "bidi"];
/** Frames a client writes per kind: Request (+ one Data per message + the closing Data). */
const CLIENT_FRAMES: Record<Kind, number> = {
  unary: 1,
  unary_meta: 1,
  server_stream: 1,
  client_stream: 6,
  bidi: 5,
};

/** Our client makes the same call as `client --case <kind>` of the Go peer. */
async function ourCall(socket: string, kind: Kind): Promise<void> {
  const conn = await connect(socket);
  try {
    const streaming = createClient(Streaming, conn);
    switch (kind) {
      case "unary":
        assert.equal((await streaming.echo({ seq: 1, msg: "hello" })).seq, 2);
        break;
      case "unary_meta": {
        const options = { timeoutMs: 5000, metadata: { k: ["v1", "v2"] } };
        assert.equal((await streaming.echo({ seq: 1, msg: "hello" }, options)).seq, 2);
        break;
      }
      case "server_stream": {
        const parts: number[] = [];
        for await (const p of streaming.divideStream({ sum: 10, num: 4 })) parts.push(p.add);
        assert.deepEqual(parts, [2, 2, 2, 4]);
        break;
      }
      case "client_stream": {
        const sum = await streaming.sumStream([{ add: 1 }, { add: 2 }, { add: 3 }, { add: 0 }]);
        assert.deepEqual([sum.sum, sum.num], [6, 4]);
        break;
      }
      case "bidi": {
        const out = new Pushable<{ seq: number; msg: string }>();
        let i = 0;
        out.push({ seq: 0, msg: "m0" });
        for await (const reply of streaming.echoStream(out)) {
          assert.equal(reply.msg, `m${i}`);
          i += 1;
          if (i === 3) out.end();
          else out.push({ seq: i * 10, msg: `m${i}` });
        }
        assert.equal(i, 3);
        break;
      }
    }
  } finally {
    await conn.close();
  }
}

function describeFrames(frames: NormalFrame[]): string {
  return frames
    .map((f) => `stream#${f.stream} type=${f.type} flags=0x${f.flags.toString(16)} ${f.dataHex}`)
    .join("\n");
}

interopSuite("byte level: our frames equal Go ttrpc's", (bin) => {
  const dir = tempDir();
  let go: GoServer;
  let server: Server;
  const ourSocket = socketPath(dir, "ts");
  const proxies: FrameProxy[] = [];

  before(async () => {
    go = await startGoServer(bin, socketPath(dir, "go"));
    const impl = implementations(new Recorder());
    server = createServer();
    server.register(Streaming, impl.streaming);
    server.register(Interop, impl.interop);
    server.register(Bench, impl.bench);
    await server.listen(ourSocket);
  });
  after(async () => {
    for (const p of proxies) await p.close();
    await server?.close();
    await go?.stop();
    killAll();
  });

  /** Runs `call` through a fresh recording proxy to `upstream`; returns the one connection's frames. */
  async function capture(
    upstream: string,
    call: (socket: string) => Promise<unknown>,
  ): Promise<ProxiedConnection> {
    const proxy = await startProxy(socketPath(dir, "proxy"), upstream);
    proxies.push(proxy);
    await call(proxy.socket);
    const conn = proxy.connections[0];
    assert.ok(conn, "the call went through the proxy");
    assert.equal(proxy.connections.length, 1);
    await conn.closed;
    assert.equal(conn.fromClient.pending, 0);
    assert.equal(conn.fromServer.pending, 0);
    return conn;
  }

  test("our client also sends metadata and a timeout on streaming calls (the Go 1.2.4 client does not)", {
    timeout: 60_000,
  }, async () => {
    const options = { timeoutMs: 5000, metadata: { k: "v" } };
    const ours = await capture(go.socket, async (s) => {
      const conn = await connect(s);
      try {
        const streaming = createClient(Streaming, conn);
        for await (const _ of streaming.divideStream({ sum: 1, num: 1 }, options)) {
          // drain
        }
        await streaming.sumStream([{ add: 1 }], options);
      } finally {
        await conn.close();
      }
    });
    const requests = ours.fromClient.frames
      .filter((f) => f.type === 1)
      .map((f) => decodeRequest(f.data));
    assert.equal(requests.length, 2);
    for (const r of requests) {
      assert.ok(r.timeoutNano > 0n && r.timeoutNano <= 5_000_000_000n, `timeout ${r.timeoutNano}`);
      assert.deepEqual(r.metadata, [{ key: "k", value: "v" }]);
    }
  });

  for (const kind of KINDS) {
    test(`${kind}: our client writes the frames the Go client writes`, {
      timeout: 60_000,
    }, async () => {
      const goClient = await capture(go.socket, (s) => runGoClient(bin, s, kind));
      const ourClient = await capture(go.socket, (s) => ourCall(s, kind));
      const expected = normalize(goClient.fromClient.frames);
      const actual = normalize(ourClient.fromClient.frames);
      assert.equal(expected.length, CLIENT_FRAMES[kind]);
      if (kind === "unary_meta") {
        // The one field normalize() drops: both send a timeout no longer than the 5 s given.
        for (const frames of [goClient.fromClient.frames, ourClient.fromClient.frames]) {
          const request = decodeRequest((frames[0] as Frame).data);
          assert.ok(
            request.timeoutNano > 0n && request.timeoutNano <= 5_000_000_000n,
            `timeout ${request.timeoutNano}`,
          );
          assert.deepEqual(request.metadata, [
            { key: "k", value: "v1" },
            { key: "k", value: "v2" },
          ]);
        }
      }
      assert.equal(describeFrames(actual), describeFrames(expected));
      // Same exchange: the Go server answered both identically.
      assert.equal(
        describeFrames(normalize(ourClient.fromServer.frames)),
        describeFrames(normalize(goClient.fromServer.frames)),
      );
    });

    test(`${kind}: our server writes the frames the Go server writes`, {
      timeout: 60_000,
    }, async () => {
      const fromGo = await capture(go.socket, (s) => runGoClient(bin, s, kind));
      const fromUs = await capture(ourSocket, (s) => runGoClient(bin, s, kind));
      assert.equal(
        describeFrames(normalize(fromUs.fromClient.frames)),
        describeFrames(normalize(fromGo.fromClient.frames)),
      );
      assert.equal(
        describeFrames(normalize(fromUs.fromServer.frames)),
        describeFrames(normalize(fromGo.fromServer.frames)),
      );
    });
  }
});
