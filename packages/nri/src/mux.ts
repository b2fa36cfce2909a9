/**
 * NRI's connection multiplexer (containerd/nri `pkg/net/multiplex`): several logical byte streams
 * over one socket. Every mux frame is `conn id (u32 BE) | length (u32 BE) | payload`. There is no
 * open or close signalling: both ends simply agree on the ids (1 = the plugin's service, 2 = the
 * runtime's service), and frames for an id nobody opened are dropped, as Go does.
 * @module
 */
import { Duplex } from "node:stream";
import { MuxError } from "./errors.js";

/** Mux id of the plugin's ttrpc service (the plugin serves, the runtime calls). */
export const PLUGIN_SERVICE_CONN = 1;
/** Mux id of the runtime's ttrpc service (the runtime serves, the plugin calls). */
export const RUNTIME_SERVICE_CONN = 2;
/** Bytes of a mux frame header. */
export const MUX_HEADER_BYTES = 8;
/**
 * Go ttrpc reads each logical connection through a 4096-byte bufio.Reader, and NRI's mux fails a
 * read (ENOMEM, then "ttrpc: closed") when a queued frame is larger than the reader's buffer. Go's
 * own bufio.Writer never produces such a frame at a message start: it sends a message of at most
 * 4096 bytes in one write and a larger one as a 4096-byte head plus the rest. We do the same.
 */
export const GO_BUFIO_BYTES = 4096;
const TTRPC_HEADER_BYTES = 10;

/** Options of {@link Mux}. Every limit is in bytes. */
export interface MuxOptions {
  /** Largest incoming mux frame payload; a larger length fails the trunk (default 16 MiB, NRI 0.6's limit). */
  maxFrameBytes?: number;
  /**
   * Per logical connection: bytes received and not yet read by its consumer. The trunk is paused at
   * half of it (back-pressure on the peer); a connection going beyond it is destroyed with
   * BUFFER_FULL and its later frames are dropped (default 8 MiB).
   */
  maxBufferedBytes?: number;
  /** Largest outgoing ttrpc message (header included); larger fails that connection's write (default 16 MiB). */
  maxMessageBytes?: number;
  /** First-frame size of a large outgoing message (default {@link GO_BUFIO_BYTES}; tests only). */
  headBytes?: number;
}

function muxHeader(id: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(MUX_HEADER_BYTES);
  h.writeUInt32BE(id, 0);
  h.writeUInt32BE(length, 4);
  return h;
}

/**
 * One logical connection of a {@link Mux}: a Duplex that ttrpc's `connect` and
 * `Server.handleConnection` take as they would take a socket. Destroying it leaves the trunk and
 * the other connections alone.
 */
export class MuxConnection extends Duplex {
  /** The mux id of this connection. */
  readonly id: number;
  readonly #mux: Mux;
  // Outgoing ttrpc framing: the head of the current message (its first min(size, headBytes)
  // bytes) is gathered here; the rest of a large message passes straight through as one frame.
  readonly #head: Buffer;
  #headFill = 0;
  #messageBytes = -1;
  #tailLeft = 0;

  /** @internal Use {@link Mux.open}. */
  constructor(mux: Mux, id: number, highWaterMark: number, headBytes: number) {
    super({ readableHighWaterMark: highWaterMark, allowHalfOpen: false });
    this.#mux = mux;
    this.id = id;
    this.#head = Buffer.allocUnsafe(Math.max(headBytes, TTRPC_HEADER_BYTES));
  }

