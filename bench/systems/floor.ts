// The floors: the fastest a ttrpc can be in Node, written straight on node:net.
//   floor     — 10-byte header + raw bytes (no envelope, no protobuf; one method-id byte in Requests)
//   floor-pb  — + the ttrpc Request/Response envelope and the BenchMessage codec, by hand
//               (frames byte-identical to a real ttrpc client/server)
//   floor-es  — the same envelope by hand, the messages through @bufbuild/protobuf (create/toBinary/fromBinary)
// Server handlers are synchronous; writes are corked per incoming chunk on the server and per
// microtask batch on the client (one writev per batch); small frames are built in one buffer,
// payloads of COPY_THRESHOLD bytes or more are written as their own chunk (no copy).
import { connect, createServer, type Socket } from "node:net";
import type { BenchClient } from "../lib/driver.js";
import {
  COPY_THRESHOLD,
  decodeBenchMessage,
  decodeRequest,
  decodeResponse,
  decodeStreamRequest,
  encodeStreamRequest,
  FLAG_NO_DATA,
  FLAG_REMOTE_CLOSED,
  FLAG_REMOTE_OPEN,
  FrameReader,
  HEADER_LENGTH,
  METHOD_BIDI,
  METHOD_CLIENT_STREAM,
  METHOD_SERVER_STREAM,
  METHOD_UNARY,
  requestPrefix,
  SERVICE,
  TYPE_DATA,
  TYPE_REQUEST,
  TYPE_RESPONSE,
  varintSize,
  writeHeader,
  writeVarint,
} from "../lib/wire.js";

export type FloorMode = "raw" | "pb" | "es";

/** How the messages are turned into bytes; `pb` writes the BenchMessage prefix straight into the frame. */
interface MessageCodec {
  /** true: body is a raw payload and the BenchMessage prefix is written into the frame (pb). */
  readonly inlinePrefix: boolean;
  /** Message body bytes for a payload (raw: payload; pb: payload (prefix added inline); es: toBinary). */
  body(payload: Uint8Array): Uint8Array;
  /** Payload of a received message. */
  payload(bytes: Uint8Array): Uint8Array;
  streamRequest(count: number, size: number): Uint8Array;
  decodeStreamRequest(bytes: Uint8Array): { count: number; size: number };
}

const METHOD_IDS = [METHOD_UNARY, METHOD_SERVER_STREAM, METHOD_CLIENT_STREAM, METHOD_BIDI];
const K_UNARY = 0;
const K_SERVER_STREAM = 1;
const K_CLIENT_STREAM = 2;
const K_BIDI = 3;

function rawStreamRequest(count: number, size: number): Uint8Array {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(count, 0);
  b.writeUInt32BE(size, 4);
  return b;
}

async function codecFor(mode: FloorMode): Promise<MessageCodec> {
  if (mode === "raw") {
    return {
      inlinePrefix: false,
      body: (p) => p,
      payload: (b) => b,
      streamRequest: rawStreamRequest,
      decodeStreamRequest: (b) => {
        const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
        return { count: buf.readUInt32BE(0), size: buf.readUInt32BE(4) };
      },
    };
  }
  if (mode === "pb") {
    return {
      inlinePrefix: true,
      body: (p) => p,
      payload: decodeBenchMessage,
      streamRequest: encodeStreamRequest,
      decodeStreamRequest,
    };
  }
  const { create, toBinary, fromBinary } = await import("@bufbuild/protobuf");
  const { BenchMessageSchema, StreamRequestSchema } = await import(
    "../../test/interop/gen/bench_pb.js"
  );
  return {
    inlinePrefix: false,
    body: (payload) => toBinary(BenchMessageSchema, create(BenchMessageSchema, { payload })),
    payload: (bytes) => fromBinary(BenchMessageSchema, bytes).payload,
    streamRequest: (count, size) =>
      toBinary(StreamRequestSchema, create(StreamRequestSchema, { count, size })),
    decodeStreamRequest: (bytes) => {
      const m = fromBinary(StreamRequestSchema, bytes);
      return { count: m.count, size: m.size };
    },
  };
}

/**
 * Writes one frame: data = pre + [envelope field tag + length] + [BenchMessage prefix] + body.
 * envTag 0 = no envelope field (Data frames, raw mode).
 */
