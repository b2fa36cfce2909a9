/**
 * The client's calls: a unary call settles one promise, a streaming call feeds a queue of
 * responses and pumps its requests. Both arm the deadline and the caller's signal, and end once.
 * @module
 */
import type { Channel } from "./channel.js";
import { Deadline, type DeadlineOwner } from "./deadline.js";
import { DEBUG, debug } from "./debug.js";
import {
  decodeResponse,
  type Encoded,
  type ResponseEnvelope,
  type StatusEnvelope,
} from "./envelope.js";
import { Code, canceledError, deadlineError, TtrpcError } from "./errors.js";
import { Flag, MessageType } from "./frame.js";
import type { Metadata } from "./metadata.js";
import type { AnyIterable, EngineMethod } from "./method.js";
import { pump } from "./outbound.js";
import { type InboundBudget, MessageQueue, type QueueLimits } from "./queue.js";
import { Stream } from "./stream.js";

/** What a call needs from its connection. */
export interface CallHost {
  readonly channel: Channel;
  readonly limits: QueueLimits;
  /** What the inbound queues of the connection's streams hold together. */
  readonly inbound: InboundBudget;
  /** The connection's number in debug lines. */
  readonly debugId: number;
  /** The call is over: forget its stream. */
  release(call: ClientCall): void;
}

function statusError(status: StatusEnvelope): TtrpcError {
  return new TtrpcError(status.message, status.code, { details: status.details });
}

/** The error for bytes from the server that its codec cannot read. */
export function decodeError(what: string, cause: unknown): TtrpcError {
  return new TtrpcError(
    `ttrpc: error unmarshalling ${what}: ${(cause as Error)?.message ?? cause}`,
    Code.Internal,
    { cause },
  );
}

const scratch: ResponseEnvelope = { status: undefined, payload: Buffer.alloc(0) };

/** Deadline, signal and the request encoded before its stream opens: shared by every call kind. */
export abstract class ClientCall extends Stream implements DeadlineOwner {
  host!: CallHost;
  method!: EngineMethod;
  deadline: Deadline | undefined;
  signal: AbortSignal | undefined;
  /** The message of the final Response. */
  value: unknown;
  /** The encoded request, between encoding and sending. */
  payload: Encoded | undefined;
  /** The request's metadata, between encoding and sending. */
  metadata: Metadata | undefined;
  /** `timeout_nano` as sent. */
  timeoutNano = 0;
  /** The Request frame's data length. */
  length = 0;
  /** Non-zero while the call waits for the write queue to drain: its ticket there. */
  parked = 0;

  protected abstract settle(error: TtrpcError | undefined, value?: unknown): void;

  /**
   * A frame of a type ttrpc does not define, for this call: the peer broke the protocol, and the
   * call fails at once with INTERNAL, as Go's client fails it (instead of waiting forever).
   */
  protected unknownFrame(type: number): void {
    this.fail(
      new TtrpcError(`ttrpc: protocol error: unknown frame type ${type}`, Code.Internal),
      true,
    );
  }

  /**
   * Decodes the final Response: returns its error status, or puts its message in `value`
   * (an empty payload counts as a message only when `decodeEmpty`).
   */
  protected readResponse(
    data: Buffer,
    start: number,
    end: number,
    decodeEmpty: boolean,
  ): TtrpcError | undefined {
    this.remoteClosed = true;
    try {
      // Read at once: one envelope object serves every response.
      const response = decodeResponse(data, start, end, scratch);
      // Go sends no status for OK; Rust sends code 0.
      if (response.status !== undefined && response.status.code !== 0)
        return statusError(response.status);
      if (decodeEmpty || response.payload.length > 0)
        this.value = this.method.output.decode(response.payload);
      return undefined;
    } catch (cause) {
      return decodeError("response", cause);
    }
  }

  /** Arms the deadline and the signal; false if the call is already over. */
  arm(timeoutMs: number | undefined, signal: AbortSignal | undefined): boolean {
    if (signal !== undefined) {
      if (signal.aborted) {
        this.fail(canceledError(signal), true);
        return false;
      }
      this.signal = signal;
      signal.addEventListener("abort", this);
    }
    if (timeoutMs !== undefined && timeoutMs !== Number.POSITIVE_INFINITY) {
      if (Number.isNaN(timeoutMs)) {
        this.fail(new TtrpcError("ttrpc: timeoutMs is NaN", Code.InvalidArgument), true);
        return false;
      }
      if (!(timeoutMs > 0)) {
        this.fail(deadlineError(), true);
        return false;
      }
      this.deadline = new Deadline(timeoutMs, this);
    }
    return true;
  }

  /** The signal's abort listener. */
  handleEvent(): void {
    if (this.signal) this.fail(canceledError(this.signal), true);
  }

  deadlineExpired(): void {
    this.fail(deadlineError(), true);
  }

  fail(error: TtrpcError, _local: boolean): void {
    this.finish(error);
  }

  /** Ends the call once: forgets the stream, disarms deadline and signal, settles. */
  finish(error: TtrpcError | undefined, value?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (DEBUG) {
      const how = error === undefined ? "ended" : `failed: ${error.message}`;
      debug("client conn %d: stream %d %s: %s", this.host.debugId, this.id, this.method.path, how);
    }
    if (this.id !== 0) this.host.release(this);
    this.deadline?.cancel();
    this.signal?.removeEventListener("abort", this);
    this.settle(error, value);
  }
}

