/**
 * Raw ttrpc bytes for the stress suite, written independently of the engine so an attack does not
 * depend on the code it attacks: frame headers, a Request envelope encoder, the few interop
 * messages the attacks send (both peers serve test/interop/proto/interop.proto), and a raw
 * connection that counts what comes back.
 */
import { createConnection, type Socket } from "node:net";
import { encodeFrame, FrameParser } from "../../interop/frames.js";

export { encodeFrame };

/** Frame types and flags (PROTOCOL.md). */
export const T = { Request: 1, Response: 2, Data: 3 } as const;
export const F = { RemoteClosed: 1, RemoteOpen: 2, NoData: 4 } as const;

/** The interop services both targets serve. */
export const STREAMING = "ttrpc.interop.v1.Streaming";
export const INTEROP = "ttrpc.interop.v1.Interop";
/** The TypeScript-only service of proc/server.ts (raw byte codecs). */
export const STRESS = "ttrpc.stress.v1.Stress";

/** A protobuf varint (non-negative, up to 2^53, or a bigint for the full 64 bits). */
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

/** A length-delimited field (wire type 2). */
export function bytesField(field: number, data: Uint8Array | string): Buffer {
  const b = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([varint(field * 8 + 2), varint(b.length), b]);
}

/** A varint field (wire type 0). */
export function varintField(field: number, value: number | bigint): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}

/** What a Request envelope carries. */
export interface RequestParts {
  service: string;
  method: string;
  payload?: Uint8Array;
  timeoutNano?: number | bigint;
  metadata?: readonly (readonly [string, string])[];
}

/** Encodes a ttrpc Request envelope. */
export function request(parts: RequestParts): Buffer {
  const chunks = [bytesField(1, parts.service), bytesField(2, parts.method)];
  if (parts.payload !== undefined) chunks.push(bytesField(3, parts.payload));
  if (parts.timeoutNano !== undefined) chunks.push(varintField(4, parts.timeoutNano));
  for (const [k, v] of parts.metadata ?? []) {
    chunks.push(bytesField(5, Buffer.concat([bytesField(1, k), bytesField(2, v)])));
  }
  return Buffer.concat(chunks);
}

/** ttrpc.interop.v1.EchoPayload{seq, msg}. */
export function echoPayload(seq: number, msg: string | Uint8Array = ""): Buffer {
  const parts: Buffer[] = [];
  if (seq !== 0) parts.push(varintField(1, seq));
  if (msg.length > 0) parts.push(bytesField(2, msg));
  return Buffer.concat(parts);
}

/** A whole unary Streaming.Echo request frame. */
export function echoFrame(streamId: number, seq = 1, msg = "canary"): Buffer {
  const body = request({ service: STREAMING, method: "Echo", payload: echoPayload(seq, msg) });
  return encodeFrame(streamId, T.Request, 0, body);
}

/** A whole unary Interop.Payload{size} request frame (the reply carries `size` bytes). */
export function payloadFrame(streamId: number, size: number): Buffer {
  const payload = size === 0 ? Buffer.alloc(0) : varintField(1, size);
  return encodeFrame(
    streamId,
    T.Request,
    0,
    request({ service: INTEROP, method: "Payload", payload }),
  );
}

/** A raw client connection that reads (or refuses to read) what the peer sends. */
export class RawConn {
  readonly socket: Socket;
  readonly parser = new FrameParser();
  bytesIn = 0;
  closed = false;
  error: Error | undefined;
  readonly #parse: boolean;
  readonly #waiters = new Map<number, (type: number) => void>();
  readonly whenClosed: Promise<void>;

  /** `parse: false` counts bytes without keeping frames (for floods). */
  constructor(path: string, opts: { read?: boolean; parse?: boolean } = {}) {
    this.#parse = opts.parse ?? true;
    this.socket = createConnection(path);
    this.socket.on("error", (e) => {
      this.error = e;
    });
    this.whenClosed = new Promise((resolve) =>
      this.socket.once("close", () => {
        this.closed = true;
        for (const w of this.#waiters.values()) w(-1);
        this.#waiters.clear();
        resolve();
      }),
    );
    if (opts.read === false) this.socket.pause();
    else this.socket.on("data", (chunk: Buffer) => this.#data(chunk));
  }

  #data(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    if (!this.#parse) return;
    this.parser.push(chunk);
    for (const f of this.parser.frames.splice(0)) {
      const w = this.#waiters.get(f.streamId);
      if (w !== undefined && f.type !== T.Data) {
        this.#waiters.delete(f.streamId);
        w(f.type);
      }
    }
  }

  /** Resolves once connected (rejects on a connect error). */
  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("error", reject);
    });
  }

  /** Resolves with the type of the first non-Data frame on streamId, or -1 if the connection closed. */
  reply(streamId: number): Promise<number> {
    if (this.closed) return Promise.resolve(-1);
    return new Promise((resolve) => this.#waiters.set(streamId, resolve));
  }

  /** Writes and resolves once the bytes were handed to the kernel, or `false` after stallMs. */
  write(data: Uint8Array, stallMs = 2000): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(false);
      const timer = setTimeout(() => resolve(false), stallMs);
      this.socket.write(data, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A promise for `ms` milliseconds (unref'd timers keep nothing alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