function sendFrame(
  sock: Socket,
  streamId: number,
  type: number,
  flags: number,
  pre: Uint8Array | null,
  envTag: number,
  inlinePrefix: boolean,
  body: Uint8Array,
): boolean {
  const bodyLen = body.length;
  const msgLen = inlinePrefix ? (bodyLen === 0 ? 0 : 1 + varintSize(bodyLen) + bodyLen) : bodyLen;
  const envLen = envTag !== 0 && msgLen !== 0 ? 1 + varintSize(msgLen) : 0;
  const preLen = pre === null ? 0 : pre.length;
  const headLen = preLen + envLen + (msgLen - bodyLen);
  const copy = bodyLen < COPY_THRESHOLD;
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + headLen + (copy ? bodyLen : 0));
  writeHeader(buf, 0, headLen + bodyLen, streamId, type, flags);
  let off = HEADER_LENGTH;
  if (pre !== null) {
    buf.set(pre, off);
    off += preLen;
  }
  if (envLen !== 0) {
    buf[off++] = envTag;
    off = writeVarint(buf, off, msgLen);
  }
  if (inlinePrefix && bodyLen !== 0) {
    buf[off++] = 0x0a;
    off = writeVarint(buf, off, bodyLen);
  }
  if (copy) {
    buf.set(body, off);
    return sock.write(buf);
  }
  sock.write(buf);
  return sock.write(body);
}

/**
 * Sends `count` Data frames and the closing Data frame, pausing for 'drain' whenever the socket's
 * buffer is full (as any real sender must); each burst of writes is corked into one writev.
 */
function sendStream(
  sock: Socket,
  sid: number,
  count: number,
  inline: boolean,
  body: () => Uint8Array,
  cork: () => void,
  uncork: () => void,
): void {
  let i = 0;
  const pump = (): void => {
    cork();
    let ok = true;
    while (ok && i < count) {
      ok = sendFrame(sock, sid, TYPE_DATA, 0, null, 0, inline, body());
      i++;
    }
    if (i === count) {
      sendFrame(sock, sid, TYPE_DATA, FLAG_REMOTE_CLOSED | FLAG_NO_DATA, null, 0, false, EMPTY);
    } else {
      sock.once("drain", pump);
    }
    uncork();
  };
  pump();
}

const EMPTY = new Uint8Array(0);
const noop = (): void => {};

// ---------------------------------------------------------------- server

