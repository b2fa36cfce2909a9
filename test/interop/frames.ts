/**
 * Frame-level tools for the interop tests, written independently of src/ so that they check the
 * engine rather than reuse it: a ttrpc frame parser, a tiny protobuf reader for the Request
 * envelope, and a unix-socket proxy that records the frames going each way.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface Frame {
  length: number;
  streamId: number;
  type: number;
  flags: number;
  data: Buffer;
}

export const TYPE_REQUEST = 1;
export const TYPE_RESPONSE = 2;
export const TYPE_DATA = 3;

/** Splits a byte stream into frames (10-byte big-endian header + data). */
export class FrameParser {
  #buf: Buffer = Buffer.alloc(0);
  readonly frames: Frame[] = [];

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 10) {
      const length = this.#buf.readUInt32BE(0);
      if (this.#buf.length < 10 + length) break;
      this.frames.push({
        length,
        streamId: this.#buf.readUInt32BE(4),
        type: this.#buf[8] as number,
        flags: this.#buf[9] as number,
        data: Buffer.from(this.#buf.subarray(10, 10 + length)),
      });
      this.#buf = this.#buf.subarray(10 + length);
    }
  }

  /** Bytes of an incomplete frame still waiting for more input. */
  get pending(): number {
    return this.#buf.length;
  }
}

/** Encodes one frame. */
export function encodeFrame(
  streamId: number,
  type: number,
  flags: number,
  data: Uint8Array,
): Buffer {
  const header = Buffer.alloc(10);
  header.writeUInt32BE(data.length, 0);
  header.writeUInt32BE(streamId, 4);
  header[8] = type;
  header[9] = flags;
  return Buffer.concat([header, data]);
}

// ---------------------------------------------------------------- protobuf, just enough

