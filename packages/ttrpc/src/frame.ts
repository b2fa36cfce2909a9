/**
 * Framing: the 10-byte ttrpc header and an incremental reader that cuts a byte stream into frames.
 *
 * | bytes | field                          |
 * |-------|--------------------------------|
 * | 0–3   | data length, uint32 big-endian |
 * | 4–7   | stream id, uint32 big-endian   |
 * | 8     | message type                   |
 * | 9     | flags                          |
 * @module
 */

/** Size of the frame header in bytes. */
export const HEADER_LENGTH = 10;

/** The largest frame data every Go and Rust peer accepts: 4 MiB (exactly 4 MiB passes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 << 20;

/** Frame types. */
export const MessageType = {
  Request: 1,
  Response: 2,
  Data: 3,
} as const;

/** Frame flags; their meaning depends on the frame type. */
export const Flag = {
  /** Request, Data: the sender will send no more data. */
  RemoteClosed: 0x1,
  /** Request: the sender will send Data frames (client- or bidi-streaming). */
  RemoteOpen: 0x2,
  /** Data: the frame carries no message. */
  NoData: 0x4,
} as const;

/** One encoded frame: a single buffer (the common case, no array), or chunks written together. */
export type FrameChunks = Uint8Array | Uint8Array[];

/** Writes a header into `target` at `offset`. */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  length: number,
  streamId: number,
  type: number,
  flags: number,
): void {
  target[offset] = length >>> 24;
  target[offset + 1] = length >>> 16;
  target[offset + 2] = length >>> 8;
  target[offset + 3] = length;
  target[offset + 4] = streamId >>> 24;
  target[offset + 5] = streamId >>> 16;
  target[offset + 6] = streamId >>> 8;
  target[offset + 7] = streamId;
  target[offset + 8] = type;
  target[offset + 9] = flags;
}

/** Receives what a {@link FrameReader} cuts out of the byte stream. */
export interface FrameSink {
  /**
   * A whole frame: `data[start, end)`. With views (the default) `data` is the frame's own view
   * (`start` 0, `end` its length); without, it may be the socket's whole chunk. Either way its
   * bytes are never reused.
   */
  frame(
    streamId: number,
    type: number,
    flags: number,
    data: Buffer,
    start: number,
    end: number,
  ): void;
  /** A frame whose length exceeds the limit; its data is being skipped without buffering. */
  oversize(streamId: number, type: number, flags: number, length: number): void;
}

/**
 * Cuts chunks into frames. A frame that lies inside one chunk is delivered as a view (no copy);
 * one that spans chunks is copied once into a buffer of its exact size. An oversize frame is
 * reported as soon as its header is read, and its data is skipped as it arrives: a header
 * announcing 4 GiB allocates nothing.
 */
export class FrameReader {
  readonly #sink: FrameSink;
  readonly #max: number;
  readonly #header = Buffer.alloc(HEADER_LENGTH);
  #headerFill = 0;
  #body: Buffer | undefined;
  #bodyFill = 0;
  #skip = 0;
  #streamId = 0;
  #type = 0;
  #flags = 0;

  readonly #views: boolean;

  /**
   * `views` false hands the sink the chunk and the frame's bounds instead of a view of the frame:
   * one object less per frame for a sink that decodes in place.
   */
  constructor(sink: FrameSink, maxMessageBytes: number, views = true) {
    this.#sink = sink;
    this.#max = maxMessageBytes;
    this.#views = views;
  }

  /** Frames whose header started to arrive: a frame-timeout tells one partial frame from the next. */
  started = 0;

  /** True while a frame is partly read: a connection that ends now was cut short. */
  get midFrame(): boolean {
    return this.#headerFill > 0 || this.#body !== undefined || this.#skip > 0;
  }

  /** Feeds one chunk of the byte stream. */
  push(chunk: Buffer): void {
    const end = chunk.length;
    let off = 0;
    while (off < end) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, end - off);
        this.#skip -= n;
        off += n;
        continue;
      }
      const body = this.#body;
      if (body !== undefined) {
        const n = Math.min(body.length - this.#bodyFill, end - off);
        chunk.copy(body, this.#bodyFill, off, off + n);
        this.#bodyFill += n;
        off += n;
        if (this.#bodyFill === body.length) {
          this.#body = undefined;
          this.#sink.frame(this.#streamId, this.#type, this.#flags, body, 0, body.length);
        }
        continue;
      }
      let length: number;
      if (this.#headerFill === 0 && end - off >= HEADER_LENGTH) {
        this.started++;
        length = chunk.readUInt32BE(off);
        this.#streamId = chunk.readUInt32BE(off + 4);
        this.#type = chunk[off + 8] as number;
        this.#flags = chunk[off + 9] as number;
        off += HEADER_LENGTH;
      } else {
        if (this.#headerFill === 0) this.started++;
        const n = Math.min(HEADER_LENGTH - this.#headerFill, end - off);
        chunk.copy(this.#header, this.#headerFill, off, off + n);
        this.#headerFill += n;
        off += n;
        if (this.#headerFill < HEADER_LENGTH) return;
        this.#headerFill = 0;
        const h = this.#header;
        length = h.readUInt32BE(0);
        this.#streamId = h.readUInt32BE(4);
        this.#type = h[8] as number;
        this.#flags = h[9] as number;
      }
      if (length > this.#max) {
        this.#skip = length;
        this.#sink.oversize(this.#streamId, this.#type, this.#flags, length);
      } else if (end - off >= length) {
        const start = off;
        off += length;
        if (this.#views) {
          const data = chunk.subarray(start, off);
          this.#sink.frame(this.#streamId, this.#type, this.#flags, data, 0, length);
        } else this.#sink.frame(this.#streamId, this.#type, this.#flags, chunk, start, off);
      } else {
        this.#body = Buffer.allocUnsafe(length);
        this.#bodyFill = 0;
      }
    }
  }
}
