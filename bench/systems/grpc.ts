// @grpc/grpc-js over a unix socket with the same Bench service. The messages use the same
// hand-written codec as floor-pb (so the comparison is transport against transport).
import * as grpc from "@grpc/grpc-js";
import type { BenchClient } from "../lib/driver.js";
import {
  decodeBenchMessage,
  decodeStreamRequest,
  encodeBenchMessage,
  encodeStreamRequest,
} from "../lib/wire.js";

interface Msg {
  payload: Uint8Array;
}
interface StreamReq {
  count: number;
  size: number;
}

const msgSerialize = (m: Msg): Buffer => encodeBenchMessage(m.payload);
const msgDeserialize = (b: Buffer): Msg => ({ payload: decodeBenchMessage(b) });
const reqSerialize = (r: StreamReq): Buffer => encodeStreamRequest(r.count, r.size);
const reqDeserialize = (b: Buffer): StreamReq => decodeStreamRequest(b);

const path = (m: string) => `/ttrpc.bench.v1.Bench/${m}`;
const msgCodec = {
  requestSerialize: msgSerialize,
  requestDeserialize: msgDeserialize,
  responseSerialize: msgSerialize,
  responseDeserialize: msgDeserialize,
};
export const BenchService = {
  unary: { path: path("Unary"), requestStream: false, responseStream: false, ...msgCodec },
  serverStream: {
    path: path("ServerStream"),
    requestStream: false,
    responseStream: true,
    requestSerialize: reqSerialize,
    requestDeserialize: reqDeserialize,
    responseSerialize: msgSerialize,
    responseDeserialize: msgDeserialize,
  },
  clientStream: {
    path: path("ClientStream"),
    requestStream: true,
    responseStream: false,
    ...msgCodec,
  },
  bidi: { path: path("Bidi"), requestStream: true, responseStream: true, ...msgCodec },
} satisfies grpc.ServiceDefinition;

const options = {
  "grpc.max_receive_message_length": 16 << 20,
  "grpc.max_send_message_length": 16 << 20,
};

export async function startGrpcServer(socket: string): Promise<void> {
  const server = new grpc.Server(options);
  const payloads = new Map<number, Uint8Array>();
  server.addService(BenchService, {
    unary(call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      cb(null, { payload: call.request.payload });
    },
    serverStream(call: grpc.ServerWritableStream<StreamReq, Msg>) {
      const { count, size } = call.request;
      let p = payloads.get(size);
      if (p === undefined) {
        p = Buffer.alloc(size, 0x61);
        payloads.set(size, p);
      }
      for (let i = 0; i < count; i++) call.write({ payload: p });
      call.end();
    },
    clientStream(call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      call.on("data", () => {});
      call.on("end", () => cb(null, { payload: new Uint8Array(0) }));
      call.on("error", () => {});
    },
    bidi(call: grpc.ServerDuplexStream<Msg, Msg>) {
      call.on("data", (m: Msg) => call.write({ payload: m.payload }));
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

export async function createGrpcClient(socket: string): Promise<BenchClient> {
  const Ctor = grpc.makeGenericClientConstructor(BenchService, "Bench");
  const client = new Ctor(`unix://${socket}`, grpc.credentials.createInsecure(), options);
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())),
  );
  // biome-ignore lint/suspicious/noExplicitAny: the generic client's methods are untyped
  const c = client as any;
  return {
    unary: (payload) =>
      new Promise((resolve, reject) =>
        c.unary({ payload }, (err: Error | null, res: Msg) =>
          err ? reject(err) : resolve(res.payload),
        ),
      ),
    serverStream: (count, size) =>
      new Promise((resolve, reject) => {
        let n = 0;
        const call = c.serverStream({ count, size }) as grpc.ClientReadableStream<Msg>;
        call.on("data", () => {
          n++;
        });
        call.on("end", () => resolve(n));
        call.on("error", reject);
      }),
    clientStream: (count, payload) =>
      new Promise((resolve, reject) => {
        const call = c.clientStream((err: Error | null) =>
          err ? reject(err) : resolve(),
        ) as grpc.ClientWritableStream<Msg>;
        for (let i = 0; i < count; i++) call.write({ payload });
        call.end();
      }),
    bidi: (count, payload) =>
      new Promise((resolve, reject) => {
        let n = 0;
        const call = c.bidi() as grpc.ClientDuplexStream<Msg, Msg>;
        call.on("data", () => {
          n++;
        });
        call.on("end", () => resolve(n));
        call.on("error", reject);
        for (let i = 0; i < count; i++) call.write({ payload });
        call.end();
      }),
    async close() {
      client.close();
    },
  };
}
