/**
 * The ttrpc envelope, encoded by hand: `ttrpc.Request`, `ttrpc.Response`, `ttrpc.KeyValue`,
 * `google.rpc.Status` and `google.protobuf.Any`. No protobuf library is loaded for them.
 *
 * ```proto
 * message Request  { string service = 1; string method = 2; bytes payload = 3;
 *                    int64 timeout_nano = 4; repeated KeyValue metadata = 5; }
 * message Response { google.rpc.Status status = 1; bytes payload = 2; }
 * message KeyValue { string key = 1; string value = 2; }
 * ```
 * Fields are written in field-number order and empty fields are left out, as Go's encoder does,
 * so our frames are byte-identical to Go's.
 * @module
 */
import { Code, type ErrorDetail, TtrpcError } from "./errors.js";
import { type FrameChunks, HEADER_LENGTH, MessageType, writeHeader } from "./frame.js";
import { type Metadata, metadataEntries } from "./metadata.js";
import {
  Reader,
  type StringCache,
  varintSize,
  writeBytes,
  writeString,
  writeVarint,
} from "./proto.js";

export { MalformedError } from "./proto.js";

/** Payloads at least this large are written as their own chunk instead of being copied. */
const COPY_LIMIT = 16 * 1024;

/** A decoded `ttrpc.Request`. `payload` is undefined when the field was absent. */
export interface RequestEnvelope {
  service: string;
  method: string;
  payload: Buffer | undefined;
  /** Relative timeout in nanoseconds; 0 = none; negative = already expired. */
  timeoutNano: number;
  /** Key/value pairs in wire order. */
  metadata: [string, string][];
}

/** A decoded `google.rpc.Status`. */
export interface StatusEnvelope {
  code: number;
  message: string;
  details: ErrorDetail[];
}

/** A decoded `ttrpc.Response`. `status` is undefined when absent (Go's encoding of OK). */
export interface ResponseEnvelope {
  status: StatusEnvelope | undefined;
  payload: Buffer;
}

/**
 * An encoded message: one buffer, or chunks to be written in order (a static codec can return a
 * small prefix and the payload it already holds, so the payload is never copied).
 */
export type Encoded = Uint8Array | readonly Uint8Array[];

/** The byte length of an encoded message. */
export function encodedLength(message: Encoded | undefined): number {
  if (message === undefined) return 0;
  if (message instanceof Uint8Array) return message.length;
  let n = 0;
  for (const chunk of message) n += chunk.length;
  return n;
}

function copyEncoded(message: Encoded, buf: Buffer, off: number): number {
  if (message instanceof Uint8Array) {
    buf.set(message, off);
    return off + message.length;
  }
  for (const chunk of message) {
    buf.set(chunk, off);
    off += chunk.length;
  }
  return off;
}

function pushEncoded(chunks: Uint8Array[], message: Encoded): void {
  if (message instanceof Uint8Array) chunks.push(message);
  else for (const chunk of message) if (chunk.length > 0) chunks.push(chunk);
}

const EMPTY = Buffer.alloc(0);
/** Shared by every Request without metadata (most of them); never written to. */
const NO_PAIRS: [string, string][] = [];

// One reader per nesting level, reset for each decode: decoding allocates no reader.
const outer = new Reader();
const inner = new Reader();
const innermost = new Reader();
// Consecutive requests mostly name the same service and method: decoded once, then compared.
const lastService: StringCache = { bytes: EMPTY, value: "" };
const lastMethod: StringCache = { bytes: EMPTY, value: "" };

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Bounds on a Request's metadata, checked while it is decoded. */
export interface MetadataLimits {
  /** Most KeyValue entries. */
  readonly maxEntries: number;
  /** Most bytes of encoded KeyValue entries. */
  readonly maxBytes: number;
}

function metadataError(what: string): TtrpcError {
  return new TtrpcError(`ttrpc: request metadata exceeds ${what}`, Code.ResourceExhausted);
}

/**
 * Decodes a `ttrpc.Request` from `data[start, end)`; throws {@link MalformedError}. With `into`
 * the fields are written there (a caller that consumes them at once reuses one object). Past
 * `limits`, decoding stops at once with a RESOURCE_EXHAUSTED TtrpcError: a metadata bomb costs
 * no more than its first entries.
 */