  /** Cuts a chunk of this connection's ttrpc byte stream into mux frames. */
  #frames(chunk: Buffer, out: Buffer[]): void {
    const headBytes = this.#mux.headBytes;
    let off = 0;
    while (off < chunk.length) {
      if (this.#tailLeft > 0) {
        const n = Math.min(this.#tailLeft, chunk.length - off);
        out.push(chunk.subarray(off, off + n));
        this.#tailLeft -= n;
        off += n;
        continue;
      }
      const want =
        this.#messageBytes < 0 ? TTRPC_HEADER_BYTES : Math.min(this.#messageBytes, headBytes);
      const n = Math.min(want - this.#headFill, chunk.length - off);
      chunk.copy(this.#head, this.#headFill, off, off + n);
      this.#headFill += n;
      off += n;
      if (this.#messageBytes < 0 && this.#headFill === TTRPC_HEADER_BYTES) {
        const size = TTRPC_HEADER_BYTES + this.#head.readUInt32BE(0);
        if (size > this.#mux.maxMessageBytes) {
          throw new MuxError(
            `nri mux: outgoing message of ${size} bytes on connection ${this.id} exceeds ${this.#mux.maxMessageBytes}`,
            "MESSAGE_TOO_LARGE",
          );
        }
        this.#messageBytes = size;
      }
      const size = this.#messageBytes;
      if (size >= 0 && this.#headFill === Math.min(size, headBytes)) {
        out.push(
          muxHeader(this.id, this.#headFill),
          Buffer.from(this.#head.subarray(0, this.#headFill)),
        );
        if (size > headBytes) {
          this.#tailLeft = size - headBytes;
          out.push(muxHeader(this.id, this.#tailLeft));
        }
        this.#headFill = 0;
        this.#messageBytes = -1;
      }
    }
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this._writev([{ chunk }], callback);
  }

  override _writev(
    chunks: Array<{ chunk: Buffer }>,
    callback: (error?: Error | null) => void,
  ): void {
    const out: Buffer[] = [];
    try {
      for (const { chunk } of chunks) this.#frames(chunk, out);
    } catch (err) {
      callback(err as Error);
      return;
    }
    this.#mux.send(out, callback);
  }

  override _read(): void {
    this.#mux.resumeFor(this);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // The mux has no half-close: ending our side is only a local matter.
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#mux.forget(this);
    if (this.#tailLeft > 0) {
      // A frame header went out announcing bytes that never will: the trunk's framing is broken
      // for every connection, so the whole mux goes.
      this.#mux.close(
        new MuxError(
          `nri mux: connection ${this.id} closed in the middle of a frame (${this.#tailLeft} bytes missing)`,
          "TRUNK_CLOSED",
          { cause: error ?? undefined },
        ),
      );
    }
    callback(error);
  }
}

/**
 * Multiplexes logical connections over one trunk Duplex (a unix socket, or fd 3 when the runtime
 * launched the plugin). Closing the trunk, or the trunk failing, destroys every connection.
 *
 * @example
 * const mux = new Mux(socket);
 * server.handleConnection(mux.open(PLUGIN_SERVICE_CONN));
 * const runtime = await connect(mux.open(RUNTIME_SERVICE_CONN));
 */
export class Mux {
  /** The underlying connection. */
  readonly trunk: Duplex;
  /** @internal */ readonly headBytes: number;
  /** @internal */ readonly maxMessageBytes: number;
  readonly #maxFrameBytes: number;
  readonly #maxBufferedBytes: number;
  readonly #conns = new Map<number, MuxConnection>();
  readonly #paused = new Set<MuxConnection>();
  readonly #header = Buffer.allocUnsafe(MUX_HEADER_BYTES);
  #headerFill = 0;
  #frameLeft = 0;
  #frameConn: MuxConnection | undefined;
  #closed = false;
  #error: Error | undefined;
  #resolveClosed!: (error: Error | undefined) => void;
  /** Settles once the mux closed, with why (undefined: closed locally or by a clean end). */
  readonly closed: Promise<Error | undefined>;

  constructor(trunk: Duplex, options: MuxOptions = {}) {
    this.trunk = trunk;
    this.headBytes = options.headBytes ?? GO_BUFIO_BYTES;
    this.maxMessageBytes = options.maxMessageBytes ?? 16 << 20;
    this.#maxFrameBytes = options.maxFrameBytes ?? 16 << 20;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 8 << 20;
    for (const [name, v] of Object.entries({
      headBytes: this.headBytes,
      maxMessageBytes: this.maxMessageBytes,
      maxFrameBytes: this.#maxFrameBytes,
      maxBufferedBytes: this.#maxBufferedBytes,
    })) {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RangeError(`nri mux: ${name} must be a positive integer`);
    }
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    trunk.on("data", (chunk: Buffer) => this.#onData(chunk));
    trunk.on("end", () => this.close());
    trunk.on("error", (err: Error) =>
      this.close(
        new MuxError(`nri mux: trunk failed: ${err.message}`, "TRUNK_CLOSED", { cause: err }),
      ),
    );
    trunk.on("close", () => this.close());
    trunk.on("drain", () => this.#drained());
    if (trunk.destroyed) process.nextTick(() => this.close());
  }

  /** True once the mux is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Opens (or returns the already open) logical connection `id` (1 to 2^32-1; 0 is reserved). */
  open(id: number): MuxConnection {
    if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) {
      throw new MuxError(`nri mux: invalid connection id ${id} (0 is reserved)`, "INVALID_CONN_ID");
    }
    if (this.#closed) throw new MuxError("nri mux: closed", "TRUNK_CLOSED", { cause: this.#error });
    let conn = this.#conns.get(id);
    if (!conn) {
      conn = new MuxConnection(this, id, Math.max(1, this.#maxBufferedBytes >> 1), this.headBytes);
      this.#conns.set(id, conn);
    }
    return conn;
  }

  /** Closes the trunk and every connection; `error` (if any) is what the connections report. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    for (const conn of [...this.#conns.values()]) conn.destroy(error);
    this.#conns.clear();
    this.#paused.clear();
    const waiters = this.#drainWaiters.splice(0);
    const fail = error ?? new MuxError("nri mux: closed", "TRUNK_CLOSED");
    for (const w of waiters) w(fail);
    this.trunk.destroy();
    this.#resolveClosed(error);
  }

  #onData(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.#closed) {
      if (this.#frameLeft === 0) {
        const n = Math.min(MUX_HEADER_BYTES - this.#headerFill, chunk.length - off);
        chunk.copy(this.#header, this.#headerFill, off, off + n);
        this.#headerFill += n;
        off += n;
        if (this.#headerFill < MUX_HEADER_BYTES) break;
        this.#headerFill = 0;
        const id = this.#header.readUInt32BE(0);
        const length = this.#header.readUInt32BE(4);
        if (length > this.#maxFrameBytes) {
          this.close(
            new MuxError(
              `nri mux: frame of ${length} bytes for connection ${id} exceeds ${this.#maxFrameBytes}`,
              "FRAME_TOO_LARGE",
            ),
          );
          return;
        }
        this.#frameLeft = length;
        this.#frameConn = this.#conns.get(id);
        continue;
      }
      const n = Math.min(this.#frameLeft, chunk.length - off);
      const conn = this.#frameConn;
      if (conn && !conn.destroyed) this.#deliver(conn, chunk.subarray(off, off + n));
      this.#frameLeft -= n;
      off += n;
    }
  }

  #deliver(conn: MuxConnection, data: Buffer): void {
    const more = conn.push(data);
    if (conn.readableLength > this.#maxBufferedBytes) {
      conn.destroy(
        new MuxError(
          `nri mux: connection ${conn.id} holds ${conn.readableLength} unread bytes, over ${this.#maxBufferedBytes}`,
          "BUFFER_FULL",
        ),
      );
      return;
    }
    if (!more && !this.#paused.has(conn)) {
      this.#paused.add(conn);
      this.trunk.pause();
    }
  }

  /** @internal A connection's consumer wants more. */
  resumeFor(conn: MuxConnection): void {
    if (this.#paused.delete(conn) && this.#paused.size === 0 && !this.#closed) this.trunk.resume();
  }

  /** @internal A connection was destroyed: its later frames are dropped. */
  forget(conn: MuxConnection): void {
    if (this.#conns.get(conn.id) === conn) this.#conns.delete(conn.id);
    this.resumeFor(conn);
  }

  readonly #drainWaiters: Array<(error?: Error) => void> = [];

  /** @internal Writes frames; `callback` runs once the trunk accepted them (after a drain if full). */
  send(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    if (this.#closed) {
      callback(this.#error ?? new MuxError("nri mux: closed", "TRUNK_CLOSED"));
      return;
    }
    let ok = true;
    if (buffers.length > 0) {
      const trunk = this.trunk;
      trunk.cork();
      for (const b of buffers) ok = trunk.write(b);
      trunk.uncork();
    }
    if (ok) callback();
    else this.#drainWaiters.push((error) => callback(error));
  }

  #drained(): void {
    const waiters = this.#drainWaiters.splice(0);
    for (const w of waiters) w();
  }
}
