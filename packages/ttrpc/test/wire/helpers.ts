/**
 * Byte-level tools for the wire conformance tests, written independently of src/: a frame
 * encoder and splitter, a minimal protobuf encoder/decoder for the ttrpc envelope, raw unix-socket
 * peers (a server that records what our client writes, a client that sends hand-built frames to
 * our server), tiny byte codecs and a test service.
 *
 * Nothing here imports the engine's framing or envelope code: expected bytes are built from the
 * protocol description (ttrpc PROTOCOL.md, request.proto), never from src/envelope.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { defineService, type MessageCodec } from "../../src/index.js";

// ---------------------------------------------------------------- constants (from PROTOCOL.md)

export const REQUEST = 0x01;
export const RESPONSE = 0x02;
export const DATA = 0x03;
export const RC = 0x01; // remote closed
export const RO = 0x02; // remote open
export const NODATA = 0x04;
export const MAX = 4 * 1024 * 1024;

/** gRPC status codes used in the assertions (numbers, not the engine's constants). */
export const S = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

// ---------------------------------------------------------------- frames

export interface Frame {
  length: number;
  streamId: number;
  type: number;
  flags: number;
  data: Buffer;
}

/** A 10-byte big-endian header. `length` may announce more than follows (for oversize tests). */
export function header(length: number, streamId: number, type: number, flags: number): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt32BE(length >>> 0, 0);
  h.writeUInt32BE(streamId >>> 0, 4);
  h[8] = type;
  h[9] = flags;
  return h;
}

/** One whole frame. */
export function frame(
  streamId: number,
  type: number,
  flags: number,
  data: Uint8Array = Buffer.alloc(0),
): Buffer {
  return Buffer.concat([header(data.length, streamId, type, flags), data]);
}

/** Cuts a byte stream into frames; keeps nothing but the incomplete tail. */
export class FrameSplitter {
  #chunks: Buffer[] = [];
  #size = 0;

  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.#size < 10) break;
      let buf = this.#chunks[0] as Buffer;
      if (buf.length < 10) buf = this.#flatten();
      const length = buf.readUInt32BE(0);
      if (this.#size < 10 + length) break;
      if (buf.length < 10 + length) buf = this.#flatten();
      out.push({
        length,
        streamId: buf.readUInt32BE(4),
        type: buf[8] as number,
        flags: buf[9] as number,
        data: Buffer.from(buf.subarray(10, 10 + length)),
      });
      const rest = buf.subarray(10 + length);
      this.#chunks[0] = rest;
      if (rest.length === 0) this.#chunks.shift();
      this.#size -= 10 + length;
    }
    return out;
  }

  #flatten(): Buffer {
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [all];
    return all;
  }

  /** Bytes of an incomplete frame. */
  get pending(): number {
    return this.#size;
  }
}