export function decodeRequest(
  data: Uint8Array,
  start = 0,
  end = data.length,
  into?: RequestEnvelope,
  limits?: MetadataLimits,
): RequestEnvelope {
  let metadataBytes = 0;
  const buf = asBuffer(data);
  const r = outer.reset(buf, start, end);
  const req: RequestEnvelope = into ?? {
    service: "",
    method: "",
    payload: undefined,
    timeoutNano: 0,
    metadata: NO_PAIRS,
  };
  if (into !== undefined) {
    req.service = "";
    req.method = "";
    req.payload = undefined;
    req.timeoutNano = 0;
    req.metadata = NO_PAIRS;
  }
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === 2) req.service = r.cachedString(lastService);
    else if (field === 2 && wire === 2) req.method = r.cachedString(lastMethod);
    else if (field === 3 && wire === 2) req.payload = r.bytes();
    else if (field === 4 && wire === 0) req.timeoutNano = r.varint();
    else if (field === 5 && wire === 2) {
      const start = r.delimited();
      if (limits !== undefined) {
        metadataBytes += r.pos - start;
        if (metadataBytes > limits.maxBytes) throw metadataError(`${limits.maxBytes} bytes`);
        if (req.metadata.length >= limits.maxEntries)
          throw metadataError(`${limits.maxEntries} entries`);
      }
      const kv = inner.reset(buf, start, r.pos);
      let key = "";
      let value = "";
      while (kv.pos < kv.end) {
        const t = kv.tag();
        if (t === 0x0a) key = kv.string();
        else if (t === 0x12) value = kv.string();
        else kv.skipField(t);
      }
      if (req.metadata === NO_PAIRS) req.metadata = [];
      req.metadata.push([key, value]);
    } else r.skipField(tag);
  }
  return req;
}

function decodeStatus(buf: Buffer, start: number, end: number): StatusEnvelope {
  const r = inner.reset(buf, start, end);
  const status: StatusEnvelope = { code: 0, message: "", details: [] };
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x08) status.code = r.int32();
    else if (tag === 0x12) status.message = r.string();
    else if (tag === 0x1a) {
      const s = r.delimited();
      const any = innermost.reset(buf, s, r.pos);
      let typeUrl = "";
      let value: Uint8Array = new Uint8Array(0);
      while (any.pos < any.end) {
        const t = any.tag();
        if (t === 0x0a) typeUrl = any.string();
        // Copy: details outlive the frame and are small.
        else if (t === 0x12) value = new Uint8Array(any.bytes());
        else any.skipField(t);
      }
      status.details.push({ typeUrl, value });
    } else r.skipField(tag);
  }
  return status;
}

/**
 * Decodes a `ttrpc.Response` from `data[start, end)`; throws {@link MalformedError}. With `into`
 * the fields are written there.
 */
export function decodeResponse(
  data: Uint8Array,
  start = 0,
  end = data.length,
  into?: ResponseEnvelope,
): ResponseEnvelope {
  const buf = asBuffer(data);
  const r = outer.reset(buf, start, end);
  let status: StatusEnvelope | undefined;
  let payload: Buffer = EMPTY;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const start = r.delimited();
      status = decodeStatus(buf, start, r.pos);
    } else if (tag === 0x12) payload = r.bytes();
    else r.skipField(tag);
  }
  if (into === undefined) return { status, payload };
  into.status = status;
  into.payload = payload;
  return into;
}

// ---------------------------------------------------------------- encoding

/**
 * The constant start of every Request for one method: fields 1 and 2 (service and method).
 * Computed once per method, copied into each request.
 */
export function requestPrefix(service: string, method: string): Buffer {
  const s = Buffer.byteLength(service);
  const m = Buffer.byteLength(method);
  const buf = Buffer.allocUnsafe(2 + varintSize(s) + s + varintSize(m) + m);
  const off = writeString(buf, 0, 0x0a, service, s);
  writeString(buf, off, 0x12, method, m);
  return buf;
}

function metadataSize(metadata: Metadata | undefined): number {
  if (metadata === undefined || metadata.size === 0) return 0;
  let size = 0;
  for (const [key, values] of metadataEntries(metadata)) {
    const k = Buffer.byteLength(key);
    for (const value of values) {
      const v = Buffer.byteLength(value);
      const kv = (k > 0 ? 1 + varintSize(k) + k : 0) + (v > 0 ? 1 + varintSize(v) + v : 0);
      size += 1 + varintSize(kv) + kv;
    }
  }
  return size;
}

function writeMetadata(buf: Buffer, off: number, metadata: Metadata): number {
  for (const [key, values] of metadataEntries(metadata)) {
    const k = Buffer.byteLength(key);
    for (const value of values) {
      const v = Buffer.byteLength(value);
      const kv = (k > 0 ? 1 + varintSize(k) + k : 0) + (v > 0 ? 1 + varintSize(v) + v : 0);
      buf[off++] = 0x2a;
      off = writeVarint(buf, off, kv);
      if (k > 0) off = writeString(buf, off, 0x0a, key, k);
      if (v > 0) off = writeString(buf, off, 0x12, value, v);
    }
  }
  return off;
}

/** The data length a Request frame would have; checked against the limit before encoding. */
export function requestLength(
  prefix: Buffer,
  payload: Encoded | undefined,
  timeoutNano: number,
  metadata: Metadata | undefined,
): number {
  const p = encodedLength(payload);
  return (
    prefix.length +
    (p > 0 ? 1 + varintSize(p) + p : 0) +
    (timeoutNano !== 0 ? 1 + varintSize(timeoutNano) : 0) +
    metadataSize(metadata)
  );
}

