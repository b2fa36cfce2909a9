// Hand-written ttrpc wire pieces for the benchmark floors and probes: the 10-byte frame header,
// a frame reader, the Request/Response envelope and the bench messages, encoded by hand.
// This is bench code, deliberately independent of src/: the floors must not share the engine's code.

export const HEADER_LENGTH = 10;
export const TYPE_REQUEST = 1;
export const TYPE_RESPONSE = 2;
export const TYPE_DATA = 3;
export const FLAG_REMOTE_CLOSED = 1;
export const FLAG_REMOTE_OPEN = 2;
export const FLAG_NO_DATA = 4;

export const SERVICE = "ttrpc.bench.v1.Bench";
export const METHOD_UNARY = "Unary";
export const METHOD_SERVER_STREAM = "ServerStream";
export const METHOD_CLIENT_STREAM = "ClientStream";
export const METHOD_BIDI = "Bidi";

/** Payloads at least this large are written as a separate chunk (no copy into the frame buffer). */
export const COPY_THRESHOLD = 8 * 1024;

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export function writeVarint(buf: Uint8Array, off: number, n: number): number {
  while (n >= 0x80) {
    buf[off++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

/** Reads a varint of at most 53 bits; returns the value and stores the new offset in `pos[0]`. */
export function readVarint(buf: Uint8Array, pos: number[]): number {
  let off = pos[0] ?? 0;
  let result = 0;
  let mul = 1;
  for (;;) {
    if (off >= buf.length) throw new Error("truncated varint");
    const b = buf[off++] ?? 0;
    result += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 128;
    if (mul > 2 ** 63) throw new Error("varint too long");
  }
  pos[0] = off;
  return result;
}

function skipField(buf: Uint8Array, wireType: number, pos: number[]): void {
  switch (wireType) {
    case 0:
      readVarint(buf, pos);
      return;
    case 1:
      pos[0] = (pos[0] ?? 0) + 8;
      return;
    case 2: {
      const len = readVarint(buf, pos);
      pos[0] = (pos[0] ?? 0) + len;
      return;
    }
    case 5:
      pos[0] = (pos[0] ?? 0) + 4;
      return;
    default:
      throw new Error(`unsupported wire type ${wireType}`);
  }
}

export function writeHeader(
  buf: Uint8Array,
  off: number,
  length: number,
  streamId: number,
  type: number,
  flags: number,
): void {
  buf[off] = length >>> 24;
  buf[off + 1] = length >>> 16;
  buf[off + 2] = length >>> 8;
  buf[off + 3] = length;
  buf[off + 4] = streamId >>> 24;
  buf[off + 5] = streamId >>> 16;
  buf[off + 6] = streamId >>> 8;
  buf[off + 7] = streamId;
  buf[off + 8] = type;
  buf[off + 9] = flags;
}

export type FrameHandler = (streamId: number, type: number, flags: number, data: Buffer) => void;

/**
 * Splits a byte stream into frames. A frame inside one chunk is handed out as a view of that
 * chunk (no copy); a frame split across chunks is assembled with exactly one copy.
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private needed = HEADER_LENGTH;
  private readonly onFrame: FrameHandler;

  constructor(onFrame: FrameHandler) {
    this.onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.pendingLength > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
      if (this.pendingLength < this.needed) return;
      data = Buffer.concat(this.pending, this.pendingLength);
      this.pending = [];
      this.pendingLength = 0;
    }
    let off = 0;
    const end = data.length;
    while (end - off >= HEADER_LENGTH) {
      const length = data.readUInt32BE(off);
      const frameEnd = off + HEADER_LENGTH + length;
      if (frameEnd > end) {
        this.needed = HEADER_LENGTH + length;
        break;
      }
      const streamId = data.readUInt32BE(off + 4);
      const type = data[off + 8] ?? 0;
      const flags = data[off + 9] ?? 0;
      this.onFrame(streamId, type, flags, data.subarray(off + HEADER_LENGTH, frameEnd));
      off = frameEnd;
    }
    if (off < end) {
      if (end - off < HEADER_LENGTH) this.needed = HEADER_LENGTH;
      this.pending.push(off === 0 ? data : data.subarray(off));
      this.pendingLength = end - off;
    } else {
      this.needed = HEADER_LENGTH;
    }
  }
}

// ---- BenchMessage { bytes payload = 1; } ----

/** Encoded size of a BenchMessage whose payload has `n` bytes (proto3: empty bytes are omitted). */
export function benchMessageSize(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n) + n;
}

/** Writes the BenchMessage prefix (tag + length) for a payload of `n` bytes; returns the offset. */
export function writeBenchMessagePrefix(buf: Uint8Array, off: number, n: number): number {
  if (n === 0) return off;
  buf[off++] = 0x0a;
  return writeVarint(buf, off, n);
}

export function encodeBenchMessage(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(benchMessageSize(payload.length));
  const off = writeBenchMessagePrefix(out, 0, payload.length);
  out.set(payload, off);
  return out;
}

const EMPTY = new Uint8Array(0);

/** Decodes a BenchMessage; the payload is a view of `buf` (no copy). */
export function decodeBenchMessage(buf: Uint8Array): Uint8Array {
  let payload: Uint8Array = EMPTY;
  const pos = [0];
  while ((pos[0] ?? 0) < buf.length) {
    const tag = readVarint(buf, pos);
    if (tag === 0x0a) {
      const len = readVarint(buf, pos);
      const start = pos[0] ?? 0;
      if (start + len > buf.length) throw new Error("truncated bytes field");
      payload = buf.subarray(start, start + len);
      pos[0] = start + len;
    } else {
      skipField(buf, tag & 7, pos);
    }
  }
  return payload;
}

// ---- StreamRequest { uint32 count = 1; uint32 size = 2; } ----

export function encodeStreamRequest(count: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(
    (count ? 1 + varintSize(count) : 0) + (size ? 1 + varintSize(size) : 0),
  );
  let off = 0;
  if (count) {
    out[off++] = 0x08;
    off = writeVarint(out, off, count);
  }
  if (size) {
    out[off++] = 0x10;
    off = writeVarint(out, off, size);
  }
  return out;
}

export function decodeStreamRequest(buf: Uint8Array): { count: number; size: number } {
  let count = 0;
  let size = 0;
  const pos = [0];
  while ((pos[0] ?? 0) < buf.length) {
    const tag = readVarint(buf, pos);
    if (tag === 0x08) count = readVarint(buf, pos) >>> 0;
    else if (tag === 0x10) size = readVarint(buf, pos) >>> 0;
    else skipField(buf, tag & 7, pos);
  }
  return { count, size };
}

// ---- ttrpc envelope: Request { string service = 1; string method = 2; bytes payload = 3; ... }
//                      Response { google.rpc.Status status = 1; bytes payload = 2; } ----

/** Pre-encoded `service = 1` and `method = 2` fields of a Request for one method. */
export function requestPrefix(service: string, method: string): Buffer {
  const s = Buffer.from(service, "utf8");
  const m = Buffer.from(method, "utf8");
  const out = Buffer.allocUnsafe(
    2 + varintSize(s.length) + s.length + varintSize(m.length) + m.length,
  );
  let off = 0;
  out[off++] = 0x0a;
  off = writeVarint(out, off, s.length);
  out.set(s, off);
  off += s.length;
  out[off++] = 0x12;
  off = writeVarint(out, off, m.length);
  out.set(m, off);
  return out;
}

export interface DecodedRequest {
  service: string;
  method: string;
  payload: Uint8Array;
}

/** Decodes a Request envelope (timeout and metadata are skipped); the payload is a view. */
export function decodeRequest(buf: Buffer): DecodedRequest {
  let service = "";
  let method = "";
  let payload: Uint8Array = EMPTY;
  const pos = [0];
  while ((pos[0] ?? 0) < buf.length) {
    const tag = readVarint(buf, pos);
    if (tag === 0x0a || tag === 0x12 || tag === 0x1a) {
      const len = readVarint(buf, pos);
      const start = pos[0] ?? 0;
      if (start + len > buf.length) throw new Error("truncated field");
      if (tag === 0x0a) service = buf.toString("utf8", start, start + len);
      else if (tag === 0x12) method = buf.toString("utf8", start, start + len);
      else payload = buf.subarray(start, start + len);
      pos[0] = start + len;
    } else {
      skipField(buf, tag & 7, pos);
    }
  }
  return { service, method, payload };
}

export interface DecodedResponse {
  code: number;
  message: string;
  payload: Uint8Array;
}

/** Decodes a Response envelope; an absent status means OK. The payload is a view. */
export function decodeResponse(buf: Buffer): DecodedResponse {
  let code = 0;
  let message = "";
  let payload: Uint8Array = EMPTY;
  const pos = [0];
  while ((pos[0] ?? 0) < buf.length) {
    const tag = readVarint(buf, pos);
    if (tag === 0x0a || tag === 0x12) {
      const len = readVarint(buf, pos);
      const start = pos[0] ?? 0;
      if (start + len > buf.length) throw new Error("truncated field");
      if (tag === 0x12) payload = buf.subarray(start, start + len);
      else {
        // google.rpc.Status { int32 code = 1; string message = 2; ... }
        const status = buf.subarray(start, start + len);
        const p = [0];
        while ((p[0] ?? 0) < status.length) {
          const t = readVarint(status, p);
          if (t === 0x08) code = readVarint(status, p);
          else if (t === 0x12) {
            const l = readVarint(status, p);
            const s = p[0] ?? 0;
            message = status.toString("utf8", s, s + l);
            p[0] = s + l;
          } else skipField(status, t & 7, p);
        }
      }
      pos[0] = start + len;
    } else {
      skipField(buf, tag & 7, pos);
    }
  }
  return { code, message, payload };
}