/** Unary calls that ended, ready for reuse (they hold no user object). */
const pool: UnaryCall[] = [];
const POOL_SIZE = 64;

/** A unary call: one Request, one Response, one promise. */
export class UnaryCall extends ClientCall {
  resolve: ((value: unknown) => void) | undefined;
  reject: ((error: TtrpcError) => void) | undefined;
  /** `new Promise(call.executor)`: made once per call object, not once per call. */
  readonly executor = (resolve: (value: unknown) => void, reject: (error: TtrpcError) => void) => {
    this.resolve = resolve;
    this.reject = reject;
  };

  /** A call for `method` on `host`: a pooled one when there is one. */
  static obtain(host: CallHost, method: EngineMethod): UnaryCall {
    const call = pool.pop() ?? new UnaryCall();
    call.host = host;
    call.method = method;
    return call;
  }

  /** Puts an ended call back in the pool, cleared of everything it referred to. */
  recycle(): void {
    this.id = 0;
    this.parked = 0;
    this.localClosed = false;
    this.remoteClosed = false;
    this.ended = false;
    this.deadline = undefined;
    this.signal = undefined;
    this.value = undefined;
    this.payload = undefined;
    this.metadata = undefined;
    this.resolve = undefined;
    this.reject = undefined;
    if (pool.length < POOL_SIZE) pool.push(this);
  }

  frame(type: number, _flags: number, data: Buffer, start: number, end: number): void {
    if (type === MessageType.Response) {
      const error = this.readResponse(data, start, end, true);
      this.finish(error, this.value);
    } else if (type === MessageType.Data) {
      this.fail(new TtrpcError("ttrpc: received data on a unary call", Code.Internal), true);
    } else this.unknownFrame(type);
  }

  protected settle(error: TtrpcError | undefined, value?: unknown): void {
    const { resolve, reject } = this;
    // Nothing refers to the call any more: out of the table, timer and listener gone.
    this.recycle();
    if (error) reject?.(error);
    else resolve?.(value);
  }
}

/** A streaming call of any of the three streaming kinds. */
export class StreamCall extends ClientCall {
  /** Received messages (server-streaming and bidi). */
  readonly queue: MessageQueue<unknown> | undefined;
  /** The result of a client-streaming call. */
  resolve: ((value: unknown) => void) | undefined;
  reject: ((error: TtrpcError) => void) | undefined;
  /** The consumer stopped reading responses while requests were still being sent. */
  #abandoned = false;

  constructor(host: CallHost, method: EngineMethod) {
    super();
    this.host = host;
    this.method = method;
    if (method.kind !== "client_streaming") {
      const queue = new MessageQueue<unknown>(host.limits, host.inbound);
      queue.onOverflow = (reason) =>
        this.fail(new TtrpcError(`ttrpc: ${reason}`, Code.ResourceExhausted), true);
      // The consumer stopped reading (`break`): responses are dropped from now on. The request
      // side is its own: it goes on until its iterable ends, and then the half-close goes out,
      // so the server's handler sees the end of its input (PROTOCOL.md, "Abandoned streams").
      queue.onReturn = () => {
        // Not opened yet (waiting for the write queue): it never will be.
        if (this.localClosed || this.id === 0) this.finish(undefined);
        else this.#abandoned = true;
      };
      this.queue = queue;
    }
  }

  frame(type: number, flags: number, data: Buffer, start: number, end: number): void {
    if (type === MessageType.Data) {
      const queue = this.queue;
      if (queue === undefined) {
        this.fail(
          new TtrpcError(
            "ttrpc: received data on a call whose server does not stream",
            Code.Internal,
          ),
          true,
        );
        return;
      }
      if ((flags & Flag.NoData) === 0) {
        let message: unknown;
        try {
          message = this.method.output.decode(data.subarray(start, end));
        } catch (cause) {
          this.fail(decodeError("message", cause), true);
          return;
        }
        queue.push(message, end - start);
      }
      if ((flags & Flag.RemoteClosed) !== 0) {
        this.remoteClosed = true;
        this.finish(undefined);
      }
    } else if (type === MessageType.Response) {
      const error = this.readResponse(data, start, end, this.queue === undefined);
      const value = this.value;
      // A final OK Response may carry one last message (Go decodes it into RecvMsg's target).
      if (this.queue !== undefined && value !== undefined) this.queue.push(value);
      this.finish(error, value);
    } else this.unknownFrame(type);
  }

  override fail(error: TtrpcError, local: boolean): void {
    // A local failure (deadline, cancel, overflow) drops what was buffered; a lost connection
    // lets the reader have what arrived before it.
    if (!this.ended && local) this.queue?.fail(error, true);
    this.finish(error);
  }

  protected settle(error: TtrpcError | undefined, value?: unknown): void {
    if (this.queue !== undefined) {
      if (error) this.queue.fail(error);
      else this.queue.end();
    }
    if (error) this.reject?.(error);
    else this.resolve?.(value);
  }

  /** Sends the request stream, then the half-close; stops as soon as the call is over. */
  async pump(requests: AnyIterable<unknown>): Promise<void> {
    try {
      await pump(this, requests, this.method.input, this.host.channel);
      // Half-closed after the consumer left: nothing more to send or to read.
      if (this.#abandoned) this.finish(undefined);
    } catch (cause) {
      // An oversize message, or the request iterable failed: the call fails with that error and
      // nothing more is sent on the stream.
      this.fail(TtrpcError.from(cause, Code.Canceled), true);
    }
  }
}