/** Encodes a whole Request frame (header included). `length` comes from {@link requestLength}. */
export function encodeRequestFrame(
  streamId: number,
  flags: number,
  length: number,
  prefix: Buffer,
  payload: Encoded | undefined,
  timeoutNano: number,
  metadata: Metadata | undefined,
): FrameChunks {
  const p = encodedLength(payload);
  const split = p >= COPY_LIMIT;
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + length - (split ? p : 0));
  writeHeader(buf, 0, length, streamId, MessageType.Request, flags);
  let off = HEADER_LENGTH;
  off += prefix.copy(buf, off);
  let chunks: Uint8Array[] | undefined;
  if (p > 0 && payload !== undefined) {
    buf[off++] = 0x1a;
    off = writeVarint(buf, off, p);
    if (split) {
      // The payload goes out as its own chunk(s), never copied; later fields follow it.
      chunks = [buf.subarray(0, off)];
      pushEncoded(chunks, payload);
    } else off = copyEncoded(payload, buf, off);
  }
  const fieldsStart = off;
  if (timeoutNano !== 0) {
    buf[off++] = 0x20;
    off = writeVarint(buf, off, timeoutNano);
  }
  if (metadata !== undefined && metadata.size > 0) off = writeMetadata(buf, off, metadata);
  if (chunks === undefined) return buf;
  if (off > fieldsStart) chunks.push(buf.subarray(fieldsStart, off));
  return chunks;
}

/** Encodes a `google.rpc.Status` body (without its field tag). */
export function encodeStatus(
  code: number,
  message: string,
  details: readonly ErrorDetail[],
): Buffer {
  const m = Buffer.byteLength(message);
  let size = (code !== 0 ? 1 + varintSize(code) : 0) + (m > 0 ? 1 + varintSize(m) + m : 0);
  const sizes: number[] = [];
  for (const d of details) {
    const t = Buffer.byteLength(d.typeUrl);
    const v = d.value.length;
    const any = (t > 0 ? 1 + varintSize(t) + t : 0) + (v > 0 ? 1 + varintSize(v) + v : 0);
    sizes.push(t, any);
    size += 1 + varintSize(any) + any;
  }
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  if (code !== 0) {
    buf[off++] = 0x08;
    off = writeVarint(buf, off, code);
  }
  if (m > 0) off = writeString(buf, off, 0x12, message, m);
  details.forEach((d, i) => {
    const t = sizes[i * 2] as number;
    buf[off++] = 0x1a;
    off = writeVarint(buf, off, sizes[i * 2 + 1] as number);
    if (t > 0) off = writeString(buf, off, 0x0a, d.typeUrl, t);
    if (d.value.length > 0) off = writeBytes(buf, off, 0x12, d.value);
  });
  return buf;
}

/** The data length of a Response frame with this status body and payload. */
export function responseLength(status: Buffer | undefined, payload: Encoded | undefined): number {
  const s = status?.length;
  const p = encodedLength(payload);
  return (s !== undefined ? 1 + varintSize(s) + s : 0) + (p > 0 ? 1 + varintSize(p) + p : 0);
}

/**
 * Encodes a Response frame. An OK response carries no status field at all (Go's encoding);
 * `status` is the output of {@link encodeStatus} for an error.
 */
export function encodeResponseFrame(
  streamId: number,
  length: number,
  status: Buffer | undefined,
  payload: Encoded | undefined,
): FrameChunks {
  const p = encodedLength(payload);
  const split = p >= COPY_LIMIT;
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + length - (split ? p : 0));
  writeHeader(buf, 0, length, streamId, MessageType.Response, 0);
  let off = HEADER_LENGTH;
  if (status !== undefined) off = writeBytes(buf, off, 0x0a, status);
  if (p > 0 && payload !== undefined) {
    buf[off++] = 0x12;
    off = writeVarint(buf, off, p);
    if (split) {
      const chunks: Uint8Array[] = [buf];
      pushEncoded(chunks, payload);
      return chunks;
    }
    copyEncoded(payload, buf, off);
  }
  return buf;
}

/** Encodes a Data frame: the header and the raw message (no envelope). */
export function encodeDataFrame(
  streamId: number,
  flags: number,
  payload: Encoded | undefined,
): FrameChunks {
  const p = encodedLength(payload);
  if (p >= COPY_LIMIT && payload !== undefined) {
    const head = Buffer.allocUnsafe(HEADER_LENGTH);
    writeHeader(head, 0, p, streamId, MessageType.Data, flags);
    const chunks: Uint8Array[] = [head];
    pushEncoded(chunks, payload);
    return chunks;
  }
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + p);
  writeHeader(buf, 0, p, streamId, MessageType.Data, flags);
  if (p > 0 && payload !== undefined) copyEncoded(payload, buf, HEADER_LENGTH);
  return buf;
}
