/**
 * The inbound side of a stream: a bounded queue of received messages read as an async iterator;
 * and its writable twin, the imperative way to feed a request stream.
 *
 * ttrpc has no flow control, and a connection's frames arrive in one byte stream, so a stream
 * whose consumer stops reading must not stop the socket (that would block every other call).
 * Instead a full queue starts a grace timer; if the consumer has not caught up when it fires,
 * only that stream fails with RESOURCE_EXHAUSTED ("stream buffer full"), as Go ttrpc does.
 * Meanwhile the queue keeps buffering, up to {@link OVERFLOW_FACTOR} times its size in messages
 * and up to its size in bytes: past either the stream fails at once, so a fast producer cannot
 * grow memory without bound. That hard check runs after the frames of one socket read have all
 * been delivered (they arrive synchronously, before the reader gets a turn): a reader that keeps
 * up is never failed, however many small messages one read brings.
 * @module
 */
import { Code, TtrpcError } from "./errors.js";
import { DEFAULT_CONNECTION_BUFFER_BYTES, DEFAULT_STREAM_BUFFER_BYTES } from "./limits.js";

/** Default number of received messages a stream buffers before its grace timer starts. */
export const DEFAULT_STREAM_BUFFER = 64;
/** Default time a full stream buffer may stay full before the stream fails. */
export const DEFAULT_STREAM_BUFFER_TIMEOUT_MS = 1000;

/** A queue this many times over its size fails without waiting for the grace timer. */
export const OVERFLOW_FACTOR = 16;

/** Bounds of a stream's inbound queue. */
export interface QueueLimits {
  /** Messages buffered before the grace timer starts (default 64). */
  streamBufferSize?: number;
  /** How long the buffer may stay full before the stream fails (default 1000 ms). */
  streamBufferTimeoutMs?: number;
  /**
   * Bytes of received messages a stream buffers for a reader that is behind (default 16 MiB).
   * Past it, once the read that brought them has been delivered, the stream fails with
   * RESOURCE_EXHAUSTED "stream buffer full".
   */
  streamBufferBytes?: number;
  /**
   * Bytes that all the streams of one connection buffer for readers that are behind (default
   * 64 MiB). Past it, once the read that brought them has been delivered, every stream of the
   * connection that still holds unread messages fails with RESOURCE_EXHAUSTED "connection buffer
   * full"; streams whose readers keep up go on. On a server the requests of the unary calls in
   * flight count too: past it (with what the streams buffer) the connection stops reading until
   * calls end; no call fails for it.
   */
  connectionBufferBytes?: number;
}

/** What the inbound queues of one connection hold together, against their cap. */
export interface InboundBudget {
  bytes: number;
  readonly max: number;
}

/** A connection's inbound budget, from its limits. */
export function inboundBudget(limits: QueueLimits): InboundBudget {
  return { bytes: 0, max: limits.connectionBufferBytes ?? DEFAULT_CONNECTION_BUFFER_BYTES };
}

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

const STREAM_FULL = "stream buffer full";

function checkOverflow(queue: MessageQueue<unknown>): void {
  queue.checkOverflow();
}

/**
 * A queue of messages with one reader. `push`, `end` and `fail` are the producer's side;
 * `next`/`return` the consumer's. `onOverflow` runs when the queue stayed full too long;
 * `onReturn` when the consumer stops early (a `break` out of `for await`).
 */