/** The full bytes of a frame as it was on the wire. */
export function frameBytes(f: Frame): Buffer {
  return Buffer.concat([header(f.length, f.streamId, f.type, f.flags), f.data]);
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

// ---------------------------------------------------------------- protobuf, just enough

/** A varint; a negative number is an int64 in two's complement (10 bytes). */
export function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function key(field: number, wire: number): Buffer {
  return varint((field << 3) | wire);
}

/** A length-delimited field (string or bytes), always written even when empty. */
export function lenField(field: number, value: Uint8Array | string): Buffer {
  const b = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
  return Buffer.concat([key(field, 2), varint(b.length), b]);
}

export function varintField(field: number, value: number | bigint): Buffer {
  return Buffer.concat([key(field, 0), varint(value)]);
}

export interface RequestSpec {
  service: string;
  method: string;
  /** Omitted when undefined; written (even empty) otherwise. */
  payload?: Uint8Array;
  timeoutNano?: number | bigint;
  metadata?: [string, string][];
}

/** A ttrpc.Request, fields in number order as Go writes them; zero values left out. */
export function pbRequest(r: RequestSpec): Buffer {
  const parts: Buffer[] = [];
  if (r.service !== "") parts.push(lenField(1, r.service));
  if (r.method !== "") parts.push(lenField(2, r.method));
  if (r.payload !== undefined) parts.push(lenField(3, r.payload));
  if (r.timeoutNano !== undefined && BigInt(r.timeoutNano) !== 0n)
    parts.push(varintField(4, r.timeoutNano));
  for (const [k, v] of r.metadata ?? []) {
    const kv = Buffer.concat([
      k ? lenField(1, k) : Buffer.alloc(0),
      v ? lenField(2, v) : Buffer.alloc(0),
    ]);
    parts.push(lenField(5, kv));
  }
  return Buffer.concat(parts);
}

export interface StatusSpec {
  code: number;
  message?: string;
  details?: { typeUrl: string; value: Uint8Array }[];
}

/** A google.rpc.Status body. */
export function pbStatus(s: StatusSpec): Buffer {
  const parts: Buffer[] = [];
  if (s.code !== 0) parts.push(varintField(1, s.code));
  if (s.message) parts.push(lenField(2, s.message));
  for (const d of s.details ?? []) {
    const any = Buffer.concat([
      d.typeUrl ? lenField(1, d.typeUrl) : Buffer.alloc(0),
      d.value.length > 0 ? lenField(2, d.value) : Buffer.alloc(0),
    ]);
    parts.push(lenField(3, any));
  }
  return Buffer.concat(parts);
}

/** A ttrpc.Response: `status` is a Status body (pbStatus) or absent; an empty payload is left out. */
export function pbResponse(r: { status?: Buffer; payload?: Uint8Array }): Buffer {
  const parts: Buffer[] = [];
  if (r.status !== undefined) parts.push(lenField(1, r.status));
  if (r.payload !== undefined && r.payload.length > 0) parts.push(lenField(2, r.payload));
  return Buffer.concat(parts);
}

export interface PbField {
  field: number;
  wire: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error("truncated varint");
    const b = buf[pos++] as number;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new Error("varint too long");
}

/** Top-level fields of a protobuf message, in wire order. */
export function pbFields(buf: Buffer): PbField[] {
  const out: PbField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const f: PbField = { field: Number(tag >> 3n), wire: Number(tag & 7n) };
    if (f.wire === 0) [f.varint, pos] = readVarint(buf, pos);
    else if (f.wire === 2) {
      const [len, q] = readVarint(buf, pos);
      f.bytes = buf.subarray(q, q + Number(len));
      pos = q + Number(len);
    } else if (f.wire === 1) pos += 8;
    else if (f.wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${f.wire}`);
    if (pos > buf.length) throw new Error("truncated field");
    out.push(f);
  }
  return out;
}

export interface ParsedRequest {
  service: string;
  method: string;
  /** undefined when the field is absent. */
  payload: Buffer | undefined;
  timeoutNano: bigint;
  metadata: [string, string][];
  /** Field numbers in wire order. */
  order: number[];
}

export function parseRequest(data: Buffer): ParsedRequest {
  const r: ParsedRequest = {
    service: "",
    method: "",
    payload: undefined,
    timeoutNano: 0n,
    metadata: [],
    order: [],
  };
  for (const f of pbFields(data)) {
    r.order.push(f.field);
    if (f.field === 1) r.service = (f.bytes as Buffer).toString("utf8");
    else if (f.field === 2) r.method = (f.bytes as Buffer).toString("utf8");
    else if (f.field === 3) r.payload = Buffer.from(f.bytes as Buffer);
    else if (f.field === 4) r.timeoutNano = BigInt.asIntN(64, f.varint as bigint);
    else if (f.field === 5) {
      let k = "";
      let v = "";
      for (const g of pbFields(f.bytes as Buffer)) {
        if (g.field === 1) k = (g.bytes as Buffer).toString("utf8");
        if (g.field === 2) v = (g.bytes as Buffer).toString("utf8");
      }
      r.metadata.push([k, v]);
    }
  }
  return r;
}

export interface ParsedStatus {
  code: number;
  message: string;
  details: { typeUrl: string; value: Buffer }[];
}

export interface ParsedResponse {
  /** undefined when the status field is absent (Go's OK). */
  status: ParsedStatus | undefined;
  payload: Buffer | undefined;
}

export function parseResponse(data: Buffer): ParsedResponse {
  const r: ParsedResponse = { status: undefined, payload: undefined };
  for (const f of pbFields(data)) {
    if (f.field === 1) {
      const st: ParsedStatus = { code: 0, message: "", details: [] };
      for (const g of pbFields(f.bytes as Buffer)) {
        if (g.field === 1) st.code = Number(BigInt.asIntN(32, g.varint as bigint));
        else if (g.field === 2) st.message = (g.bytes as Buffer).toString("utf8");
        else if (g.field === 3) {
          const d = { typeUrl: "", value: Buffer.alloc(0) };
          for (const h of pbFields(g.bytes as Buffer)) {
            if (h.field === 1) d.typeUrl = (h.bytes as Buffer).toString("utf8");
            if (h.field === 2) d.value = Buffer.from(h.bytes as Buffer);
          }
          st.details.push(d);
        }
      }
      r.status = st;
    } else if (f.field === 2) r.payload = Buffer.from(f.bytes as Buffer);
  }
  return r;
}

// ---------------------------------------------------------------- small async tools

/** A promise with its resolvers outside. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Polls a condition that no event reports (e.g. engine-internal bookkeeping). Not a timed
 * assertion: it waits as long as the test's own timeout allows, and stops when `signal` (the
 * test's `t.signal`) aborts, so a failed test never leaves a polling loop behind.
 */
export async function until(signal: AbortSignal, cond: () => boolean): Promise<void> {
  while (!cond()) {
    signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets pending I/O callbacks and promise chains run a number of event-loop turns. */
export async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/**
 * An async iterable fed by hand: `push` values, `end()`. Records how many values were pulled
 * and whether the consumer stopped early (`return()`).
 */
export class Pushable<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #ended = false;
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  pulled = 0;
  readonly returned = deferred<void>();
  #returnedFlag = false;

  get wasReturned(): boolean {
    return this.#returnedFlag;
  }

  push(...items: T[]): void {
    for (const item of items) {
      const w = this.#waiter;
      if (w) {
        this.#waiter = undefined;
        this.pulled++;
        w({ done: false, value: item });
      } else this.#items.push(item);
    }
  }

  end(): void {
    this.#ended = true;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.#items.length > 0) {
          this.pulled++;
          return Promise.resolve({ done: false, value: this.#items.shift() as T });
        }
        if (this.#ended) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => {
          this.#waiter = resolve;
        });
      },
      return: () => {
        this.#returnedFlag = true;
        this.returned.resolve();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}

// ---------------------------------------------------------------- raw peers

/** One end of a unix socket that speaks frames by hand. */
export class RawPeer {
  readonly socket: Socket;
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Total bytes received. */
  bytes = 0;
  readonly #splitter = new FrameSplitter();
  #read = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  readonly closed: Promise<void>;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.bytes += chunk.length;
      const got = this.#splitter.push(chunk);
      if (got.length > 0) {
        this.frames.push(...got);
        this.#poke();
      }
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => {
      socket.on("end", () => {
        this.#ended = true;
        this.#poke();
      });
      socket.on("close", () => {
        this.#ended = true;
        this.#poke();
        resolve();
      });
    });
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** True once the other side ended or the socket closed. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes of a frame received only in part. */
  get pending(): number {
    return this.#splitter.pending;
  }

  /** The next frame not yet returned by next(); rejects if the connection ends first. */
  async next(): Promise<Frame> {
    for (;;) {
      const f = this.frames[this.#read];
      if (f !== undefined) {
        this.#read++;
        return f;
      }
      if (this.#ended) throw new Error("connection ended while waiting for a frame");
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
  }

  /** The next `n` frames. */
  async take(n: number): Promise<Frame[]> {
    const out: Frame[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next());
    return out;
  }

  /** Waits until a frame for which `pred` holds is received (skipping nothing: returns it and marks all before it read). */
  async nextWhere(pred: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const f = await this.next();
      if (pred(f)) return f;
    }
  }

  /** Writes bytes; resolves once the socket took them. */
  write(...chunks: Uint8Array[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(Buffer.concat(chunks), (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Sends a Response frame. */
  respond(streamId: number, r: { status?: StatusSpec; payload?: Uint8Array }): Promise<void> {
    return this.write(
      frame(
        streamId,
        RESPONSE,
        0,
        pbResponse({
          status: r.status ? pbStatus(r.status) : undefined,
          payload: r.payload,
        }),
      ),
    );
  }

  /** Sends a Request frame. */
  request(streamId: number, flags: number, r: RequestSpec): Promise<void> {
    return this.write(frame(streamId, REQUEST, flags, pbRequest(r)));
  }

  /** Sends a Data frame. */
  data(streamId: number, flags: number, payload?: Uint8Array): Promise<void> {
    return this.write(frame(streamId, DATA, flags, payload));
  }

  /** Ends our side (FIN). */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A fresh directory for sockets, removed when the test ends. */
export function tmpDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-wire-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A raw server on a temp unix socket: every accepted connection becomes a RawPeer. */
export class RawServer {
  readonly path: string;
  readonly #net: NetServer;
  readonly peers: RawPeer[] = [];
  #waiters: ((p: RawPeer) => void)[] = [];
  #taken = 0;

  private constructor(path: string, net: NetServer) {
    this.path = path;
    this.#net = net;
    net.on("connection", (socket) => {
      const peer = new RawPeer(socket);
      this.peers.push(peer);
      this.#waiters.shift()?.(peer);
    });
  }

  static async start(t: TestContext, name = "raw.sock"): Promise<RawServer> {
    const path = join(tmpDir(t), name);
    const net = createServer();
    await new Promise<void>((resolve, reject) => {
      net.once("error", reject);
      net.listen(path, () => resolve());
    });
    const server = new RawServer(path, net);
    t.after(() => server.close());
    return server;
  }

  /** The next accepted connection not yet returned. */
  accept(): Promise<RawPeer> {
    const p = this.peers[this.#taken];
    if (p !== undefined) {
      this.#taken++;
      return Promise.resolve(p);
    }
    return new Promise((resolve) => {
      this.#waiters.push((peer) => {
        this.#taken++;
        resolve(peer);
      });
    });
  }

  close(): Promise<void> {
    for (const p of this.peers) p.destroy();
    return new Promise((resolve) => this.#net.close(() => resolve()));
  }
}

/** A raw client connected to `path`, destroyed when the test ends. */
export async function rawClient(t: TestContext, path: string): Promise<RawPeer> {
  const socket = createConnection(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const peer = new RawPeer(socket);
  t.after(() => peer.destroy());
  return peer;
}

// ---------------------------------------------------------------- codecs and the test service

/** Payload bytes fully under the test's control: encode is the identity, decode a copy. */
export const bytesCodec: MessageCodec<Uint8Array> = {
  encode: (m) => m,
  decode: (b) => Uint8Array.from(b),
};

/** Like bytesCodec, but a message starting with 0xff does not decode. */
export const strictCodec: MessageCodec<Uint8Array> = {
  encode: (m) => m,
  decode: (b) => {
    if (b[0] === 0xff) throw new Error("bad message: leading 0xff");
    return Uint8Array.from(b);
  },
};

export const SERVICE = "test.v1.Wire";

export const Wire = defineService({
  typeName: SERVICE,
  methods: {
    unary: { name: "Unary", kind: "unary", input: strictCodec, output: bytesCodec },
    serverStream: {
      name: "ServerStream",
      kind: "server_streaming",
      input: strictCodec,
      output: bytesCodec,
    },
    clientStream: {
      name: "ClientStream",
      kind: "client_streaming",
      input: strictCodec,
      output: bytesCodec,
    },
    bidi: { name: "Bidi", kind: "bidi_streaming", input: strictCodec, output: bytesCodec },
  },
});

export const b = (s: string): Buffer => Buffer.from(s, "utf8");
export const EMPTY = Buffer.alloc(0);

/** Catches a promise's rejection as a value (so it is never unhandled). */
export function settle<T>(
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Collects an async iterable; resolves with what was read and how it ended. */
export async function collect<T>(
  it: AsyncIterable<T>,
): Promise<{ items: T[]; error: unknown | undefined }> {
  const items: T[] = [];
  try {
    for await (const x of it) items.push(x);
    return { items, error: undefined };
  } catch (error) {
    return { items, error };
  }
}

/** The status code of a TtrpcError (or -1). */
export function codeOf(e: unknown): number {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "number"
    ? e.code
    : -1;
}

/** A UTF-8 view of received bytes, for readable assertions. */
export function txt(u: Uint8Array): string {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString("utf8");
}

/** A short description of a frame for assertion messages. */
export function show(f: Frame | undefined): string {
  if (f === undefined) return "no frame";
  return `frame(type=${f.type} id=${f.streamId} flags=0x${f.flags.toString(16)} len=${f.length})`;
}
