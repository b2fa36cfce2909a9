/**
 * The byte transport under a connection, shared by client and server: reads frames from any
 * Duplex and writes frames to it, the small frames of one tick copied into one write.
 * @module
 */
import type { Duplex } from "node:stream";
import { Code, closedError, TtrpcError } from "./errors.js";
import { type FrameChunks, FrameReader, type FrameSink } from "./frame.js";
import { DEFAULT_FRAME_TIMEOUT_MS, DEFAULT_MAX_WRITE_QUEUE_BYTES } from "./limits.js";

/** What a channel reports to the connection that owns it. */
export interface ChannelHandler extends FrameSink {
  /** The channel closed: `error` is why, or undefined for a local close. Called once. */
  onClose(error: TtrpcError | undefined): void;
  /** The write queue is back under its cap, after {@link Channel.watchWritable}. */
  onWritable(): void;
}

/** The bounds of a channel. */
export interface ChannelLimits {
  /** Largest frame data sent or accepted. */
  maxMessageBytes: number;
  /** Bytes queued for writing past which the channel reports itself congested (default 16 MiB). */
  maxWriteQueueBytes?: number;
  /** How long a frame that started arriving may take to complete (default 30 s). */
  frameTimeoutMs?: number;
}

function frameTimedOut(channel: Channel): void {
  // Decided after the poll phase: bytes that waited in the kernel while the loop was busy count.
  setImmediate(checkFrame, channel);
}

function checkFrame(channel: Channel): void {
  channel.checkFrame();
}

/**
 * Chunks smaller than this are copied together into one write (a 64-byte unary frame costs less
 * copied than written on its own); larger ones go out as they are: copying 1 KiB stream frames
 * into one big buffer cost 10–18% more CPU per message than writing them (measured, issue 9).
 */
const COALESCE_LIMIT = 512;
/** A run of copied chunks stays within Node's Buffer pool: no allocation of its own. */
const RUN_LIMIT = 4096;

function flushTick(channel: Channel): void {
  channel.flush();
}

/** `chunks[start, end)`, `bytes` long, copied into one buffer. */
function coalesce(chunks: Uint8Array[], start: number, end: number, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let off = 0;
  for (let i = start; i < end; i++) {
    const chunk = chunks[i] as Uint8Array;
    out.set(chunk, off);
    off += chunk.length;
  }
  return out;
}

/** Frames in and out of one Duplex. */
export class Channel {
  readonly socket: Duplex;
  /** Largest frame data sent or accepted on this channel. */
  readonly maxMessageBytes: number;
  /** The write queue's cap (never below the socket's high-water mark, so a `drain` ends it). */
  readonly maxWriteQueueBytes: number;
  readonly #frameTimeoutMs: number;
  #frameTimer: NodeJS.Timeout | undefined;
  /** `FrameReader.started` of the partial frame being watched, and when it was first seen partial. */
  #frameWatched = 0;
  #frameSince = 0;
  #watchingWritable = false;
  #paused = false;
  readonly #handler: ChannelHandler;
  readonly #reader: FrameReader;
  /** Frames queued this tick, and their size. */
  readonly #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #needDrain = false;
  #drain: Promise<void> | undefined;
  #resolveDrain: (() => void) | undefined;
  #closed = false;
  #error: TtrpcError | undefined;