export interface PbField {
  field: number;
  wireType: number;
  /** The whole field: tag, (length) and value. */
  raw: Buffer;
  /** Varint value (wire type 0). */
  varint?: bigint;
  /** Bytes (wire type 2). */
  bytes?: Buffer;
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error("truncated varint");
    const b = buf[pos++] as number;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

/** The top-level fields of a protobuf message, in wire order. */
export function pbFields(buf: Buffer): PbField[] {
  const fields: PbField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    pos = afterTag;
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    const f: PbField = { field, wireType, raw: Buffer.alloc(0) };
    if (wireType === 0) {
      [f.varint, pos] = readVarint(buf, pos);
    } else if (wireType === 2) {
      const [len, afterLen] = readVarint(buf, pos);
      f.bytes = buf.subarray(afterLen, afterLen + Number(len));
      pos = afterLen + Number(len);
    } else if (wireType === 1) {
      pos += 8;
    } else if (wireType === 5) {
      pos += 4;
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
    if (pos > buf.length) throw new Error("truncated field");
    f.raw = buf.subarray(start, pos);
    fields.push(f);
  }
  return fields;
}

export interface DecodedRequest {
  service: string;
  method: string;
  /** undefined when the payload field is absent (not the same as present and empty). */
  payload: Buffer | undefined;
  timeoutNano: bigint;
  metadata: { key: string; value: string }[];
}

/** Decodes a ttrpc Request envelope. */
export function decodeRequest(data: Buffer): DecodedRequest {
  const out: DecodedRequest = {
    service: "",
    method: "",
    payload: undefined,
    timeoutNano: 0n,
    metadata: [],
  };
  for (const f of pbFields(data)) {
    if (f.field === 1 && f.bytes) out.service = f.bytes.toString("utf8");
    else if (f.field === 2 && f.bytes) out.method = f.bytes.toString("utf8");
    else if (f.field === 3 && f.bytes) out.payload = Buffer.from(f.bytes);
    else if (f.field === 4 && f.varint !== undefined) out.timeoutNano = BigInt.asIntN(64, f.varint);
    else if (f.field === 5 && f.bytes) {
      const kv = { key: "", value: "" };
      for (const g of pbFields(f.bytes)) {
        if (g.field === 1 && g.bytes) kv.key = g.bytes.toString("utf8");
        if (g.field === 2 && g.bytes) kv.value = g.bytes.toString("utf8");
      }
      out.metadata.push(kv);
    }
  }
  return out;
}

export interface DecodedStatus {
  code: number;
  message: string;
  details: { typeUrl: string; value: Buffer }[];
}

/** Decodes a ttrpc Response envelope: status (absent = undefined) and payload. */
export function decodeResponse(data: Buffer): {
  status: DecodedStatus | undefined;
  payload: Buffer | undefined;
} {
  let status: DecodedStatus | undefined;
  let payload: Buffer | undefined;
  for (const f of pbFields(data)) {
    if (f.field === 1 && f.bytes) {
      status = { code: 0, message: "", details: [] };
      for (const g of pbFields(f.bytes)) {
        if (g.field === 1 && g.varint !== undefined)
          status.code = Number(BigInt.asIntN(32, g.varint));
        if (g.field === 2 && g.bytes) status.message = g.bytes.toString("utf8");
        if (g.field === 3 && g.bytes) {
          const d = { typeUrl: "", value: Buffer.alloc(0) };
          for (const h of pbFields(g.bytes)) {
            if (h.field === 1 && h.bytes) d.typeUrl = h.bytes.toString("utf8");
            if (h.field === 2 && h.bytes) d.value = Buffer.from(h.bytes);
          }
          status.details.push(d);
        }
      }
    } else if (f.field === 2 && f.bytes) {
      payload = Buffer.from(f.bytes);
    }
  }
  return { status, payload };
}

/**
 * A frame made comparable across clients: the stream id becomes its ordinal on the connection
 * (1st stream opened = 1, ...), and a Request loses its timeout_nano field.
 */
export interface NormalFrame {
  stream: number;
  type: number;
  flags: number;
  dataHex: string;
}

export function normalize(frames: readonly Frame[]): NormalFrame[] {
  const ordinals = new Map<number, number>();
  return frames.map((f) => {
    let stream = ordinals.get(f.streamId);
    if (stream === undefined) {
      stream = ordinals.size + 1;
      ordinals.set(f.streamId, stream);
    }
    let data = f.data;
    if (f.type === TYPE_REQUEST) {
      data = Buffer.concat(
        pbFields(f.data)
          .filter((x) => x.field !== 4)
          .map((x) => x.raw),
      );
    }
    return { stream, type: f.type, flags: f.flags, dataHex: data.toString("hex") };
  });
}

// ---------------------------------------------------------------- the recording proxy

export interface ProxiedConnection {
  /** Frames written by the client (client → server). */
  fromClient: FrameParser;
  /** Frames written by the server (server → client). */
  fromServer: FrameParser;
  /** Settles once both sides are closed. */
  closed: Promise<void>;
}

export interface FrameProxy {
  socket: string;
  connections: ProxiedConnection[];
  close(): Promise<void>;
}

/** A unix-socket proxy from `listen` to `upstream` that records every frame in both directions. */
export function startProxy(listen: string, upstream: string): Promise<FrameProxy> {
  const connections: ProxiedConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const up = createConnection(upstream);
    sockets.add(client);
    sockets.add(up);
    const conn: ProxiedConnection = {
      fromClient: new FrameParser(),
      fromServer: new FrameParser(),
      closed: Promise.all([
        new Promise<void>((r) => client.once("close", () => r())),
        new Promise<void>((r) => up.once("close", () => r())),
      ]).then(() => {}),
    };
    connections.push(conn);
    client.on("data", (chunk: Buffer) => {
      conn.fromClient.push(chunk);
      up.write(chunk);
    });
    up.on("data", (chunk: Buffer) => {
      conn.fromServer.push(chunk);
      client.write(chunk);
    });
    client.on("end", () => up.end());
    up.on("end", () => client.end());
    client.on("error", () => up.destroy());
    up.on("error", () => client.destroy());
    client.on("close", () => {
      sockets.delete(client);
      up.destroy();
    });
    up.on("close", () => {
      sockets.delete(up);
      client.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen, () => {
      resolve({
        socket: listen,
        connections,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
