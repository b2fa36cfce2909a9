/**
 * The byte transport under a connection, shared by client and server: reads frames from any
 * Duplex and writes frames to it, batching the frames of one tick into one `writev`.
 * @module
 */
import type { Duplex } from "node:stream";
import { closedError, type TtrpcError } from "./errors.js";
import { type FrameChunks, FrameReader, type FrameSink } from "./frame.js";

/** What a channel reports to the connection that owns it. */
export interface ChannelHandler extends FrameSink {
  /** The channel closed: `error` is why, or undefined for a local close. Called once. */
  onClose(error: TtrpcError | undefined): void;
}

function uncork(channel: Channel): void {
  channel.flush();
}

/** Frames in and out of one Duplex. */
export class Channel {
  readonly socket: Duplex;
  /** Largest frame data sent or accepted on this channel. */
  readonly maxMessageBytes: number;
  readonly #handler: ChannelHandler;
  readonly #reader: FrameReader;
  #corked = false;
  #needDrain = false;
  #drain: Promise<void> | undefined;
  #resolveDrain: (() => void) | undefined;
  #closed = false;
  #error: TtrpcError | undefined;

  constructor(socket: Duplex, handler: ChannelHandler, maxMessageBytes: number) {
    this.socket = socket;
    this.maxMessageBytes = maxMessageBytes;
    this.#handler = handler;
    this.#reader = new FrameReader(handler, maxMessageBytes);
    socket.on("data", (chunk: Buffer | string) => {
      if (this.#closed) return;
      this.#reader.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    });
    socket.on("end", () => {
      const cut = this.#reader.midFrame;
      this.close(
        closedError(cut ? new Error("connection ended in the middle of a frame") : undefined),
      );
    });
    socket.on("error", (err: Error) => this.close(closedError(err)));
    socket.on("close", () => this.close(closedError()));
    socket.on("drain", () => this.#drained());
    // A transport that died before we were given it sends no more events: notice it now.
    if (socket.destroyed || socket.readableEnded) {
      process.nextTick(() => this.close(closedError()));
    }
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
   * Queues one frame. Frames queued in the same tick go out in one write. Returns false when the
   * socket's buffer is full: the caller should `await drained()` before streaming more.
   */
  send(chunks: FrameChunks): boolean {
    if (this.#closed) return false;
    const socket = this.socket;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(uncork, this);
    }
    let ok = true;
    if (chunks instanceof Uint8Array) ok = socket.write(chunks);
    else for (const chunk of chunks) ok = socket.write(chunk);
    if (!ok) this.#needDrain = true;
    return ok;
  }

  /** Writes out what this tick queued (internal; runs on `process.nextTick`). */
  flush(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.socket.uncork();
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
  }

  /** Closes the channel and destroys the socket; `error` is reported as the reason. */
  close(error?: TtrpcError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
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