  constructor(socket: Duplex, handler: ChannelHandler, limits: ChannelLimits) {
    this.socket = socket;
    const maxMessageBytes = limits.maxMessageBytes;
    this.maxMessageBytes = maxMessageBytes;
    this.maxWriteQueueBytes = Math.max(
      limits.maxWriteQueueBytes ?? DEFAULT_MAX_WRITE_QUEUE_BYTES,
      socket.writableHighWaterMark,
    );
    this.#frameTimeoutMs = limits.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS;
    this.#handler = handler;
    this.#reader = new FrameReader(handler, maxMessageBytes, false);
    socket.on("data", (chunk: Buffer | string) => {
      if (this.#closed) return;
      const reader = this.#reader;
      reader.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      // A read that ends on a frame boundary leaves the timer armed: it lapses on its own, which
      // costs less than a clearTimeout and a setTimeout for every other read of a stream.
      if (reader.midFrame && reader.started !== this.#frameWatched) this.#watchFrame();
    });
    socket.on("end", () => {
      // A peer that is not ttrpc usually ends here: the reason goes in the message, not only the cause.
      const why = this.#reader.midFrame ? "connection ended in the middle of a frame" : undefined;
      this.close(closedError(why === undefined ? undefined : new Error(why), why));
    });
    socket.on("error", (err: Error) => this.close(closedError(err)));
    socket.on("close", () => this.close(closedError()));
    socket.on("drain", () => this.#drained());
    // A transport that died before we were given it sends no more events: notice it now.
    if (socket.destroyed || socket.readableEnded) {
      process.nextTick(() => this.close(closedError()));
    }
  }

  /** Bytes queued for writing: this tick's frames and what the socket still holds. */
  get queuedBytes(): number {
    return this.socket.writableLength + this.#pendingBytes;
  }

  /** True while more than {@link Channel.maxWriteQueueBytes} are queued for writing. */
  get congested(): boolean {
    return this.socket.writableLength + this.#pendingBytes > this.maxWriteQueueBytes;
  }

  /** Asks for one `onWritable` call once the write queue is back under its cap. */
  watchWritable(): void {
    this.#watchingWritable = true;
  }

  #notifyWritable(): void {
    if (!this.#watchingWritable || this.#closed || this.congested) return;
    this.#watchingWritable = false;
    this.#handler.onWritable();
  }

  /** Stops reading from the socket (the owner holds what it has) until {@link resumeReading}. */
  pauseReading(): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    this.socket.pause();
  }

  /** Reads from the socket again. */
  resumeReading(): void {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    this.socket.resume();
  }

  /** Starts the clock of the partial frame being read, and arms the frame timer if it is not. */
  #watchFrame(): void {
    if (!(this.#frameTimeoutMs < Number.POSITIVE_INFINITY)) return;
    this.#frameWatched = this.#reader.started;
    this.#frameSince = performance.now();
    if (this.#frameTimer === undefined) this.#armFrameTimer(this.#frameTimeoutMs);
  }

  #armFrameTimer(ms: number): void {
    this.#frameTimer = setTimeout(frameTimedOut, ms, this);
    this.#frameTimer.unref();
  }

  #clearFrameTimer(): void {
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
  }

  /** The frame timer fired (internal): closes the connection if that frame is still partial. */
  checkFrame(): void {
    if (this.#closed || this.#frameTimer === undefined) return;
    const reader = this.#reader;
    if (!reader.midFrame) {
      this.#clearFrameTimer();
      return;
    }
    if (reader.started !== this.#frameWatched || this.#paused) {
      // Another frame, or one we stopped reading ourselves: its own full time.
      this.#frameWatched = reader.started;
      this.#frameSince = performance.now();
      this.#armFrameTimer(this.#frameTimeoutMs);
      return;
    }
    // The timer may have been armed for an earlier frame: this one gets its full time.
    const left = this.#frameSince + this.#frameTimeoutMs - performance.now();
    if (left >= 1) {
      this.#armFrameTimer(left);
      return;
    }
    this.close(
      new TtrpcError(
        `ttrpc: a frame did not complete within ${this.#frameTimeoutMs} ms`,
        Code.Unavailable,
      ),
    );
  }

  /** True once the channel is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Why the channel closed (undefined while open, or after a plain local close). */
  get error(): TtrpcError | undefined {
    return this.#error;
  }

  /**
   * Queues one frame. The frames of one tick go out together: small ones copied into one buffer
   * (one `write` for many frames), large chunks as they are. Returns false when the socket's
   * buffer is full: the caller should `await drained()` before streaming more.
   */
  send(chunks: FrameChunks): boolean {
    if (this.#closed) return false;
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(flushTick, this);
    }
    const pending = this.#pending;
    if (chunks instanceof Uint8Array) {
      pending.push(chunks);
      this.#pendingBytes += chunks.length;
    } else {
      for (const chunk of chunks) {
        pending.push(chunk);
        this.#pendingBytes += chunk.length;
      }
    }
    const socket = this.socket;
    if (socket.writableLength + this.#pendingBytes >= socket.writableHighWaterMark) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /** Writes out what this tick queued (runs on `process.nextTick`, and before a close). */
  flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    const count = pending.length;
    if (count === 0) return;
    this.#pendingBytes = 0;
    const socket = this.socket;
    let ok = true;
    if (count === 1) {
      ok = socket.write(pending[0] as Uint8Array);
    } else {
      socket.cork();
      let runStart = 0;
      let runBytes = 0;
      for (let i = 0; i <= count; i++) {
        const chunk = i < count ? (pending[i] as Uint8Array) : undefined;
        const small = chunk !== undefined && chunk.length < COALESCE_LIMIT;
        if (small && runBytes + chunk.length <= RUN_LIMIT) {
          runBytes += chunk.length;
          continue;
        }
        // The run ends here: one chunk goes out as it is, several copied into one buffer.
        if (i - runStart === 1) ok = socket.write(pending[runStart] as Uint8Array) && ok;
        else if (i - runStart > 1)
          ok = socket.write(coalesce(pending, runStart, i, runBytes)) && ok;
        if (small) {
          // A small chunk the run had no room for starts the next one.
          runStart = i;
          runBytes = chunk.length;
        } else {
          if (chunk !== undefined) ok = socket.write(chunk) && ok;
          runStart = i + 1;
          runBytes = 0;
        }
      }
      socket.uncork();
    }
    pending.length = 0;
    if (!ok) this.#needDrain = true;
    else if (this.#watchingWritable) this.#notifyWritable();
  }

  /** Resolves when the socket can take more data (at once if it can now or the channel closed). */
  drained(): Promise<void> {
    if (!this.#needDrain || this.#closed) return Promise.resolve();
    this.#drain ??= new Promise<void>((resolve) => {
      this.#resolveDrain = resolve;
    });
    return this.#drain;
  }

  #drained(): void {
    this.#needDrain = false;
    const resolve = this.#resolveDrain;
    this.#drain = undefined;
    this.#resolveDrain = undefined;
    resolve?.();
    if (this.#watchingWritable) this.#notifyWritable();
  }

  /** Closes the channel and destroys the socket; `error` is reported as the reason. */
  close(error?: TtrpcError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    if (this.#frameTimer !== undefined) this.#clearFrameTimer();
    this.flush();
    this.#drained();
    // Frames already queued are flushed before the socket goes away.
    if (this.socket.writableLength > 0 && !this.socket.destroyed && error === undefined) {
      this.socket.end(() => this.socket.destroy());
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else {
      this.socket.destroy();
    }
    this.#handler.onClose(error);
  }
}