export class MessageQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  /** The byte size of each item, aligned with `#items`. */
  #sizes: number[] = [];
  #bytes = 0;
  #checkScheduled = false;
  #head = 0;
  #waiter: Waiter<T> | undefined;
  #ended = false;
  #stoppedReading = false;
  #error: unknown;
  #timer: NodeJS.Timeout | undefined;
  readonly #capacity: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  /** The connection's budget while the queue is open (an ended queue no longer counts). */
  #budget: InboundBudget | undefined;
  /** The queue went past a bound: `reason` says which ("stream buffer full" or "connection buffer full"). */
  onOverflow: ((reason: string) => void) | undefined;
  onReturn: (() => void) | undefined;

  /** `budget` is the connection's, shared by its streams' queues. */
  constructor(limits?: QueueLimits, budget?: InboundBudget) {
    this.#budget = budget;
    this.#capacity = limits?.streamBufferSize ?? DEFAULT_STREAM_BUFFER;
    this.#timeoutMs = limits?.streamBufferTimeoutMs ?? DEFAULT_STREAM_BUFFER_TIMEOUT_MS;
    this.#maxBytes = limits?.streamBufferBytes ?? DEFAULT_STREAM_BUFFER_BYTES;
  }

  /** Bytes of the messages waiting to be read (as given to `push`). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Messages waiting to be read. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** True once `end` or `fail` was called, or the reader stopped. */
  get closed(): boolean {
    return this.#ended;
  }

  /** True once the reader stopped early (`return()`, a `break` out of `for await`). */
  get stoppedReading(): boolean {
    return this.#stoppedReading;
  }

  /** Queues a message of `bytes` bytes (its encoded size), or hands it to a waiting reader. */
  push(item: T, bytes = 0): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve({ done: false, value: item });
      return;
    }
    this.#items.push(item);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
    const budget = this.#budget;
    if (budget !== undefined) {
      budget.bytes += bytes;
      if (budget.bytes > budget.max) this.#scheduleCheck();
    }
    // The common case (a reader not far behind) is a few comparisons.
    if (this.#bytes > this.#maxBytes) this.#scheduleCheck();
    const length = this.#items.length - this.#head;
    if (length >= this.#capacity) this.#full(length);
  }

  /** The queue holds `length` ≥ its size: start the grace timer; far past it, judge after the read. */
  #full(length: number): void {
    if (length >= this.#capacity * OVERFLOW_FACTOR) this.#scheduleCheck();
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.length >= this.#capacity && !this.#ended) this.onOverflow?.(STREAM_FULL);
      }, this.#timeoutMs);
      this.#timer.unref?.();
    }
  }

  /** Judged once the frames of this read are delivered and the reader had its turn. */
  #scheduleCheck(): void {
    if (this.#checkScheduled) return;
    this.#checkScheduled = true;
    setImmediate(checkOverflow, this);
  }

  /** The hard bounds (internal; runs after the read that crossed one): fail if still past. */
  checkOverflow(): void {
    this.#checkScheduled = false;
    if (this.#ended) return;
    if (this.length >= this.#capacity * OVERFLOW_FACTOR || this.#bytes > this.#maxBytes) {
      this.onOverflow?.(STREAM_FULL);
      return;
    }
    const budget = this.#budget;
    if (budget !== undefined && budget.bytes > budget.max && this.#bytes > 0) {
      this.onOverflow?.("connection buffer full");
    }
  }

  /** No more messages: the reader gets what is buffered, then done. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#detach();
    this.#clearTimer();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve(DONE);
  }

  /**
   * The stream failed. With `discard` the buffered messages are dropped and the reader sees the
   * error at once (a local cancel); otherwise it reads what was received first.
   */
  fail(error: unknown, discard = false): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#detach();
    this.#error = error;
    this.#clearTimer();
    if (discard) this.#clear();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }

  /** The queue is over: what it still holds leaves the connection's budget. */
  #detach(): void {
    if (this.#budget === undefined) return;
    this.#budget.bytes -= this.#bytes;
    this.#budget = undefined;
  }

  #clear(): void {
    this.#items = [];
    this.#sizes = [];
    this.#bytes = 0;
    this.#head = 0;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head] as T;
      const size = this.#sizes[this.#head] as number;
      this.#bytes -= size;
      if (this.#budget !== undefined) this.#budget.bytes -= size;
      this.#items[this.#head++] = undefined as T;
      if (this.#head === this.#items.length) {
        this.#items = [];
        this.#sizes = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#sizes = this.#sizes.slice(this.#head);
        this.#head = 0;
      }
      if (this.#timer !== undefined && this.length < this.#capacity) this.#clearTimer();
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) {
      if (this.#error !== undefined) {
        const error = this.#error;
        // Report the error once; later reads see the end.
        this.#error = undefined;
        return Promise.reject(error);
      }
      return Promise.resolve(DONE);
    }
    if (this.#waiter !== undefined) {
      return Promise.reject(
        new TtrpcError("ttrpc: concurrent reads of one stream", Code.FailedPrecondition),
      );
    }
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    const wasOpen = !this.#ended;
    this.#ended = true;
    this.#detach();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve(DONE);
    this.#stoppedReading = true;
    this.#clear();
    this.#error = undefined;
    this.#clearTimer();
    if (wasOpen) this.onReturn?.();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Iterates sync or async iterables alike. */
export function toAsyncIterable<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  if (Symbol.asyncIterator in source) return source;
  return {
    async *[Symbol.asyncIterator]() {
      yield* source;
    },
  };
}

/** An async iterable you write to: the imperative way to feed a client- or bidi-streaming call. */
export interface WritableIterable<T> extends AsyncIterable<T> {
  /** Queues a message for the reader. Throws once the iterable is closed. */
  write(message: T): void;
  /** Ends the iterable: the reader sees the end after the queued messages (the call half-closes). */
  close(): void;
  /** Ends the iterable with an error: the call fails with it and sends nothing more. */
  abort(error: unknown): void;
}

/**
 * Creates a {@link WritableIterable}.
 *
 * @example
 * const requests = createWritableIterable<EchoPayload>();
 * const responses = client.echoStream(requests)[Symbol.asyncIterator]();
 * requests.write({ seq: 1 });
 * console.log(await responses.next());
 * requests.close();
 */
export function createWritableIterable<T>(): WritableIterable<T> {
  const queue = new MessageQueue<T>({
    streamBufferSize: Number.POSITIVE_INFINITY,
    streamBufferBytes: Number.POSITIVE_INFINITY,
  });
  return {
    write(message) {
      if (queue.closed) throw new TtrpcError("ttrpc: write after close", Code.FailedPrecondition);
      queue.push(message);
    },
    close: () => queue.end(),
    abort: (error) =>
      queue.fail(error ?? new TtrpcError("ttrpc: request stream aborted", Code.Canceled)),
    [Symbol.asyncIterator]: () => queue,
  };
}
