// Our engine (src/), twice:
//   ttrpc-es    — the protobuf-es GenService `Bench` from test/interop/gen/bench_pb.ts
//   ttrpc-plain — a plain defineService with the hand-written codec that floor-pb uses
import { connect, createClient, createServer, defineService } from "ttrpc";
import type { BenchClient } from "../lib/driver.js";
import {
  decodeBenchMessage,
  decodeStreamRequest,
  encodeStreamRequest,
  varintSize,
  writeBenchMessagePrefix,
} from "../lib/wire.js";

export type TtrpcMode = "es" | "plain";

interface Msg {
  payload: Uint8Array;
}
interface StreamReq {
  count: number;
  size: number;
}

// The message goes out as two chunks, its 2–5 byte prefix and the payload it already holds, as
// the codec seam allows: the engine copies small messages into the frame once and writes large
// payloads without copying them (what floor-pb does by hand).
const EMPTY_MESSAGE = new Uint8Array(0);
const msgCodec = {
  encode: (m: Msg): Uint8Array | Uint8Array[] => {
    const n = m.payload.length;
    if (n === 0) return EMPTY_MESSAGE;
    const prefix = Buffer.allocUnsafe(1 + varintSize(n));
    writeBenchMessagePrefix(prefix, 0, n);
    return [prefix, m.payload];
  },
  decode: (b: Uint8Array): Msg => ({ payload: decodeBenchMessage(b) }),
};
const reqCodec = {
  encode: (r: StreamReq): Uint8Array => encodeStreamRequest(r.count, r.size),
  decode: (b: Uint8Array): StreamReq => decodeStreamRequest(b),
};

export const PlainBench = defineService({
  typeName: "ttrpc.bench.v1.Bench",
  methods: {
    unary: { name: "Unary", kind: "unary", input: msgCodec, output: msgCodec },
    serverStream: {
      name: "ServerStream",
      kind: "server_streaming",
      input: reqCodec,
      output: msgCodec,
    },
    clientStream: {
      name: "ClientStream",
      kind: "client_streaming",
      input: msgCodec,
      output: msgCodec,
    },
    bidi: { name: "Bidi", kind: "bidi_streaming", input: msgCodec, output: msgCodec },
  },
});

/** The service definition for a mode (the GenService is loaded only for "es"). */
async function serviceFor(mode: TtrpcMode): Promise<typeof PlainBench> {
  if (mode === "plain") return PlainBench;
  const { Bench } = await import("../../test/interop/gen/bench_pb.js");
  // Both definitions have the same method names and message shapes ({payload}, {count,size});
  // the bench code is written once against the plain one's types.
  return Bench as unknown as typeof PlainBench;
}

export async function startTtrpcServer(mode: TtrpcMode, socket: string): Promise<void> {
  const service = await serviceFor(mode);
  const payloads = new Map<number, Uint8Array>();
  const payloadOf = (size: number): Uint8Array => {
    let p = payloads.get(size);
    if (p === undefined) {
      p = Buffer.alloc(size, 0x61);
      payloads.set(size, p);
    }
    return p;
  };
  const server = createServer();
  // Handlers are written the fastest way the API allows, as the floors' handlers are synchronous:
  // a plain function for unary, a synchronous generator for the server stream. Client-stream and
  // bidi handlers read an async iterable (that is the API).
  server.register(service, {
    unary(req: Msg) {
      return { payload: req.payload };
    },
    *serverStream(req: StreamReq) {
      const p = payloadOf(req.size);
      for (let i = 0; i < req.count; i++) yield { payload: p };
    },
    async clientStream(requests: AsyncIterable<Msg>) {
      for await (const _ of requests) {
        // consume
      }
      return { payload: new Uint8Array(0) };
    },
    async *bidi(requests: AsyncIterable<Msg>) {
      for await (const m of requests) yield { payload: m.payload };
    },
  });
  await server.listen(socket);
}

// A synchronous source, as the floors' clients send from a loop.
function* repeat(count: number, payload: Uint8Array): Generator<Msg> {
  for (let i = 0; i < count; i++) yield { payload };
}

export async function createTtrpcClient(mode: TtrpcMode, socket: string): Promise<BenchClient> {
  const service = await serviceFor(mode);
  const conn = await connect(socket);
  const client = createClient(service, conn);
  return {
    async unary(payload) {
      const res = await client.unary({ payload });
      return res.payload;
    },
    async serverStream(count, size) {
      let n = 0;
      for await (const _ of client.serverStream({ count, size })) n++;
      return n;
    },
    async clientStream(count, payload) {
      await client.clientStream(repeat(count, payload));
    },
    async bidi(count, payload) {
      let n = 0;
      for await (const _ of client.bidi(repeat(count, payload))) n++;
      return n;
    },
    async close() {
      await conn.close();
      await conn.closed;
    },
  };
}