export async function startFloorServer(mode: FloorMode, path: string): Promise<void> {
  const codec = await codecFor(mode);
  const inline = codec.inlinePrefix;
  const raw = mode === "raw";
  const payloads = new Map<number, Uint8Array>();
  const payloadOf = (size: number): Uint8Array => {
    let p = payloads.get(size);
    if (p === undefined) {
      p = Buffer.alloc(size, 0x61);
      payloads.set(size, p);
    }
    return p;
  };
  const emptyBody = codec.body(EMPTY);

  const server = createServer((sock) => {
    sock.setNoDelay?.(true);
    const streams = new Map<number, number>(); // stream id -> method kind (streams awaiting client data)
    // cork/uncork that nest (a stream burst may start inside the corked 'data' handler)
    let corks = 0;
    const cork = (): void => {
      if (corks++ === 0) sock.cork();
    };
    const uncork = (): void => {
      if (--corks === 0) sock.uncork();
    };
    const reply = (sid: number, code: number, message: string): void => {
      // Response { status { code, message } } — only for errors (never in the benchmark itself)
      const m = Buffer.from(message, "utf8");
      const status = Buffer.allocUnsafe(2 + varintSize(code) + varintSize(m.length) + m.length);
      let o = 0;
      status[o++] = 0x08;
      o = writeVarint(status, o, code);
      status[o++] = 0x12;
      o = writeVarint(status, o, m.length);
      status.set(m, o);
      sendFrame(sock, sid, TYPE_RESPONSE, 0, null, 0x0a, false, status);
    };
    const reader = new FrameReader((sid, type, flags, data) => {
      if (type === TYPE_REQUEST) {
        let kind: number;
        let msg: Uint8Array;
        if (raw) {
          kind = data[0] ?? 0;
          msg = data.subarray(1);
        } else {
          const req = decodeRequest(data);
          if (req.service !== SERVICE) return reply(sid, 12, `service ${req.service}`);
          kind = METHOD_IDS.indexOf(req.method);
          if (kind < 0) return reply(sid, 12, `method ${req.method}`);
          msg = req.payload;
        }
        if (kind === K_UNARY) {
          const payload = codec.payload(msg);
          sendFrame(sock, sid, TYPE_RESPONSE, 0, null, raw ? 0 : 0x12, inline, codec.body(payload));
        } else if (kind === K_SERVER_STREAM) {
          const { count, size } = codec.decodeStreamRequest(msg);
          const p = payloadOf(size);
          sendStream(sock, sid, count, inline, () => codec.body(p), cork, uncork);
        } else {
          streams.set(sid, kind);
        }
      } else if (type === TYPE_DATA) {
        const kind = streams.get(sid);
        if (kind === undefined) return reply(sid, 3, "StreamID is no longer active");
        if ((flags & FLAG_NO_DATA) === 0) {
          const payload = codec.payload(data);
          if (kind === K_BIDI)
            sendFrame(sock, sid, TYPE_DATA, 0, null, 0, inline, codec.body(payload));
        }
        if ((flags & FLAG_REMOTE_CLOSED) !== 0) {
          streams.delete(sid);
          if (kind === K_BIDI) {
            sendFrame(
              sock,
              sid,
              TYPE_DATA,
              FLAG_REMOTE_CLOSED | FLAG_NO_DATA,
              null,
              0,
              false,
              EMPTY,
            );
          } else {
            sendFrame(sock, sid, TYPE_RESPONSE, 0, null, raw ? 0 : 0x12, false, emptyBody);
          }
        }
      }
    });
    sock.on("data", (chunk: Buffer) => {
      cork();
      try {
        reader.push(chunk);
      } finally {
        uncork();
      }
    });
    sock.on("error", () => sock.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
}

// ---------------------------------------------------------------- client

class Pending {
  count = 0;
  readonly kind: number;
  readonly resolve: (v: Uint8Array | number) => void;
  readonly reject: (e: Error) => void;
  constructor(kind: number, resolve: (v: Uint8Array | number) => void, reject: (e: Error) => void) {
    this.kind = kind;
    this.resolve = resolve;
    this.reject = reject;
  }
}

export async function createFloorClient(mode: FloorMode, path: string): Promise<BenchClient> {
  const codec = await codecFor(mode);
  const inline = codec.inlinePrefix;
  const raw = mode === "raw";
  const sock = await new Promise<Socket>((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once("error", reject);
  });
  sock.setNoDelay?.(true);
  const pres = METHOD_IDS.map((m, i) => (raw ? Uint8Array.of(i) : requestPrefix(SERVICE, m)));
  const pre = (kind: number): Uint8Array => pres[kind] as Uint8Array;
  const calls = new Map<number, Pending>();
  let nextId = 1;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    sock.uncork();
  };
  const cork = (): void => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
  };
  let closedError: Error | null = null;
  const failAll = (err: Error): void => {
    closedError = err;
    for (const p of calls.values()) p.reject(err);
    calls.clear();
  };
  sock.on("error", (e) => failAll(e));
  sock.on("close", () => failAll(new Error("connection closed")));

  const reader = new FrameReader((sid, type, flags, data) => {
    const call = calls.get(sid);
    if (call === undefined) return;
    if (type === TYPE_RESPONSE) {
      calls.delete(sid);
      if (raw) {
        call.resolve(call.kind === K_UNARY ? data : call.count);
        return;
      }
      const res = decodeResponse(data);
      if (res.code !== 0) call.reject(new Error(`status ${res.code}: ${res.message}`));
      else call.resolve(call.kind === K_UNARY ? codec.payload(res.payload) : call.count);
    } else if (type === TYPE_DATA) {
      if ((flags & FLAG_NO_DATA) === 0) {
        codec.payload(data);
        call.count++;
      }
      if ((flags & FLAG_REMOTE_CLOSED) !== 0) {
        calls.delete(sid);
        call.resolve(call.count);
      }
    }
  });
  sock.on("data", (chunk: Buffer) => reader.push(chunk));

  const start = (
    kind: number,
    flags: number,
    msg: Uint8Array,
    inlineMsg: boolean,
  ): Promise<unknown> => {
    if (closedError !== null) return Promise.reject(closedError);
    const sid = nextId;
    nextId += 2;
    return new Promise((resolve, reject) => {
      calls.set(sid, new Pending(kind, resolve, reject));
      cork();
      sendFrame(sock, sid, TYPE_REQUEST, flags, pre(kind), raw ? 0 : 0x1a, inlineMsg, msg);
      if (kind === K_CLIENT_STREAM || kind === K_BIDI) pendingSid = sid;
    });
  };
  let pendingSid = 0;
  const sendAll = (sid: number, count: number, payload: Uint8Array): void =>
    sendStream(sock, sid, count, inline, () => codec.body(payload), cork, noop);

  return {
    unary: (payload) => start(K_UNARY, 0, codec.body(payload), inline) as Promise<Uint8Array>,
    serverStream: (count, size) =>
      start(
        K_SERVER_STREAM,
        FLAG_REMOTE_CLOSED,
        codec.streamRequest(count, size),
        false,
      ) as Promise<number>,
    async clientStream(count, payload) {
      const done = start(K_CLIENT_STREAM, FLAG_REMOTE_OPEN | FLAG_NO_DATA, EMPTY, false);
      sendAll(pendingSid, count, payload);
      await done;
    },
    bidi(count, payload) {
      const done = start(K_BIDI, FLAG_REMOTE_OPEN | FLAG_NO_DATA, EMPTY, false) as Promise<number>;
      sendAll(pendingSid, count, payload);
      return done;
    },
    async close() {
      sock.end();
      await new Promise<void>((resolve) => {
        if (sock.closed) resolve();
        else sock.once("close", () => resolve());
      });
    },
  };
}
